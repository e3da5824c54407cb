"""Schema revisions: the models match the migrations; older registers are backed up and
migrated; newer ones are refused without being touched."""

from __future__ import annotations

import hashlib
import textwrap

import pytest
import sqlalchemy as sa
import sqlcipher3
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import models
from tests.conftest import ADMIN_PASSWORD
from tipdesk import cli
from tipdesk.errors import RegisterTooNew
from tipdesk.vault import migrate
from tipdesk.vault.keyslots import parse_recovery_key
from tipdesk.vault.register import open_register


def test_known_revisions_match_alembic():
    assert migrate.REVISIONS == migrate.alembic_revisions()


def test_models_match_the_migrations():
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        migrate.upgrade(conn)
        ctx = MigrationContext.configure(conn, opts={
            "include_object": migrate.include_object, "compare_type": True})
        diffs = compare_metadata(ctx, models.Base.metadata)
    assert diffs == [], f"models and migrations disagree: {diffs}"


def _raw(created, path):
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{parse_recovery_key(created.recovery_key).hex()}'\"")
    return conn


def test_an_older_register_is_backed_up_then_migrated(created, register_path, tmp_path):
    created.register.close()
    extra = tmp_path / "versions"
    extra.mkdir()
    (extra / "9001_test.py").write_text(textwrap.dedent(f"""
        import sqlalchemy as sa
        from alembic import op
        revision = "9001"
        down_revision = "{migrate.REVISIONS[-1]}"
        branch_labels = None
        depends_on = None
        def upgrade():
            op.create_table("test_extra", sa.Column("id", sa.Integer, primary_key=True))
        def downgrade():
            raise NotImplementedError
    """))
    with open_register(register_path, "admin", ADMIN_PASSWORD, extra_versions=[extra]) as reg:
        with reg.engine.connect() as conn:
            assert migrate.current_revision(conn) == "9001"
            conn.exec_driver_sql("SELECT count(*) FROM test_extra").scalar()
    backups = list(tmp_path.glob(f"office-before-upgrade-{migrate.REVISIONS[-1]}-*.tipdb"))
    assert len(backups) == 1
    conn = _raw(created, backups[0])
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == migrate.REVISIONS[-1]
    assert conn.execute("SELECT count(*) FROM user_account").fetchone()[0] == 1
    conn.close()


def test_bed_reservations_arrive_without_touching_a_waiting_list():
    """0002 adds the held bed to waiting-list entries: an entry of a 0001 register keeps every
    value, holds no bed, and the new rule (a held bed has its nights) holds from then on."""
    from alembic import command

    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.exec_driver_sql("INSERT INTO facility (id, code, name, kind, capacity, child_friendly, active, sexes, "
                             "notes) VALUES (1, 'SH1', 'Shelter', 'Shelter', 4, 0, 1, '[]', '')")
        conn.exec_driver_sql("INSERT INTO bed (id, facility_id, label, active) VALUES (1, 1, 'Room 1', 1)")
        conn.exec_driver_sql("INSERT INTO waiting_list_entry (id, case_id, facility_id, requested_on, note, "
                             "resolved_on, resolution) VALUES (7, 3, 1, '2026-02-01', 'needs a ground floor', NULL, '')")
        migrate.upgrade(conn)
        assert migrate.current_revision(conn) == migrate.REVISIONS[-1]
        row = conn.exec_driver_sql("SELECT id, case_id, facility_id, requested_on, note, resolution, bed_id, "
                                   "held_from, held_until FROM waiting_list_entry").one()
        assert tuple(row) == (7, 3, 1, "2026-02-01", "needs a ground floor", "", None, None, None)
        with pytest.raises(sa.exc.IntegrityError):  # a held bed without its nights
            conn.exec_driver_sql("UPDATE waiting_list_entry SET bed_id = 1, held_from = '2026-03-02', "
                                 "held_until = '2026-03-01'")


def test_a_register_from_a_newer_tipdesk_is_refused_untouched(created, register_path, monkeypatch, capsys):
    created.register.close()
    conn = _raw(created, register_path)
    conn.execute("UPDATE alembic_version SET version_num = 'f00dface'")
    conn.close()
    before = hashlib.sha256(register_path.read_bytes()).hexdigest()
    with pytest.raises(RegisterTooNew):
        open_register(register_path, "admin", ADMIN_PASSWORD)
    monkeypatch.setenv("TIPDESK_PASSWORD", ADMIN_PASSWORD)
    assert cli.main(["check", str(register_path)]) == 5
    assert "newer version" in capsys.readouterr().err
    assert hashlib.sha256(register_path.read_bytes()).hexdigest() == before
