"""Rotation (keep the last N plus one a month for a year, never the only sound backup) and the
backup reminder (never / ok / overdue, a missing USB stick explained)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from models import AuditEvent
from tipdesk.errors import PermissionDenied, UsageError
from tipdesk.security.accounts import add_user
from tipdesk.security.roles import Actor
from tipdesk.vault import backup as backups
from tipdesk.vault.backup import BackupFile, plan_rotation, reminder

UTC = dt.UTC
NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def b(name: str, when: dt.datetime, verifies: bool = True) -> BackupFile:
    return BackupFile(Path(f"/usb/{name}.tipbak"), when, verifies)


def names(files) -> list[str]:
    return [f.path.stem for f in files]


def test_fewer_than_n_backups_are_all_kept():
    backups_ = [b(f"d{i}", NOW - dt.timedelta(days=i)) for i in range(10)]
    plan = plan_rotation(backups_, NOW, keep_last=10)
    assert len(plan.keep) == 10 and plan.delete == ()


def test_daily_backups_for_two_years_keep_ten_recent_and_one_per_month_for_a_year():
    daily = [b(f"d{i:03d}", NOW - dt.timedelta(days=i)) for i in range(730)]
    plan = plan_rotation(daily, NOW, keep_last=10)
    kept = names(plan.keep)
    assert kept[:10] == [f"d{i:03d}" for i in range(10)]
    # One per month (the newest of that month) for June 2026 back to July 2025.
    older = plan.keep[10:]
    months = [(f.created_at.year, f.created_at.month) for f in older]
    assert months == [(2026, 5), (2026, 4), (2026, 3), (2026, 2), (2026, 1), (2025, 12),
                      (2025, 11), (2025, 10), (2025, 9), (2025, 8), (2025, 7)]
    assert all(f.created_at.day == _last_day(f.created_at) for f in older), "newest of each month"
    assert len(plan.keep) == 21 and len(plan.delete) == 730 - 21
    assert not any(f.created_at < dt.datetime(2025, 7, 1, tzinfo=UTC) for f in plan.keep)


def _last_day(moment: dt.datetime) -> int:
    following = (moment.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return (following - dt.timedelta(days=1)).day


def test_several_backups_a_day_keep_the_last_n():
    hourly = [b(f"h{i:02d}", NOW - dt.timedelta(hours=i)) for i in range(30)]
    plan = plan_rotation(hourly, NOW, keep_last=5)
    assert names(plan.keep) == ["h00", "h01", "h02", "h03", "h04"]  # June's newest is h00
    assert len(plan.delete) == 25


def test_the_only_backup_that_verifies_is_never_deleted():
    old_good = b("old-good", NOW - dt.timedelta(days=800))
    broken = [b(f"bad{i}", NOW - dt.timedelta(days=i), verifies=False) for i in range(12)]
    plan = plan_rotation([old_good, *broken], NOW, keep_last=10)
    assert "old-good" in names(plan.keep), "two years old, but the only one that verifies"
    assert "old-good" not in names(plan.delete)
    # With another sound backup kept, the old one may go.
    plan = plan_rotation([old_good, b("new-good", NOW), *broken], NOW, keep_last=10)
    assert "old-good" in names(plan.delete)


def test_keep_last_is_at_least_one_and_order_does_not_matter():
    backups_ = [b("a", NOW - dt.timedelta(days=400)), b("b", NOW - dt.timedelta(days=500))]
    plan = plan_rotation(list(reversed(backups_)), NOW, keep_last=0)
    assert names(plan.keep) == ["a"] and names(plan.delete) == ["b"]


def test_rotation_in_a_folder_removes_only_this_registers_old_backups(reg, tmp_path, monkeypatch):
    dest = tmp_path / "usb"
    dest.mkdir()
    backups.set_preferences(reg, keep_last=2)
    clock = [dt.datetime(2026, 6, 1, 9, 0, tzinfo=UTC)]
    monkeypatch.setattr(backups, "utcnow", lambda: clock[0])
    made = []
    for day in range(1, 5):
        clock[0] = dt.datetime(2026, 6, day, 9, 0, tzinfo=UTC)
        made.append(backups.backup(reg, dest))
    # Things rotation must never touch: another file named like ours but not a backup, a note,
    # and a backup of another register under this register's name.
    (dest / "office-20200101-000000.tipbak").write_bytes(b"not a backup")
    (dest / "notes.txt").write_text("keep me")
    clock[0] = dt.datetime(2026, 6, 9, 9, 0, tzinfo=UTC)
    last = backups.backup(reg, dest)
    present = sorted(p.name for p in dest.iterdir())
    # keep_last=2 → the two newest; all are in June, whose newest is the latest anyway.
    assert last.path.name in present and made[-1].path.name in present
    assert made[0].path.name not in present and made[1].path.name not in present
    assert "office-20200101-000000.tipbak" in present and "notes.txt" in present
    assert made[2].deleted == (made[0].path.name,) and made[3].deleted == (made[1].path.name,)
    assert last.deleted == (made[2].path.name,) and last.kept == 2
    with reg.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "backup_made")
                          .order_by(AuditEvent.id.desc())).first()
    assert sorted(json.loads(event.details)["rotated_out"]) == sorted(last.deleted)


# --- reminders ----------------------------------------------------------------------------------

def test_reminder_states_and_sentences(tmp_path):
    never = reminder(None, "", 7, NOW)
    assert never.state == "never" and "No backup" in never.sentence
    ok = reminder(NOW - dt.timedelta(days=3), str(tmp_path), 7, NOW)
    assert ok.state == "ok" and "3 days ago" in ok.sentence and str(tmp_path) in ok.sentence
    assert ok.destination_problem == ""
    late = reminder(NOW - dt.timedelta(days=8), str(tmp_path), 7, NOW)
    assert late.state == "overdue" and "make a new backup today" in late.sentence
    assert reminder(NOW - dt.timedelta(days=8), "", 10, NOW).state == "ok"
    assert "yesterday" in reminder(NOW - dt.timedelta(hours=30), "", 7, NOW).sentence
    assert "just now" in reminder(NOW, "", 7, NOW).sentence


def test_a_missing_usb_stick_is_explained(tmp_path):
    gone = tmp_path / "STICK" / "tipdesk-backups"
    state = reminder(NOW - dt.timedelta(days=1), str(gone), 7, NOW)
    assert state.state == "ok"
    assert "not there" in state.destination_problem and "plug it in" in state.sentence


def test_reminder_setting_lives_in_the_register_and_reaches_the_start_screen(reg, tmp_path, monkeypatch):
    dest = tmp_path / "usb"
    dest.mkdir()
    backups.set_preferences(reg, remind_after_days=2)
    three_days_ago = dt.datetime.now(UTC) - dt.timedelta(days=3)
    with monkeypatch.context() as m:
        m.setattr(backups, "utcnow", lambda: three_days_ago)
        backups.backup(reg, dest)
    assert backups.status(reg).state == "overdue"
    assert backups.status_before_unlock(reg.path).state == "overdue"
    backups.set_preferences(reg, remind_after_days=7)
    assert backups.status(reg).state == "ok"
    assert backups.status_before_unlock(reg.path).remind_after_days == 7


def test_only_administrators_change_backup_settings(reg):
    add_user(reg, "cw", "caseworker", "cw-password-1")
    reg.actor = Actor(reg.actor.id, "cw", "cw", "caseworker")
    with pytest.raises(PermissionDenied):
        backups.set_preferences(reg, keep_last=3)
    reg.actor = Actor(1, "admin", "Ada Admin", "admin")
    with pytest.raises(UsageError):
        backups.set_preferences(reg, keep_last=0)
    with pytest.raises(UsageError):
        backups.set_preferences(reg, remind_after_days=0)
    prefs = backups.set_preferences(reg, keep_last=3, remind_after_days=14)
    assert (prefs.keep_last, prefs.remind_after_days) == (3, 14)


def test_a_case_worker_may_back_up_an_analyst_may_not(reg, tmp_path):
    dest = tmp_path / "usb"
    dest.mkdir()
    reg.actor = Actor(reg.actor.id, "cw", "cw", "caseworker")
    assert backups.backup(reg, dest).path.exists()
    reg.actor = Actor(reg.actor.id, "an", "an", "analyst")
    with pytest.raises(PermissionDenied):
        backups.backup(reg, dest)
