"""The reader on untrusted files: hostile containers, and every check of "Checks a reader makes"."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from exports.returns import service, spec
from exports.returns.reader import check_file
from tests.returns_data import add_case, add_facility, add_stay, tamper
from tipdesk.counting import parse_period

NOW = dt.datetime(2026, 10, 6, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    """One valid return, made once for the module (tests copy it before changing it)."""
    from tests.conftest import FAST_KDF, OFFICE
    from tipdesk.vault.register import create_register

    folder = tmp_path_factory.mktemp("good")
    created = create_register(folder / "o.tipdb", OFFICE, "admin", "admin-password-1", "Ada", kdf=FAST_KDF)
    reg = created.register
    D = dt.date
    with reg.write() as s:
        sh = add_facility(s, "SH1", "Safe House", 6)
        a = add_case(s, D(2026, 7, 2), gender="Feminine", birth=D(2010, 1, 1), exploitation=["SexualExploitation"],
                     citizenships=["HTI"], scope="Transnational")
        add_case(s, D(2026, 8, 2), gender="Masculine", birth=D(1980, 1, 1), exploitation=["ForcedLabour"],
                 case_statuses=[(D(2026, 9, 1), "Closed")])
        add_case(s, D(2025, 8, 2), gender="Masculine", birth=None)
        add_stay(s, a, sh, D(2026, 7, 2), D(2026, 8, 1), "IndependentLiving")
        add_stay(s, a, sh, D(2026, 9, 2))
    prepared = service.prepare_return(reg, parse_period("2026-Q3"), now=NOW)
    written = service.save_return(reg, prepared, folder / "TIPRETURN_OAS_2026-Q3.xlsx")
    reg.close()
    assert check_file(written.path).ok
    return written.path


def copy(good: Path, tmp_path: Path, name: str = "TIPRETURN_OAS_2026-Q3.xlsx") -> Path:
    target = tmp_path / name
    target.write_bytes(good.read_bytes())
    return target


def problems(path: Path) -> list[str]:
    return [str(p) for p in check_file(path).problems]


def assert_problem(path: Path, needle: str) -> list[str]:
    found = problems(path)
    assert any(needle in p for p in found), found
    return found


def line_ref(path: Path, column: str, row: int = 2) -> str:
    ws = load_workbook(path, read_only=True)[spec.LINELIST]
    header = [c.value for c in next(ws.iter_rows(max_row=1))]
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(header.index(column) + 1)}{row}"


# --- hostile and foreign files -------------------------------------------------------------------


def test_not_a_workbook(tmp_path):
    p = tmp_path / "x.xlsx"
    p.write_bytes(b"hello, this is text")
    assert_problem(p, "not an Excel workbook (.xlsx)")
    p.write_bytes(b"")
    assert_problem(p, "empty")
    assert_problem(tmp_path / "missing.xlsx", "There is no file")


def test_old_xls_and_encrypted_ole_files_are_named(tmp_path):
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    xls = tmp_path / "old.xls"
    xls.write_bytes(ole + "Workbook".encode("utf-16-le") + b"\x00" * 1000)
    assert_problem(xls, "old-style Excel workbook (.xls)")
    enc = tmp_path / "locked.xlsx"
    enc.write_bytes(ole + "EncryptionInfo".encode("utf-16-le") + "EncryptedPackage".encode("utf-16-le"))
    assert_problem(enc, "encrypted or protected with a password")


def test_ods_xlsb_and_macro_workbooks(tmp_path, good):
    ods = tmp_path / "r.ods"
    with zipfile.ZipFile(ods, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<office:document-content/>")
    assert_problem(ods, "OpenDocument spreadsheet (.ods)")
    xlsb = tmp_path / "r.xlsb"
    with zipfile.ZipFile(xlsb, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.bin", b"\x00")
    assert_problem(xlsb, "binary workbook (.xlsb)")
    xlsm = tmp_path / "r.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(xlsm, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/vbaProject.bin", b"\x00" * 10)
    assert_problem(xlsm, "contains macros")


def test_too_large_file_is_not_read(tmp_path):
    big = tmp_path / "big.xlsx"
    with open(big, "wb") as fh:
        fh.write(b"PK\x03\x04")
        fh.truncate(spec.MAX_FILE_BYTES + 1)  # sparse: costs no disk
    assert_problem(big, "a return may be at most 100 MB")


def _rewrite(good: Path, out: Path, change) -> Path:
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = change(item.filename, src.read(item))
            dst.writestr(item.filename, data)
    return out


def test_zip_bomb_by_declared_size(tmp_path, good):
    bomb = tmp_path / "bomb.xlsx"
    data = bytearray(copy(good, tmp_path).read_bytes())
    # Declare a part of 3 GB in the central directory (the reader must refuse before inflating).
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24:cd + 28] = struct.pack("<I", 0xC0000000)
    bomb.write_bytes(bytes(data))
    assert_problem(bomb, "more than 2 GB")


def test_part_inflating_past_its_declared_size(tmp_path, good):
    liar = tmp_path / "liar.xlsx"
    payload = b"<worksheet>" + b" " * 5_000_000 + b"</worksheet>"
    buf = io.BytesIO()
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, payload if item.filename == "xl/worksheets/sheet11.xml" else src.read(item))
    data = bytearray(buf.getvalue())
    name = b"xl/worksheets/sheet11.xml"
    for sig, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local and central headers
        pos = 0
        while (pos := data.find(sig, pos)) >= 0:
            name_at = 30 if sig == b"PK\x03\x04" else 46
            n = struct.unpack("<H", data[pos + 26 if sig == b"PK\x03\x04" else pos + 28:][:2])[0]
            if data[pos + name_at:pos + name_at + n] == name:
                data[pos + size_at:pos + size_at + 4] = struct.pack("<I", 1000)
            pos += 4
    liar.write_bytes(bytes(data))
    assert_problem(liar, "unpacks to more than its declared size")


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/worksheets/sheet1.xml", "docProps/core.xml"])
def test_dtd_or_entity_in_any_part(tmp_path, good, part):
    def change(name: str, data: bytes) -> bytes:
        if name == part:
            return data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY boom "boom">]>', 1) if b"?>" in data[:100] \
                else b'<!DOCTYPE x [<!ENTITY boom "boom">]>' + data
        return data

    evil = _rewrite(good, tmp_path / "dtd.xlsx", change)
    assert_problem(evil, "declares a DTD or entities")


def test_formula_boolean_and_error_cells_in_data_sheets(tmp_path, good):
    def change(name: str, data: bytes) -> bytes:
        if name == "xl/worksheets/sheet2.xml":  # T1_Status
            data = data.replace(b'<c r="N4" s=', b'<c r="N4" s=', 1)
            i = data.find(b'<c r="N4"')
            j = data.find(b"</c>", i) + 4
            data = data[:i] + b'<c r="N4"><f>SUM(B4:M4)</f><v>1</v></c>' + data[j:]
            i = data.find(b'<c r="N5"')
            j = data.find(b"</c>", i) + 4
            data = data[:i] + b'<c r="N5" t="b"><v>1</v></c>' + data[j:]
            i = data.find(b'<c r="N6"')
            j = data.find(b"</c>", i) + 4
            data = data[:i] + b'<c r="N6" t="e"><v>#DIV/0!</v></c>' + data[j:]
        return data

    evil = _rewrite(good, tmp_path / "f.xlsx", change)
    found = problems(evil)
    assert "T1_Status!N4: the cell holds a formula; data sheets hold only text and numbers." in found
    assert any(p.startswith("T1_Status!N5: the cell holds a TRUE/FALSE value") for p in found)
    assert any(p.startswith("T1_Status!N6: the cell holds an error value") for p in found)


def test_a_formula_in_the_cover_is_not_a_data_sheet_problem(tmp_path, good):
    target = copy(good, tmp_path)
    wb = load_workbook(target)
    wb[spec.COVER]["C1"] = "=1+1"
    wb.save(target)
    assert check_file(target).ok


# --- the standard's checks, one by one ------------------------------------------------------------


def test_missing_sheet_and_missing_column(tmp_path, good):
    p = tamper(copy(good, tmp_path), {}, delete_sheets=[spec.T4])
    assert_problem(p, "T4_Identification: the sheet is missing.")
    p = tamper(copy(good, tmp_path), {(spec.LINELIST, line_ref(good, "scope", 1)): "scopes"})
    assert_problem(p, "LineList!1: the column scope is missing")


def test_unknown_schema_version(tmp_path, good):
    p = tamper(copy(good, tmp_path), {(spec.META, "B2"): "2"})
    found = assert_problem(p, "_meta!B2: schema_version 2 is not a version this tipdesk knows")
    assert len(found) == 1


def test_schema_version_may_be_the_number_one(tmp_path, good):
    p = tamper(copy(good, tmp_path), {(spec.META, "B2"): 1})
    assert check_file(p).ok


def test_unknown_picklist_values(tmp_path, good):
    p = tamper(copy(good, tmp_path), {
        (spec.LINELIST, line_ref(good, "status")): "Victim",
        (spec.LINELIST, line_ref(good, "citizenship", 3)): "JAM;XXX",
        (spec.LINELIST, line_ref(good, "exploitation", 2)): "SexualExploitation;Slavery",
    })
    found = problems(p)
    assert f"LineList!{line_ref(good, 'status')}: status 'Victim' is not a value TIP-RETURN/1 allows here." in found
    assert any("citizenship: 'XXX' is not a value" in f for f in found)
    assert any("exploitation: 'Slavery' is not a value" in f for f in found)


def test_malformed_keys(tmp_path, good):
    p = tamper(copy(good, tmp_path), {
        (spec.LINELIST, "A2"): "ABCDEF0123456789",
        (spec.LINELIST, line_ref(good, "person_key")): "abc",
        (spec.STAYS, "A2"): "123",
    })
    found = problems(p)
    assert "LineList!A2: case_key 'ABCDEF0123456789' must be 16 lower-case hex digits." in found
    assert any("person_key 'abc' must be 32 lower-case hex digits" in f for f in found)
    assert "Stays!A2: case_key '123' must be 16 lower-case hex digits." in found


def test_row_order_rules(tmp_path, good):
    wb = load_workbook(good, read_only=True)
    a2, a3 = wb[spec.LINELIST]["A2"].value, wb[spec.LINELIST]["A3"].value
    p = tamper(copy(good, tmp_path), {(spec.LINELIST, "A2"): a3, (spec.LINELIST, "A3"): a2})
    assert_problem(p, "LineList!A3: the rows must be sorted by case_key")
    p = tamper(copy(good, tmp_path), {(spec.T1, "A4"): "ActualVictimOfTrafficking",
                                      (spec.T1, "A5"): "PossibleVictimOfTrafficking"})
    assert_problem(p, "the fixed rows must be, in this order and last")


def test_date_rules(tmp_path, good):
    reg_ref, ident_ref = line_ref(good, "registered"), line_ref(good, "identified_in_period")
    p = tamper(copy(good, tmp_path), {(spec.LINELIST, reg_ref): "2026-10-01", (spec.LINELIST, ident_ref): "N"})
    assert_problem(p, f"LineList!{reg_ref}: registered 2026-10-01 is after the period end 2026-09-30.")
    wb = load_workbook(good, read_only=True)
    flipped = "N" if wb[spec.LINELIST][ident_ref].value == "Y" else "Y"
    p = tamper(copy(good, tmp_path), {(spec.LINELIST, ident_ref): flipped})
    assert_problem(p, f"LineList!{ident_ref}: identified_in_period must be Y exactly when")
    p = tamper(copy(good, tmp_path), {(spec.LINELIST, reg_ref): "2026-02-30"})
    assert_problem(p, "registered '2026-02-30' is not a date written YYYY-MM-DD.")


def test_a_date_cell_is_accepted_as_its_date(tmp_path, good):
    reg_ref = line_ref(good, "registered")
    wb = load_workbook(good, read_only=True)
    text = wb[spec.LINELIST][reg_ref].value
    p = tamper(copy(good, tmp_path), {(spec.LINELIST, reg_ref): dt.datetime.fromisoformat(text)})
    assert check_file(p).ok
    p = tamper(copy(good, tmp_path), {(spec.LINELIST, reg_ref): dt.datetime.fromisoformat(text + "T10:30:00")})
    assert_problem(p, "a date with a time of day")


def test_closed_rules(tmp_path, good):
    wb = load_workbook(good)
    ws = wb[spec.LINELIST]
    header = [c.value for c in next(ws.iter_rows(max_row=1))]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    closed_row = next(i for i, r in enumerate(rows, 2) if r[header.index("closed")])
    open_row = next(i for i, r in enumerate(rows, 2) if not r[header.index("closed")] and r[header.index("identified_in_period")] == "Y")
    ref = line_ref(good, "closed", closed_row)
    p = tamper(copy(good, tmp_path), {(spec.LINELIST, ref): "2026-06-30"})
    assert_problem(p, f"LineList!{ref}: closed 2026-06-30 is outside the period.")
    p = tamper(copy(good, tmp_path), {(spec.LINELIST, ref): "2026-08-01"})
    assert_problem(p, "closed 2026-08-01 is before registered 2026-08-02.")
    ref = line_ref(good, "closed", open_row)
    p = tamper(copy(good, tmp_path), {(spec.LINELIST, ref): "2026-09-01"})
    assert_problem(p, "closed is filled but case_status is Active")


def test_age_and_age_group_must_agree(tmp_path, good):
    ref = line_ref(good, "age", 2)
    wb = load_workbook(good, read_only=True)
    age = wb[spec.LINELIST][ref].value
    new = 30 if age is not None and age < 18 else 12
    p = tamper(copy(good, tmp_path), {(spec.LINELIST, ref): new})
    assert_problem(p, "does not agree with age")


def test_stay_rules(tmp_path, good):
    p = tamper(copy(good, tmp_path), {(spec.STAYS, "C2"): "2026-10-02", (spec.STAYS, "D2"): "2026-10-09"})
    found = problems(p)
    assert "Stays!C2: the stay does not overlap the period." in found
    assert any("Stays!D2: discharged 2026-10-09 is after the return was made (2026-10-06)." == f for f in found)
    p = tamper(copy(good, tmp_path), {(spec.STAYS, "D2"): "2026-07-01"})
    assert_problem(p, "Stays!D2: discharged 2026-07-01 is before admitted 2026-07-02.")
    p = tamper(copy(good, tmp_path), {(spec.STAYS, "B2"): "NOPE"})
    assert_problem(p, "Stays!B2: facility 'NOPE' is not on the Facilities sheet.")


def test_counts_that_disagree(tmp_path, good):
    p = tamper(copy(good, tmp_path), {(spec.META, "B15"): 99, (spec.META, "B16"): 7})
    found = problems(p)
    assert "_meta!B15: line_count is 99 but LineList has 3 rows." in found
    assert "_meta!B16: stay_count is 7 but Stays has 2 rows." in found


def test_a_table_that_disagrees_names_both_numbers(tmp_path, good):
    p = tamper(copy(good, tmp_path), {(spec.T2, "C4"): 5, (spec.T2, "N4"): 5})  # Sexual exploitation
    found = problems(p)
    assert "T2_Exploitation!C4: Sexual exploitation / Female 18+ is 5 but LineList gives 0." in found
    assert "T2_Exploitation!N4: Sexual exploitation / Total is 5 but LineList gives 1." in found
    # 2 July → 1 August: 30 nights; 2 September, still placed: 29 nights to 30 September.
    p = tamper(copy(good, tmp_path), {(spec.T5, "E4"): 4})
    assert_problem(p, "T5_Shelter!E4: SH1 / Bed-nights is 4 but Stays and Facilities give 59.")


def test_tabs_and_line_breaks_are_refused(tmp_path, good):
    p = tamper(copy(good, tmp_path), {(spec.FACILITIES, "B2"): "Safe\tHouse"})
    assert_problem(p, "Facilities!B2: the text holds a tab, line break or other control character.")


def test_every_problem_is_reported_not_only_the_first(tmp_path, good):
    p = tamper(copy(good, tmp_path), {(spec.LINELIST, "A2"): "x", (spec.LINELIST, "A3"): "y",
                                      (spec.STAYS, "A2"): "z"}, fix_digest=False)
    found = problems(p)
    assert len([f for f in found if "must be 16 lower-case hex digits" in f]) == 3
    assert any("the file was changed after it was prepared" in f for f in found)


def test_a_renamed_file_is_valid_with_a_note(tmp_path, good):
    p = copy(good, tmp_path, "return (1).xlsx")
    report = check_file(p)
    assert report.ok and any("TIPRETURN_OAS_2026-Q3.xlsx" in n for n in report.notes)


def test_blank_rows_inside_the_line_list(tmp_path, good):
    edits = {(spec.LINELIST, f"{col}2"): None for col in "ABCDEFGHIJKLMNOPQRSTUVWXY"}
    p = tamper(copy(good, tmp_path), edits)
    found = assert_problem(p, "LineList!2: LineList must have no blank rows.")
    assert not any("line_count" in f for f in found) or any("LineList has 2 rows" in f for f in found)
