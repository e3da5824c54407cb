"""The writer serialises the rows of LineList and Stays itself: byte for byte what openpyxl's
write-only mode writes for the same cells, whatever the text holds."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from openpyxl import Workbook

from exports.returns import writer
from exports.returns.cells import Digest, clean_text

ROWS = [
    ["00004d03c86df157", "616fc25be9f1c5aac9866693b5991f0b", "2025-03-01", "N", 19, None, "Active"],
    ["0003985917cfb179", None, "2025-04-02", "Y", 0, "", "Closed"],
    ["000a", "=HYPERLINK(\"http://x\")", "+1", "-2", "@me", 7, None],  # read as formulas if not neutralised
    ["000b", " leading and trailing ", "tab\there", "line\nbreak", "a & b < c > d", "Zoë Pérez", 12345678901],
    ["000c", "quote \" and apostrophe '", "\x01control", None, None, None, None],
    [None, None, None, None, None, None, None],
    ["000d", 3.5, "x"],  # a float: the general path
]
HEADER = ["case_key", "person_key", "registered", "flag", "count", "note", "status"]


def sheet_data(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    data = xml[xml.index("<sheetData"):xml.index("</sheetData>") + len("</sheetData>")]
    return re.sub(r' s="\d+"', ' s="?"', data)  # style numbers depend on the order styles were made


def test_rows_are_written_as_openpyxl_writes_them(tmp_path: Path) -> None:
    # openpyxl's own way: a cell object per value, neutralised as the writer always did
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("S")
    plain, cells = writer._cells(ws, HEADER, style=writer._HEADER)
    ws.append(cells)
    for row in ROWS:
        values = [clean_text(v) if isinstance(v, str) else v for v in row]
        ws.append([writer._text(ws, v) if isinstance(v, str) else v for v in values])
    wb.save(tmp_path / "openpyxl.xlsx")

    # tipdesk's: rows serialised straight into the part stream
    book = writer._Book(tmp_path)
    ws2 = book.sheet("S")
    ticks: list[int] = []
    writer._write_rows(book, ws2, "Stays", HEADER, [10] * len(HEADER), iter(ROWS), Digest(), ticks.append)
    book.wb.save(str(tmp_path / "tipdesk.xlsx"))

    ours, theirs = sheet_data(tmp_path / "tipdesk.xlsx"), sheet_data(tmp_path / "openpyxl.xlsx")
    assert ours == theirs
    # a text cell with the quote-prefix style, never a formula
    assert '<c r="B4" s="?" t="inlineStr"><is><t>=HYPERLINK("http://x")</t></is></c>' in ours
    assert "<f>" not in ours and '<t xml:space="preserve"> leading and trailing </t>' in ours


def test_the_digest_covers_the_rows_as_written(tmp_path: Path) -> None:
    fast, slow = Digest(), Digest()
    book = writer._Book(tmp_path)
    writer._write_rows(book, book.sheet("S"), "Stays", HEADER, [10] * len(HEADER), iter(ROWS), fast, lambda n: None)
    slow.sheet("Stays")
    slow.row(HEADER)
    for row in ROWS:
        slow.row([clean_text(v) if isinstance(v, str) else v for v in row])
    assert fast.hexdigest() == slow.hexdigest()
    for ws in book.wb.worksheets:  # close the streams before the folder goes
        ws.close()
