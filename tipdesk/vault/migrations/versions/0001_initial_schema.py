"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 16:19:41.338604
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op



revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.Text(), nullable=True),
    sa.Column('details_hash', sa.String(length=64), nullable=False),
    sa.Column('erased_at', sa.String(length=32), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_action', ['action', 'at'], unique=False)
        batch_op.create_index('ix_audit_event_entity', ['entity', 'entity_id'], unique=False)

    op.create_table('case_sequence',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_case_sequence'))
    )
    op.create_table('facility',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('child_friendly', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sexes', sa.Text(), nullable=False),
    sa.Column('min_age', sa.Integer(), nullable=True),
    sa.Column('max_age', sa.Integer(), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.CheckConstraint('capacity >= 0', name=op.f('ck_facility_capacity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_facility')),
    sa.UniqueConstraint('code', name=op.f('uq_facility_code'))
    )
    op.create_table('followup_plan_definition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('months', sa.Text(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_plan_definition')),
    sa.UniqueConstraint('name', name=op.f('uq_followup_plan_definition_name'))
    )
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('org_type', sa.String(length=64), nullable=False),
    sa.Column('country', sa.String(length=3), nullable=True),
    sa.Column('is_self', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('code', name=op.f('uq_organisation_code'))
    )
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('given_names', sa.String(length=200), nullable=False),
    sa.Column('family_names', sa.String(length=200), nullable=False),
    sa.Column('aliases', sa.Text(), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('estimated_age', sa.Integer(), nullable=True),
    sa.Column('age_estimated_on', sa.Date(), nullable=True),
    sa.Column('gender', sa.String(length=32), nullable=False),
    sa.Column('citizenships', sa.Text(), nullable=False),
    sa.Column('languages', sa.Text(), nullable=False),
    sa.Column('identity_number', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('name_key', sa.String(length=400), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.String(length=32), nullable=False),
    sa.CheckConstraint('estimated_age IS NULL OR (estimated_age BETWEEN 0 AND 120)', name=op.f('ck_person_estimated_age')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person'))
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index('ix_person_match', ['birth_date', 'estimated_age', 'age_estimated_on', 'gender', 'name_key'], unique=False)
        batch_op.create_index('ix_person_name_key', ['name_key'], unique=False)

    op.create_table('register_meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_register_meta'))
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('last_login_at', sa.String(length=32), nullable=True),
    sa.Column('revoked_at', sa.String(length=32), nullable=True),
    sa.Column('password_changed_at', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('username', name=op.f('uq_user_account_username'))
    )
    op.create_table('bed',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], name=op.f('fk_bed_facility_id_facility')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bed'))
    )
    with op.batch_alter_table('bed', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bed_facility_id'), ['facility_id'], unique=False)

    op.create_table('case_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_number', sa.String(length=32), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('registration_date', sa.Date(), nullable=False),
    sa.Column('identified_by_org_id', sa.Integer(), nullable=True),
    sa.Column('self_referral', sa.Boolean(), nullable=False),
    sa.Column('age_when_trafficked', sa.Integer(), nullable=True),
    sa.Column('exploitation', sa.Text(), nullable=False),
    sa.Column('labour_industry', sa.String(length=64), nullable=True),
    sa.Column('sex_exploitation', sa.Text(), nullable=False),
    sa.Column('methods_of_control', sa.Text(), nullable=False),
    sa.Column('recruitment_methods', sa.Text(), nullable=False),
    sa.Column('relationship_to_trafficker', sa.String(length=32), nullable=True),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('scope_overridden', sa.Boolean(), nullable=False),
    sa.Column('consent_given', sa.Boolean(), nullable=False),
    sa.Column('consent_services', sa.Boolean(), nullable=False),
    sa.Column('consent_data_sharing', sa.Boolean(), nullable=False),
    sa.Column('consent_referral', sa.Boolean(), nullable=False),
    sa.Column('consent_date', sa.Date(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('police_reference', sa.String(length=64), nullable=False),
    sa.Column('victim_as_witness', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('trafficking_status', sa.String(length=40), nullable=False),
    sa.Column('case_status', sa.String(length=16), nullable=False),
    sa.Column('sex', sa.String(length=8), nullable=False),
    sa.Column('age_at_registration', sa.Integer(), nullable=True),
    sa.Column('age_group', sa.String(length=8), nullable=False),
    sa.Column('expl_sexual', sa.Boolean(), nullable=False),
    sa.Column('expl_labour', sa.Boolean(), nullable=False),
    sa.Column('expl_other', sa.Boolean(), nullable=False),
    sa.Column('next_followup_due', sa.Date(), nullable=True),
    sa.Column('high_risk', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("scope IN ('Domestic','Transnational','Unknown')", name=op.f('ck_case_file_scope')),
    sa.ForeignKeyConstraint(['identified_by_org_id'], ['organisation.id'], name=op.f('fk_case_file_identified_by_org_id_organisation')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_case_file_owner_id_user_account')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_case_file_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_file')),
    sa.UniqueConstraint('case_number', name=op.f('uq_case_file_case_number'))
    )
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.create_index('ix_case_file_case_status', ['case_status'], unique=False)
        batch_op.create_index('ix_case_file_high_risk', ['high_risk', 'next_followup_due'], unique=False)
        batch_op.create_index('ix_case_file_list', ['trafficking_status', 'sex', 'registration_date', 'expl_sexual', 'expl_labour', 'expl_other', 'case_status', 'age_group', 'owner_id'], unique=False)
        batch_op.create_index('ix_case_file_next_followup_due', ['next_followup_due'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_file_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_file_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_case_file_registration_date', ['registration_date', 'trafficking_status', 'case_status', 'sex', 'age_group', 'expl_sexual', 'expl_labour', 'expl_other', 'owner_id', 'age_at_registration', 'next_followup_due', 'case_number'], unique=False)

    op.create_table('draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('saved_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_draft_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draft')),
    sa.UniqueConstraint('user_id', 'kind', 'entity_id', name=op.f('uq_draft_user_id'))
    )
    op.create_table('case_status_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('entered_at', sa.String(length=32), nullable=False),
    sa.Column('entered_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_case_status_entry_case_id_case_file'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entered_by'], ['user_account.id'], name=op.f('fk_case_status_entry_entered_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_status_entry'))
    )
    with op.batch_alter_table('case_status_entry', schema=None) as batch_op:
        batch_op.create_index('ix_cse_case_date', ['case_id', 'effective_date', 'id'], unique=False)

    op.create_table('followup_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_followup_plan_case_id_case_file'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['definition_id'], ['followup_plan_definition.id'], name=op.f('fk_followup_plan_definition_id_followup_plan_definition')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_plan'))
    )
    with op.batch_alter_table('followup_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_plan_case_id'), ['case_id'], unique=False)

    op.create_table('justice_stage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('stage_date', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_justice_stage_case_id_case_file'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_justice_stage'))
    )
    with op.batch_alter_table('justice_stage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_justice_stage_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_justice_stage_date', ['stage_date'], unique=False)

    op.create_table('referral',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=4), nullable=False),
    sa.Column('partner_org_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=48), nullable=True),
    sa.Column('referral_date', sa.Date(), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('outcome_date', sa.Date(), nullable=True),
    sa.CheckConstraint("direction IN ('In','Out')", name=op.f('ck_referral_direction')),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_referral_case_id_case_file'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_org_id'], ['organisation.id'], name=op.f('fk_referral_partner_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral'))
    )
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_referral_date', ['referral_date'], unique=False)

    op.create_table('route_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('country', sa.String(length=3), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('event_date', sa.Date(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_route_event_case_id_case_file'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_route_event'))
    )
    with op.batch_alter_table('route_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_route_event_case_id'), ['case_id'], unique=False)

    op.create_table('screening',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('screened_on', sa.Date(), nullable=False),
    sa.Column('screened_by', sa.Integer(), nullable=True),
    sa.Column('acts', sa.Text(), nullable=False),
    sa.Column('means', sa.Text(), nullable=False),
    sa.Column('purposes', sa.Text(), nullable=False),
    sa.Column('indicators', sa.Text(), nullable=False),
    sa.Column('indicator_weights', sa.Text(), nullable=False),
    sa.Column('indicator_score', sa.Integer(), nullable=False),
    sa.Column('child_at_time', sa.Boolean(), nullable=True),
    sa.Column('suggested_status', sa.String(length=40), nullable=False),
    sa.Column('reasoning', sa.Text(), nullable=False),
    sa.Column('decided_status', sa.String(length=40), nullable=False),
    sa.Column('overridden', sa.Boolean(), nullable=False),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_screening_case_id_case_file'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['screened_by'], ['user_account.id'], name=op.f('fk_screening_screened_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screening'))
    )
    with op.batch_alter_table('screening', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_screening_case_id'), ['case_id'], unique=False)

    op.create_table('service',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('service_type', sa.String(length=40), nullable=False),
    sa.Column('provider_org_id', sa.Integer(), nullable=True),
    sa.Column('objectives', sa.Text(), nullable=False),
    sa.Column('planned_start', sa.Date(), nullable=True),
    sa.Column('planned_end', sa.Date(), nullable=True),
    sa.Column('actual_start', sa.Date(), nullable=True),
    sa.Column('actual_end', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.CheckConstraint('actual_end IS NULL OR actual_start IS NULL OR actual_end >= actual_start', name=op.f('ck_service_dates')),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_service_case_id_case_file'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_org_id'], ['organisation.id'], name=op.f('fk_service_provider_org_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service'))
    )
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.create_index('ix_service_actual', ['actual_end', 'actual_start'], unique=False)
        batch_op.create_index('ix_service_case', ['case_id'], unique=False)

    op.create_table('stay',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('bed_id', sa.Integer(), nullable=True),
    sa.Column('admitted', sa.Date(), nullable=False),
    sa.Column('planned_discharge', sa.Date(), nullable=True),
    sa.Column('discharged', sa.Date(), nullable=True),
    sa.Column('discharge_reason', sa.String(length=40), nullable=True),
    sa.Column('eligibility_override', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.CheckConstraint('discharged IS NULL OR discharged >= admitted', name=op.f('ck_stay_dates')),
    sa.ForeignKeyConstraint(['bed_id'], ['bed.id'], name=op.f('fk_stay_bed_id_bed')),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_stay_case_id_case_file'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], name=op.f('fk_stay_facility_id_facility')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stay'))
    )
    with op.batch_alter_table('stay', schema=None) as batch_op:
        batch_op.create_index('ix_stay_bed_dates', ['bed_id', 'admitted', 'discharged'], unique=False)
        batch_op.create_index('ix_stay_case', ['case_id', 'admitted'], unique=False)
        batch_op.create_index('ix_stay_discharged', ['discharged', 'admitted', 'facility_id', 'bed_id'], unique=False)
        batch_op.create_index('ix_stay_facility_dates', ['facility_id', 'admitted', 'discharged'], unique=False)

    op.create_table('trafficking_status_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('decided_by', sa.String(length=48), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('entered_at', sa.String(length=32), nullable=False),
    sa.Column('entered_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_trafficking_status_entry_case_id_case_file'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entered_by'], ['user_account.id'], name=op.f('fk_trafficking_status_entry_entered_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trafficking_status_entry'))
    )
    with op.batch_alter_table('trafficking_status_entry', schema=None) as batch_op:
        batch_op.create_index('ix_tse_case_date', ['case_id', 'effective_date', 'id'], unique=False)

    op.create_table('waiting_list_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('requested_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('resolved_on', sa.Date(), nullable=True),
    sa.Column('resolution', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_waiting_list_entry_case_id_case_file'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], name=op.f('fk_waiting_list_entry_facility_id_facility')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waiting_list_entry'))
    )
    with op.batch_alter_table('waiting_list_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waiting_list_entry_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_waiting_list_entry_facility_id'), ['facility_id'], unique=False)

    op.create_table('followup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('done_date', sa.Date(), nullable=True),
    sa.Column('cancelled_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=True),
    sa.Column('done_by', sa.Integer(), nullable=True),
    sa.Column('score_economic', sa.Integer(), nullable=True),
    sa.Column('score_social', sa.Integer(), nullable=True),
    sa.Column('score_psychosocial', sa.Integer(), nullable=True),
    sa.Column('risk_level', sa.String(length=8), nullable=True),
    sa.Column('safety_note', sa.Text(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('next_action', sa.Text(), nullable=False),
    sa.CheckConstraint('(score_economic IS NULL OR score_economic BETWEEN 1 AND 5) AND (score_social IS NULL OR score_social BETWEEN 1 AND 5) AND (score_psychosocial IS NULL OR score_psychosocial BETWEEN 1 AND 5)', name=op.f('ck_followup_scores')),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_followup_case_id_case_file'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['done_by'], ['user_account.id'], name=op.f('fk_followup_done_by_user_account')),
    sa.ForeignKeyConstraint(['plan_id'], ['followup_plan.id'], name=op.f('fk_followup_plan_id_followup_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup'))
    )
    with op.batch_alter_table('followup', schema=None) as batch_op:
        batch_op.create_index('ix_followup_case', ['case_id', 'due_date'], unique=False)
        batch_op.create_index('ix_followup_done', ['done_date', 'status', 'due_date', 'cancelled_on', 'case_id'], unique=False)
        batch_op.create_index('ix_followup_plan', ['plan_id'], unique=False)
        batch_op.create_index('ix_followup_queue', ['status', 'due_date', 'id', 'done_date', 'cancelled_on', 'case_id'], unique=False)

    for statement in _SEARCH_INDEX + _AUDIT_GUARDS:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("tipdesk migrates forward only; restore a backup to go back")


# The full-text index of cases (names, aliases, case number, police reference, notes) lives
# inside the encrypted register and is kept current by triggers in the same transaction as the
# data. Accents are folded ("Jose" finds "José"); short prefixes are indexed for instant search.
_CASE_SEARCH_ROW = """
    SELECT c.id, c.case_number,
           p.given_names || ' ' || p.family_names || ' ' ||
               coalesce((SELECT group_concat(value, ' ') FROM json_each(p.aliases)), ''),
           c.police_reference, c.notes
    FROM case_file c JOIN person p ON p.id = c.person_id
"""
_SEARCH_INDEX = [
    """CREATE VIRTUAL TABLE case_search USING fts5(
        case_number, names, refs, notes,
        tokenize = "unicode61 remove_diacritics 2", prefix = '1 2 3'
    )""",
    f"""CREATE TRIGGER case_search_ai AFTER INSERT ON case_file BEGIN
        INSERT INTO case_search(rowid, case_number, names, refs, notes)
        {_CASE_SEARCH_ROW} WHERE c.id = NEW.id;
    END""",
    f"""CREATE TRIGGER case_search_au AFTER UPDATE OF case_number, person_id, police_reference, notes
        ON case_file BEGIN
        DELETE FROM case_search WHERE rowid = OLD.id;
        INSERT INTO case_search(rowid, case_number, names, refs, notes)
        {_CASE_SEARCH_ROW} WHERE c.id = NEW.id;
    END""",
    """CREATE TRIGGER case_search_ad AFTER DELETE ON case_file BEGIN
        DELETE FROM case_search WHERE rowid = OLD.id;
    END""",
    f"""CREATE TRIGGER case_search_person_au AFTER UPDATE OF given_names, family_names, aliases
        ON person BEGIN
        DELETE FROM case_search WHERE rowid IN (SELECT id FROM case_file WHERE person_id = NEW.id);
        INSERT INTO case_search(rowid, case_number, names, refs, notes)
        {_CASE_SEARCH_ROW} WHERE c.person_id = NEW.id;
    END""",
]

# The audit chain is append-only. Only the details of an event may be erased (set to NULL,
# with erased_at), on a lawful request; the chain covers a hash of the details, not the details.
_AUDIT_GUARDS = [
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event BEGIN
        SELECT RAISE(ABORT, 'audit events cannot be deleted');
    END""",
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
        WHEN NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at OR NEW.user_id IS NOT OLD.user_id
          OR NEW.username IS NOT OLD.username OR NEW.action IS NOT OLD.action
          OR NEW.entity IS NOT OLD.entity OR NEW.entity_id IS NOT OLD.entity_id
          OR NEW.details_hash IS NOT OLD.details_hash OR NEW.prev_hash IS NOT OLD.prev_hash
          OR NEW.hash IS NOT OLD.hash
          OR (NEW.details IS NOT NULL AND NEW.details IS NOT OLD.details)
          OR (NEW.details IS NULL AND NEW.erased_at IS NULL)
        BEGIN
        SELECT RAISE(ABORT, 'audit events cannot be changed');
    END""",
]
