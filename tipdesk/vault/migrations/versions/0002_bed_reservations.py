"""bed reservations: a waiting-list entry may hold a bed for some nights

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite cannot add a constraint to a table in place: the batch rebuilds the table (the
    # register is backed up before any upgrade).
    with op.batch_alter_table("waiting_list_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bed_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("held_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("held_until", sa.Date(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_waiting_list_entry_bed_id_bed"), "bed", ["bed_id"], ["id"])
        batch_op.create_check_constraint(
            "held_nights",
            "bed_id IS NULL OR (held_from IS NOT NULL AND held_until IS NOT NULL AND held_until >= held_from)")


def downgrade() -> None:
    raise NotImplementedError("tipdesk migrates forward only; restore a backup to go back")
