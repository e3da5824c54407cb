"""Export → validate → every table equals its recomputation from the line list and a direct count
in the register; a changed cell fails the digest; formula injection; suppressed copies."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from exports.returns import service, spec, tables
from exports.returns.reader import check_file, read_return
from models import Case, CaseStatusEntry, Facility, Stay, TraffickingStatusEntry
from tests.returns_data import add_case, add_facility, add_stay, fill_register
from tipdesk import counting
from tipdesk.counting import parse_period
from tipdesk.errors import InvalidReturn, LocationError

NOW = dt.datetime(2027, 1, 8, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def demo(reg):
    with reg.write() as s:
        fill_register(s, 220, seed=11)
    return reg


def export(reg, folder: Path, period: str = "2026-Q3", **kw):
    prepared = service.prepare_return(reg, parse_period(period), now=NOW)
    return prepared, service.save_return(reg, prepared, folder / spec.file_name("OAS", period), **kw)


def direct_counts(reg, period: counting.Period) -> dict[str, object]:
    """Count straight from the ORM objects by the standard's words (independent of exports/)."""
    out: dict[str, object] = {"in_scope": 0, "t1": Counter(), "victims": 0, "t7_closed": 0}
    with reg.read() as s:
        for case in s.scalars(select(Case)):
            if case.registration_date > period.end:
                continue
            cs = [(e.effective_date, e.id, e.status) for e in s.scalars(
                select(CaseStatusEntry).where(CaseStatusEntry.case_id == case.id))]
            on_eve = counting.status_on(cs, period.start - dt.timedelta(days=1))
            changed = any(counting.status_on(cs, d) != counting.status_on(cs, d - dt.timedelta(days=1))
                          for d in {e[0] for e in cs} if period.start <= d <= period.end)
            identified = period.start <= case.registration_date <= period.end
            if not (identified or on_eve in ("Active", "FollowUp") or changed):
                continue
            out["in_scope"] += 1
            ts = [(e.effective_date, e.id, e.status) for e in s.scalars(
                select(TraffickingStatusEntry).where(TraffickingStatusEntry.case_id == case.id))]
            status = counting.status_on(ts, period.end)
            if identified:
                out["t1"][status] += 1
                out["victims"] += status in ("PossibleVictimOfTrafficking", "ActualVictimOfTrafficking")
            if counting.closure_date(cs, period):
                out["t7_closed"] += 1
        stays = s.execute(select(Stay.admitted, Stay.discharged, Facility.code).join(Facility)).all()
    out["admissions"] = sum(1 for a, _d, _c in stays if period.start <= a <= period.end)
    out["bed_nights"] = sum(counting.bed_nights(a, d if d and d <= NOW.date() else None, period)
                            for a, d, _c in stays if counting.stay_overlaps(a, d, period))
    return out


def test_round_trip_on_a_demo_register(demo, tmp_path):
    prepared, written = export(demo, tmp_path)
    report = check_file(written.path)
    assert report.ok, report.lines()
    ret = report.ret
    assert ret.meta.digest == written.meta.digest and not ret.suppressed
    assert ret.meta.line_count == len(ret.line_list) == len(prepared.line_list) > 50
    # The line list and stays read back are the ones written.
    assert ret.line_list == prepared.line_list
    assert ret.stays == prepared.stays and ret.facilities == prepared.facilities
    # Every table as read equals its recomputation from the sheets read.
    recomputed = tables.all_tables(ret.line_list, ret.stays, ret.facilities, parse_period("2026-Q3"))
    for name in spec.TABLE_SHEETS:
        assert ret.tables[name] == recomputed[name], name
    # …and a direct count in the register.
    direct = direct_counts(demo, parse_period("2026-Q3"))
    assert ret.meta.line_count == direct["in_scope"]
    for status in spec.T1_ROWS[:3]:
        assert ret.tables[spec.T1].value(status, "Total") == direct["t1"][status]
    assert ret.tables[spec.T2].value("Total victims", "Total") == direct["victims"]
    assert ret.tables[spec.T7].value("Closed in period", "Total") == direct["t7_closed"]
    assert ret.tables[spec.T5].value("Total", "Admissions") == direct["admissions"]
    assert ret.tables[spec.T5].value("Total", "Bed-nights") == direct["bed_nights"]
    assert sum(1 for r in ret.line_list if r.identified_in_period) == sum(direct["t1"].values())


def test_a_year_return_round_trips_too(demo, tmp_path):
    _prepared, written = export(demo, tmp_path, "2026")
    assert check_file(written.path).ok


def test_a_changed_cell_fails_the_digest(demo, tmp_path):
    _prepared, written = export(demo, tmp_path)
    wb = load_workbook(written.path)
    ws = wb[spec.T1]
    ws["N4"].value = ws["N4"].value + 1  # PossibleVictim / Total
    wb.save(written.path)
    report = check_file(written.path)
    assert not report.ok
    messages = [str(p) for p in report.problems]
    assert any(m.startswith("_meta!B18: the digest does not match: the file was changed after it was prepared")
               for m in messages), messages
    assert any("T1_Status!N4" in m and "LineList gives" in m for m in messages)


def test_a_changed_line_list_cell_is_caught_by_digest_and_recomputation(demo, tmp_path):
    _prepared, written = export(demo, tmp_path)
    wb = load_workbook(written.path)
    ws = wb[spec.LINELIST]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 4).value == "Y" and ws.cell(r, 7).value == "Female")
    ws.cell(row, 7).value = "Male"
    wb.save(written.path)
    messages = [str(p) for p in check_file(written.path).problems]
    assert any("file was changed after it was prepared" in m for m in messages)
    assert any(m.startswith("T1_Status!") and "but LineList gives" in m for m in messages)


def test_formula_injection_is_neutralised(reg, tmp_path):
    planted = ['=HYPERLINK("http://evil.example","click")', "+1", "-2", "@SUM(A1:A9)", "tab\there\nline"]
    with reg.write() as s:
        from models import Organisation

        office = s.scalars(select(Organisation).where(Organisation.is_self.is_(True))).one()
        office.name = planted[0]
        for i, name in enumerate(planted):
            add_facility(s, f"F{i}", name, 3)
        add_facility(s, "=1+1", "code that looks like a formula", 2)
        case = add_case(s, dt.date(2026, 7, 3), notes=planted[0], family=planted[0])
        add_stay(s, case, s.scalars(select(Facility).where(Facility.code == "F0")).one(), dt.date(2026, 7, 3))
    _prepared, written = export(reg, tmp_path)
    assert check_file(written.path).ok
    # Reopened: every planted value is a text cell with its value unchanged (controls → spaces).
    wb = load_workbook(written.path)
    fac = wb[spec.FACILITIES]
    values = {fac.cell(r, 2).value: fac.cell(r, 2) for r in range(2, fac.max_row + 1)}
    for text in planted[:4]:
        cell = values[text]
        assert cell.data_type == "s" and cell.value == text and cell.quotePrefix, text
    assert "tab here line" in values
    codes = [fac.cell(r, 1) for r in range(2, fac.max_row + 1)]
    assert any(c.value == "=1+1" and c.data_type == "s" and c.quotePrefix for c in codes)
    meta = {r[0].value: r[1] for r in wb[spec.META].iter_rows()}
    assert meta["org_name"].value == planted[0] and meta["org_name"].quotePrefix
    # In the XML: no formula element anywhere, and the planted text sits in inline strings.
    with zipfile.ZipFile(written.path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                xml = zf.read(name).decode()
                assert not re.search(r"<f[ >]", xml), name
        xml = "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/"))
    assert '<t>=HYPERLINK("http://evil.example","click")</t>' in xml
    # The case note and family name are personal data: they are nowhere in the file.
    with zipfile.ZipFile(written.path) as zf:
        everything = b"".join(zf.read(n) for n in zf.namelist())
    assert b"Doe" not in everything and b"Jane" not in everything


def test_no_personal_data_or_temp_files_outside_the_target(reg, tmp_path, monkeypatch):
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    with reg.write() as s:
        fill_register(s, 40, seed=3)
    out = tmp_path / "out"
    out.mkdir()
    _prepared, written = export(reg, out)
    assert list(system_tmp.iterdir()) == []
    assert sorted(p.name for p in out.iterdir()) == [written.path.name]


def test_never_overwrites_silently_and_cancel_leaves_nothing(demo, tmp_path):
    from tipdesk.errors import Cancelled

    prepared, written = export(demo, tmp_path)
    before = written.path.read_bytes()
    with pytest.raises(LocationError, match="already exists"):
        service.save_return(demo, prepared, written.path)
    assert written.path.read_bytes() == before
    again = service.save_return(demo, prepared, written.path, replace_existing=True)
    assert check_file(again.path).ok
    other = tmp_path / "sub"
    other.mkdir()
    calls = iter(range(10**6))
    with pytest.raises(Cancelled):
        service.save_return(demo, prepared, other / "x.xlsx", cancel=lambda: next(calls) > 0)
    assert list(other.iterdir()) == []


def test_suppressed_copy(demo, tmp_path):
    prepared, written = export(demo, tmp_path / ".." / tmp_path.name, suppressed=True)
    report = check_file(written.path)
    assert report.ok and report.suppressed, report.lines()
    assert "suppressed copy for publication" in report.lines()[0]
    wb = load_workbook(written.path)
    assert wb.sheetnames == list(spec.SUPPRESSED_SHEETS)
    full = prepared.tables
    for name in spec.GRID_SHEETS:
        ws = wb[name]
        for r in range(4, ws.max_row + 1):
            category = ws.cell(r, 1).value
            for c, column in enumerate(spec.GRID_COLUMNS, 2):
                value, exact = ws.cell(r, c).value, full[name].value(category, column)
                assert value == ("<5" if 1 <= exact <= 4 else exact), (name, category, column)
    t5 = wb[spec.T5]
    for r in range(4, t5.max_row + 1):
        exact = full[spec.T5].row(t5.cell(r, 1).value)
        assert t5.cell(r, 2).value == exact[0]  # capacity is not a count of people
        for c in range(3, 7):
            assert t5.cell(r, c).value == tables.suppress_count(exact[c - 2])
    with pytest.raises(InvalidReturn) as err:
        read_return(written.path)
    assert "suppressed copy" in str(err.value.problems[-1])
    assert read_return(written.path, for_import=False).suppressed


def test_a_return_with_no_cases_is_valid(reg, tmp_path):
    _prepared, written = export(reg, tmp_path)
    report = check_file(written.path)
    assert report.ok, report.lines()
    assert report.ret.tables[spec.T1].value("Total", "Total") == 0
    assert report.ret.tables[spec.T6].rows == ()


def test_cases_made_by_the_case_services_and_their_derived_columns_agree(reg, tmp_path):
    """Cases created through the real services (tests/factories.py): the return is computed from
    the histories and persons, and agrees with the derived columns the services keep for lists."""
    from tests.factories import add_case as service_case
    from tipdesk.services.statuses import CaseStatusChange, TraffickingStatusChange

    D = dt.date
    made = [
        service_case(reg, registered=D(2026, 7, 1), gender="Masculine", birth_date=D(2009, 7, 2),
                     exploitation=("ForcedLabour", "ChildLabour")),
        service_case(reg, registered=D(2026, 8, 15), citizenships=("VEN",), route=[("Recruitment", "VEN")],
                     status_changes=[TraffickingStatusChange("ActualVictimOfTrafficking", D(2026, 9, 1), "Police")]),
        service_case(reg, registered=D(2025, 3, 1), closed=(D(2026, 8, 20), "Returned home")),
        service_case(reg, registered=D(2025, 3, 2),
                     case_status_changes=[CaseStatusChange("FollowUp", D(2026, 1, 5))]),
    ]
    prepared = service.prepare_return(reg, parse_period("2026-Q3"), now=NOW)
    written = service.save_return(reg, prepared, tmp_path / "TIPRETURN_OAS_2026-Q3.xlsx")
    assert check_file(written.path).ok
    secret = bytes.fromhex(reg.meta("office_secret"))
    from exports.returns.keys import case_key

    rows = {r.case_key: r for r in prepared.line_list}
    assert len(rows) == 4
    with reg.read() as s:
        for detail in made:
            case = s.get(Case, detail.id)
            row = rows[case_key(secret, case.id)]
            assert (row.status, row.case_status, row.sex, row.age_group, row.age, row.scope) == (
                case.trafficking_status, case.case_status, case.sex, case.age_group,
                case.age_at_registration, case.scope)
    closed = rows[case_key(secret, made[2].id)]
    assert (closed.case_status, closed.closed) == ("Closed", D(2026, 8, 20))
    assert rows[case_key(secret, made[0].id)].age_group == "0-17"  # 17 at registration, 18 the next day
    assert rows[case_key(secret, made[1].id)].person_key == ""  # consent given, but no linkage key set


def test_table_headers_are_tall_enough_for_their_wrapped_titles(demo, tmp_path):
    """A printed table shows every header line: "Unknown sex age unknown" wraps to three."""
    _prepared, written = export(demo, tmp_path)
    wb = load_workbook(written.path)
    three_lines = wb[spec.T1].row_dimensions[3].height
    assert wb[spec.T1]["M3"].value == "Unknown sex age unknown"
    assert three_lines >= 3 * 15  # a bold 10-point line is about 13–15 points high
