"""The Returns page, driven through the real widgets offscreen: the period picker, the headline
figures before saving, saving (and cancelling) with a progress dialog, the returns prepared
before, and checking a valid, a tampered and a foreign file."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QFileDialog, QProgressDialog
from sqlalchemy import select

from exports.returns import service
from models import AuditEvent
from tests.conftest import ADMIN_PASSWORD
from tests.factories import acting_as
from tests.returns_data import fill_register, tamper
from tests.ui_helpers import main_window, submit_login
from tipdesk.counting import last_complete_quarter
from tipdesk.vault.register import open_register

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore(r"This plugin does not support .*"),
]

QUARTER = last_complete_quarter(dt.date.today())


@pytest.fixture
def register_with_returns_data(reg) -> Path:
    with reg.write() as s:
        fill_register(s, 120, seed=3, start=QUARTER.start - dt.timedelta(days=400), end=QUARTER.end)
    with acting_as(reg, "auditor"):
        pass
    path = reg.path
    reg.close()
    return path


@pytest.fixture
def window(qtbot, register_with_returns_data):
    with main_window(qtbot, register_with_returns_data) as win:
        yield win


def sign_in(qtbot, win, user: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    submit_login(qtbot, win, user, password)


def returns_page(qtbot, win):
    sign_in(qtbot, win)
    win.go("returns")
    page = win.pages["returns"]
    qtbot.waitUntil(lambda: page.prepared is not None, timeout=20_000)
    return page


def figures(page) -> dict[str, str]:
    t = page.figures
    return {t.item(r, 0).text(): t.item(r, 1).text() for r in range(t.rowCount())}


def export_events(path: Path) -> list[dict]:
    reg = open_register(path, "admin", ADMIN_PASSWORD, via="check")
    try:
        with reg.read() as s:
            return [json.loads(d) for d in s.scalars(
                select(AuditEvent.details).where(AuditEvent.action == "return_exported").order_by(AuditEvent.id))]
    finally:
        reg.close()


def test_the_last_complete_quarter_is_prepared_and_shown_before_anything_is_saved(
        qtbot, window, register_with_returns_data):
    page = returns_page(qtbot, window)
    assert page.period.currentData() == QUARTER.code
    assert page.prepared_for == QUARTER.code
    shown = figures(page)
    expected = dict(page.prepared.headline())
    assert shown["Cases in this return (line list rows)"] == f"{expected['Cases in this return (line list rows)']:,}"
    assert int(shown["Cases identified in the period"].replace(",", "")) > 0
    assert "Nothing has been saved yet" in page.figures_note.text()
    assert page.save_button.isEnabled() and page.copy_button.isEnabled()
    assert export_events(register_with_returns_data) == []  # a preview is not an export
    # a year: the last complete one
    page.kind.setCurrentIndex(page.kind.findData("year"))
    last_year = str(dt.date.today().year - 1)
    assert page.period.currentData() == last_year
    qtbot.waitUntil(lambda: page.prepared_for == last_year, timeout=20_000)
    assert page.prepared.meta.period == last_year
    # a newer choice wins over one still being prepared
    page.set_period(QUARTER.previous().code)
    page.set_period(QUARTER.code)
    qtbot.waitUntil(lambda: page.prepared_for == QUARTER.code, timeout=20_000)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=20_000)
    assert page.prepared_for == QUARTER.code


def test_save_return_writes_a_valid_file_and_lists_it_among_those_prepared_before(
        qtbot, window, register_with_returns_data, tmp_path):
    page = returns_page(qtbot, window)
    page.folder = tmp_path
    assert page.history_empty.isVisible()
    page.save_button.click()
    dialog = page.file_dialog
    assert isinstance(dialog, QFileDialog) and dialog.isVisible()
    assert dialog.selectedFiles()[0].endswith(f"TIPRETURN_OAS_{QUARTER.code}.xlsx")  # the standard's name
    dialog.accept()
    target = tmp_path / f"TIPRETURN_OAS_{QUARTER.code}.xlsx"
    qtbot.waitUntil(lambda: page.last_saved == target, timeout=20_000)
    assert f"The return of {QUARTER.code} was saved as {target}." == page.save_message.text()
    report = service.check_return_file(target)
    assert report.ok and not report.suppressed
    qtbot.waitUntil(lambda: page.history_model.rowCount() == 1, timeout=5000)
    model = page.history_model
    row = [model.data(model.index(0, c)) for c in range(model.columnCount())]
    assert row[1:5] == ["admin", QUARTER.code, "full return", f"{report.ret.meta.line_count:,}"]
    assert row[5] == target.name and row[6] == str(tmp_path)
    # the publication copy, beside it under its own name
    page.save_to(tmp_path / "copy.xlsx", suppressed=True)
    qtbot.waitUntil(lambda: page.last_saved == tmp_path / "copy.xlsx", timeout=20_000)
    assert service.check_return_file(tmp_path / "copy.xlsx").suppressed
    qtbot.waitUntil(lambda: page.history_model.rowCount() == 2, timeout=5000)
    assert page.history_model.data(page.history_model.index(0, 3)) == "publication copy"
    assert [(e["period"], e["suppressed"]) for e in export_events(register_with_returns_data)] == [
        (QUARTER.code, False), (QUARTER.code, True)]


def test_cancelling_the_save_leaves_no_file_and_no_export(qtbot, window, register_with_returns_data, tmp_path):
    page = returns_page(qtbot, window)
    runner = window.runner
    # Keep both workers busy, so that the save waits in the queue while Cancel is pressed.
    release = threading.Event()
    for _ in range(runner.pool.maxThreadCount()):
        runner.run(lambda _p: release.wait(10))
    page.save_progress_delay_ms = 0
    out = tmp_path / "out"
    out.mkdir()
    target = out / "cancelled.xlsx"
    page.save_to(target)
    progress = None

    def dialog_shown() -> bool:
        nonlocal progress
        progress = next((d for d in page.findChildren(QProgressDialog) if d.isVisible()), None)
        return progress is not None

    qtbot.waitUntil(dialog_shown, timeout=5000)
    assert progress.labelText() == "Saving the return…"
    cancel = next(b for b in progress.findChildren(type(page.save_button)) if b.text() == "Cancel")
    cancel.click()
    release.set()
    qtbot.waitUntil(lambda: page.save_handle is None, timeout=20_000)
    assert page.save_message.text() == "Saving was cancelled. Nothing was saved."
    assert not target.exists() and list(out.iterdir()) == []  # no half file, no part folder
    assert page.save_button.isEnabled()
    assert export_events(register_with_returns_data) == []


def test_checking_a_valid_a_suppressed_a_tampered_and_a_foreign_file(qtbot, window, tmp_path):
    page = returns_page(qtbot, window)
    reg = window.reg
    good = service.save_return(reg, page.prepared, tmp_path / f"TIPRETURN_OAS_{QUARTER.code}.xlsx")
    page.check(good.path)
    qtbot.waitUntil(lambda: page.check_button.isEnabled(), timeout=20_000)
    assert page.verdict.text().startswith(f"{good.path.name}: valid TIP-RETURN/1 file, a full return")
    assert not page.problems.isVisible()

    copy = service.save_return(reg, page.prepared, tmp_path / "copy.xlsx", suppressed=True)
    page.check(copy.path)
    qtbot.waitUntil(lambda: page.check_button.isEnabled(), timeout=20_000)
    assert "a suppressed copy for publication" in page.verdict.text()
    lines = [page.problems.item(i).text() for i in range(page.problems.count())]
    assert any(line.startswith("Note: the file name is copy.xlsx") for line in lines)

    total_cell = page.prepared.tables["T1_Status"]
    changed = tamper(good.path, {("T1_Status", "B4"): 999}, fix_digest=False, out=tmp_path / "changed.xlsx")
    page.check(changed)
    qtbot.waitUntil(lambda: page.check_button.isEnabled(), timeout=20_000)
    assert page.verdict.text().startswith("changed.xlsx: NOT valid")
    lines = [page.problems.item(i).text() for i in range(page.problems.count())]
    assert any(line.startswith("_meta!B") and "the file was changed after it was prepared" in line for line in lines)
    assert any(line.startswith("T1_Status!B4: ") and "999" in line for line in lines)
    assert total_cell is not None

    foreign = tmp_path / "notes.xlsx"
    foreign.write_text("not a workbook")
    page.choose_file_to_check()
    dialog = page.file_dialog
    dialog.selectFile(str(foreign))
    dialog.accept()
    qtbot.waitUntil(lambda: page.verdict.text().startswith("notes.xlsx: NOT valid"), timeout=20_000)
    assert page.problems.count() >= 1 and page.problems.isVisible()


def test_only_roles_that_may_prepare_returns_see_the_page(qtbot, window):
    sign_in(qtbot, window, "auditoruser", "role-password-1")
    assert "returns" not in window.specs
    labels = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert "Returns" not in labels and "Cases" in labels


def test_returns_model_passes_the_model_tester(qtmodeltester, reg, tmp_path):
    from ui.pages.returns import prepared_returns_model

    with reg.write() as s:
        fill_register(s, 20, seed=1, start=QUARTER.start, end=QUARTER.end)
    service.export_return(reg, QUARTER, tmp_path / "a.xlsx")
    service.export_return(reg, QUARTER, tmp_path / "b.xlsx", suppressed=True)
    model = prepared_returns_model()
    model.set_rows(service.prepared_returns(reg))
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 2 and model.data(model.index(0, 3)) == "publication copy"
    assert QApplication.instance() is not None
