"""Write a prepared return as a TIP-RETURN/1 workbook (openpyxl, write-only mode).

Safety of the file itself:
- every text cell goes through ``cells.clean_text`` (tabs and line breaks become spaces) and, when
  it begins with ``=``, ``+``, ``-`` or ``@``, is written as a text cell with the quote-prefix style;
- the workbook is built in a private folder inside the target folder (openpyxl's write-only mode
  streams each sheet to a part file; by default it would put those in the system's temp folder),
  then moved into place in one rename, so a crash or a full disk never leaves a half file, and
  an existing file is never replaced unless the caller asks for it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.compat import safe_string
from openpyxl.worksheet._writer import ALL_TEMP_FILES, WorksheetWriter
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import tostring

from exports.returns import spec, tables
from exports.returns.cells import Digest, clean_text, needs_quote_prefix
from exports.returns.prepare import CancelCheck, PreparedReturn, Progress
from exports.returns.spec import FORMULA_STARTS, ReturnMeta, Table
from tipdesk.errors import Cancelled, LocationError
from tipdesk.vault import files

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
TITLE_FONT = Font(bold=True, size=13)
COVER_TITLE_FONT = Font(bold=True, size=16)
SECTION_FONT = Font(bold=True, size=12, color="1F3864")
THIN = Side(style="thin", color="9AA5B1")
HEADER_BORDER = Border(bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
HEADER_ALIGN = Alignment(wrap_text=True, vertical="bottom", horizontal="center")
RIGHT = Alignment(horizontal="right")
TOP = Alignment(vertical="top")
INDENTED = Alignment(vertical="top", indent=2)
COUNT_FORMAT = "#,##0"
AVERAGE_FORMAT = "0.0"


@dataclass(frozen=True)
class WrittenReturn:
    path: Path
    meta: ReturnMeta  # with its digest


class _PartWriter(WorksheetWriter):
    """openpyxl's sheet streamer, writing its part file where we say (not the system temp)."""

    def __init__(self, ws: object, out: str) -> None:
        super().__init__(ws, out)
        ALL_TEMP_FILES.append(out)  # WorksheetWriter.cleanup() removes it from this list


class _RowsPartWriter(_PartWriter):
    """The part writer of the big data sheets (LineList, Stays).

    The sheet's layout elements before and after the rows are openpyxl's own (``to_tree`` of
    its sheet properties, views, columns, margins, page setup, header and footer), written in
    openpyxl's order; the rows in between are serialised here, straight into the part file.
    openpyxl's write-only mode turns every value into a cell object and an element tree before
    writing it, which made writing the cells several times slower than computing the return.
    Only plain values go this way (text, whole numbers, empty), each as openpyxl would write it:
    text as an inline string, a leading ``=``, ``+``, ``-`` or ``@`` with the quote-prefix style.
    """

    def get_stream(self):  # the generator protocol of WorksheetWriter.get_stream
        with open(self.out, "wb") as fh:
            self._fh = fh
            fh.write(b'<worksheet xmlns="' + SHEET_MAIN_NS.encode() + b'">')
            try:
                while True:
                    el = (yield)
                    if el is True:
                        yield None  # rows are written by write_sheet_data, not through a stream
                    elif el is not None:
                        fh.write(tostring(el))
            except GeneratorExit:
                pass
            fh.write(b"</worksheet>")
        self._fh = None

    _rows_written = False

    def write_sheet_data(self, rows: Iterable[bytes]) -> None:
        """Write ``<sheetData>`` with rows already serialised (``_row_xml``)."""
        write = self._fh.write
        write(b"<sheetData>")
        for row in rows:
            write(row)
        write(b"</sheetData>")
        self._rows_written = True

    def write_rows(self) -> None:  # called by WriteOnlyWorksheet.close() when nothing was appended
        if not self._rows_written:
            self._fh.write(b"<sheetData/>")


_XML_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _row_xml(row_no: int, values: Sequence[object], letters: Sequence[str], quote_style: int,
             style: int | None = None, row_attrs: str = "") -> bytes:
    """One ``<row>`` of plain values, as openpyxl's write-only mode writes it (None left out)."""
    r = str(row_no)
    s_attr = f' s="{style}"' if style is not None else ""
    out = [f'<row r="{r}"{row_attrs}>']
    for i, v in enumerate(values):
        if v is None:
            continue
        kind = type(v)
        if v == "":  # openpyxl writes an empty text as an empty inline-string cell
            out.append(f'<c r="{letters[i]}{r}"{s_attr} t="inlineStr" />')
        elif kind is str:
            space = ' xml:space="preserve"' if v != v.strip() else ""
            s = f' s="{quote_style}"' if needs_quote_prefix(v) else s_attr
            out.append(f'<c r="{letters[i]}{r}"{s} t="inlineStr"><is><t{space}>{v.translate(_XML_TEXT)}</t></is></c>')
        elif kind is int or kind is float:
            out.append(f'<c r="{letters[i]}{r}"{s_attr} t="n"><v>{safe_string(v)}</v></c>')
        else:
            raise TypeError(f"a data sheet holds text and numbers only, not {kind.__name__}")
    out.append("</row>")
    return "".join(out).encode()


class _Book:
    """A write-only workbook whose sheets stream into a private parts folder."""

    def __init__(self, parts: Path) -> None:
        self.wb = Workbook(write_only=True)
        self.parts = parts
        self._n = 0

    def sheet(self, title: str):  # -> WriteOnlyWorksheet
        return self.wb.create_sheet(title)

    def start(self, ws, freeze: str | None, widths: Sequence[float], title_rows: str | None, *,
              fit_width: bool = True, portrait: bool = False, title_cols: str | None = None,
              heights: dict[int, float] | None = None, rows_here: bool = False) -> None:
        """Apply the sheet's layout, then open its stream (layout must come before rows)."""
        for i, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = width
        for row, height in (heights or {}).items():
            ws.row_dimensions[row].height = height
        if freeze:
            ws.freeze_panes = freeze
        ws.page_setup.orientation = "portrait" if portrait else "landscape"
        ws.page_setup.paperSize = 9  # A4
        if fit_width:
            ws.page_setup.fitToWidth = 1
            ws.page_setup.fitToHeight = 1 if portrait else 0
            ws.sheet_properties.pageSetUpPr.fitToPage = True
        else:
            ws.page_setup.scale = 75
        if title_cols:
            ws.print_title_cols = title_cols
        ws.print_options.gridLines = False
        ws.page_margins.left = ws.page_margins.right = 0.5
        ws.page_margins.top = ws.page_margins.bottom = 0.6
        ws.oddFooter.left.text = "&A"
        ws.oddFooter.right.text = "Page &P of &N"
        if title_rows:
            ws.print_title_rows = title_rows
        self._n += 1
        writer = _RowsPartWriter if rows_here else _PartWriter
        ws._writer = writer(ws, str(self.parts / f"part{self._n}.xml"))
        ws._writer.write_top()


def _text(ws, value: str, style: dict | None = None) -> object:
    """A neutralised text cell: quote-prefixed text when it would read as a formula."""
    if needs_quote_prefix(value) or style:
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"  # openpyxl would take a leading "=" for a formula
        if needs_quote_prefix(value):
            cell.quotePrefix = True
        for key, v in (style or {}).items():
            setattr(cell, key, v)
        return cell
    return value


def safe_value(value: object) -> object:
    """The value as written: text cleaned of tabs and line breaks; anything else unchanged."""
    return clean_text(value) if isinstance(value, str) else value


def _cells(ws, values: Iterable[object], style: dict | None = None,
           number_style: dict | None = None) -> tuple[list[object], list[object]]:
    """(values for the digest, cells for the sheet)."""
    plain: list[object] = []
    out: list[object] = []
    for value in values:
        value = safe_value(value)
        plain.append(value)
        if isinstance(value, str):
            out.append(_text(ws, value, style))
        elif value is not None and (style or number_style):
            cell = WriteOnlyCell(ws, value=value)
            for key, v in {**(style or {}), **(number_style or {})}.items():
                setattr(cell, key, v)
            out.append(cell)
        else:
            out.append(value)
    return plain, out


_HEADER = {"font": HEADER_FONT, "fill": HEADER_FILL, "border": HEADER_BORDER, "alignment": HEADER_ALIGN}


def _wrapped_lines(text: str, width: float) -> int:
    """How many lines a bold header of ``text`` takes in a column ``width`` characters wide.

    Row heights must be set before the rows stream out, and no spreadsheet grows a row for
    wrapped text on its own when the height is set, so the header row is sized by wrapping the
    words greedily (a bold character is a little wider than the width unit: one unit spare).
    """
    room = max(1, int(width) - 1)
    lines, used = 1, 0
    for word in text.split():
        need = len(word) if used == 0 else used + 1 + len(word)
        if need <= room or used == 0:
            used = need
        else:
            lines, used = lines + 1, len(word)
    return lines


def _write_table(book: _Book, ws, table: Table, meta: ReturnMeta, digest: Digest) -> None:
    widths = [36] + [11.5] * len(table.columns)
    if table.sheet == spec.T5:
        widths = [30, 10, 12, 12, 12, 14, 16]
    header_lines = max(_wrapped_lines(text, width) for text, width in
                       zip([spec.CATEGORY, *table.columns], widths))
    book.start(ws, "B4", widths, "3:3", heights={3: 16 * max(2, header_lines)})
    title = f"{table.title} — {meta.org_code}, {meta.period}"
    ws.append([_text(ws, clean_text(title), {"font": TITLE_FONT})])
    ws.append([])
    digest.sheet(table.sheet)
    plain, cells = _cells(ws, [spec.CATEGORY, *table.columns], style=_HEADER)
    digest.row(plain)
    ws.append(cells)
    for category, values in table.rows:
        row_plain = [safe_value(category)]
        row_cells: list[object] = [_text(ws, safe_value(category), {"font": HEADER_FONT} if category in (spec.TOTAL, "Total victims") else None)]
        for column, value in zip(table.columns, values, strict=True):
            row_plain.append(value)
            if value is None:
                row_cells.append(None)
            elif isinstance(value, str):  # "<5"
                row_cells.append(_text(ws, value, {"alignment": RIGHT}))
            else:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = AVERAGE_FORMAT if column == spec.AVERAGE_COLUMN else COUNT_FORMAT
                if category in (spec.TOTAL, "Total victims") or column == spec.TOTAL:
                    cell.font = HEADER_FONT
                row_cells.append(cell)
        digest.row(row_plain)
        ws.append(row_cells)


def _style_id(ws, **style: object) -> int:
    """The workbook's id of a cell style (registered with the workbook on first use)."""
    cell = WriteOnlyCell(ws, value="")
    for key, value in style.items():
        setattr(cell, key, value)
    return cell.style_id


def _write_rows(book: _Book, ws, sheet: str, columns: Sequence[str], widths: Sequence[float],
                rows: Iterable[Sequence[object]], digest: Digest, tick: callable, *, wide: bool = False) -> None:
    # The line list is too wide for one page: print it at a readable size, case_key on every page.
    heights = {1: 32} if wide else None
    book.start(ws, "B2" if wide else "A2", widths, "1:1", fit_width=not wide,
               title_cols="A:A" if wide else None, heights=heights, rows_here=True)
    digest.sheet(sheet)
    letters = [get_column_letter(i) for i in range(1, len(columns) + 1)]
    header_style = _style_id(ws, **_HEADER)
    quote_style = _style_id(ws, quotePrefix=True)
    header = [clean_text(c) for c in columns]
    digest.row(header)

    def serialised():  # noqa: ANN202
        attrs = ' ht="32" customHeight="1"' if heights else ""
        yield _row_xml(1, header, letters, quote_style, header_style, attrs)
        yield from _data_rows(rows, letters, quote_style, digest, tick)

    ws._writer.write_sheet_data(serialised())


def _data_rows(rows: Iterable[Sequence[object]], letters: Sequence[str], quote_style: int,
               digest: Digest, tick) -> Iterator[bytes]:  # noqa: ANN001
    """Rows 2… of a data sheet as XML, each fed to the digest exactly as written.

    Up to 500,000 rows: the common row (text in printable ASCII without spaces or ``&<>``,
    none starting like a formula, whole numbers, empty cells) is written in one pass; any other
    row takes the general path (``clean_text``, ``_row_xml``), which gives the same result.
    """
    starts = tuple(f'<c r="{letter}' for letter in letters)
    plain_text = _PLAIN_ROW_TEXT.fullmatch
    for i, values in enumerate(rows):
        row_no = i + 2
        texts = [v for v in values if type(v) is str]
        if (not plain_text("".join(texts)) or any(t[:1] in _FORMULA_FIRST for t in texts)
                or len(texts) + sum(1 for v in values if v is None or type(v) is int) != len(values)):
            plain_values = [clean_text(v) if isinstance(v, str) else v for v in values]
            digest.row(plain_values)
            yield _row_xml(row_no, plain_values, letters, quote_style)
        else:
            r = str(row_no)
            canon: list[str] = []
            out = [f'<row r="{r}">']
            for start, v in zip(starts, values):
                if v is None:
                    canon.append("")
                elif type(v) is str:
                    canon.append(v)
                    if v:
                        out.append(f'{start}{r}" t="inlineStr"><is><t>{v}</t></is></c>')
                    else:
                        out.append(f'{start}{r}" t="inlineStr" />')
                else:
                    text = str(v)
                    canon.append(text)
                    out.append(f'{start}{r}" t="n"><v>{text}</v></c>')
            out.append("</row>")
            while canon and canon[-1] == "":
                canon.pop()
            if canon:
                digest.update_text("\t".join(canon) + "\n")
            yield "".join(out).encode()
        if i % 2000 == 1999:
            tick(i + 1)


# Text a row may hold for the one-pass path: printable ASCII without space, & < >.
_PLAIN_ROW_TEXT = re.compile(r"[!-%'-;=?-~]*")
_FORMULA_FIRST = frozenset(FORMULA_STARTS)


LINE_WIDTHS = {
    "case_key": 18, "person_key": 34, "registered": 11.5, "identified_in_period": 10, "status": 28,
    "status_decided_by": 18, "sex": 9, "age_group": 11, "age": 6, "citizenship": 12, "scope": 13,
    "exploitation": 30, "labour_industry": 24, "sex_exploitation": 20, "methods_of_control": 30,
    "relationship_to_trafficker": 14, "identified_by": 22, "services_in_period": 28,
    "followups_due": 9, "followups_done": 9, "followups_overdue": 9, "active_followup": 9,
    "justice_in_period": 28, "case_status": 13, "closed": 11.5,
}


def _write_meta(book: _Book, ws, meta: ReturnMeta, digest: Digest) -> ReturnMeta:
    book.start(ws, None, [20, 70], None)
    digest.sheet(spec.META)
    rows = meta.rows()
    for key, value in rows[:-1]:
        plain, cells = _cells(ws, [key, value])
        digest.row(plain)
        ws.append(cells)
    meta = replace(meta, digest=digest.hexdigest())
    ws.append([spec.META_KEYS[-1], meta.digest])
    return meta


def _fmt(value: spec.Value) -> object:
    return "—" if value is None else value


COVER_WIDTHS = (42, 78)
_COVER_CHARS = 100  # characters of the value column per printed line (wrap estimate)


def _write_cover(book: _Book, ws, prepared: PreparedReturn, meta: ReturnMeta, table_map: dict[str, Table]) -> None:
    period = prepared.period
    bold = {"font": HEADER_FONT}
    lines: list[tuple[str, object, dict | None, dict | None]] = []

    def line(label: str, value: object = None, style: dict | None = None, value_style: dict | None = None) -> None:
        lines.append((label, value, style, value_style))

    _cover_lines(line, prepared, meta, table_map, period, bold)
    # Row heights must be known before the rows stream out (wrapped text does not grow rows on
    # its own in every program).
    heights = {}
    for i, (_label, value, _s, _v) in enumerate(lines, 1):
        if isinstance(value, str) and len(value) > _COVER_CHARS:
            heights[i] = 15 * (len(value) // _COVER_CHARS + 1)
    book.start(ws, None, COVER_WIDTHS, None, portrait=True, heights=heights)
    for label, value, style, value_style in lines:
        label_style = {"alignment": INDENTED if label.startswith("of which") else TOP, **(style or {})}
        cells: list[object] = [_text(ws, clean_text(label), label_style) if label else None]
        if isinstance(value, str):
            cells.append(_text(ws, clean_text(value), {"alignment": WRAP, **(value_style or {})}))
        elif value is not None:
            cell = WriteOnlyCell(ws, value=value)
            cell.number_format = COUNT_FORMAT
            cell.alignment = Alignment(horizontal="left")
            cells.append(cell)
        ws.append(cells)


def _cover_lines(line, prepared: PreparedReturn, meta: ReturnMeta, table_map: dict[str, Table], period, bold) -> None:
    line("Return on trafficking in persons cases", None, {"font": COVER_TITLE_FONT})
    line(f"{meta.org_name} ({meta.org_code}) — {period_label(period)}", None, {"font": SECTION_FONT})
    line("")
    if meta.suppressed:
        line("Copy for publication", "Suppressed copy: every count from 1 to 4 is shown as <5. It holds no line "
             "list and no stays, and cannot be imported by the secretariat.", bold)
    else:
        line("Confidential", "For the national secretariat only. The line list is de-identified but describes "
             "real victims of crime: keep this file as safely as the register itself and do not publish it "
             "(make a suppressed copy for publication).", bold)
    line("")
    line("About this return", None, {"font": SECTION_FONT})
    line("Office", f"{meta.org_name} — code {meta.org_code}, {meta.org_type}, {meta.country}")
    line("Period", f"{period.code}: {period.start.isoformat()} to {period.end.isoformat()} (both days included)")
    line("Prepared by", prepared.preparer)
    line("Generated at", meta.generated_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))
    line("Schema", f"{meta.schema} version {meta.schema_version} ({meta.software} {meta.software_version})")
    line("National linkage key", f"set (key id {meta.linkage_key_id})" if meta.linkage_key_id
         else "not set: person_key is empty for every case")
    line("Digest (SHA-256)", meta.digest)
    line("")
    line("Headline figures", None, {"font": SECTION_FONT})
    for label, value in tables.headline(table_map, meta.line_count):
        line(label, _fmt(value))
    line("")
    line("How to read this return", None, {"font": SECTION_FONT})
    for sheet, text in HOW_TO_READ:
        if meta.suppressed and sheet in (spec.LINELIST, spec.STAYS):
            continue
        line(sheet, text)
    line("")
    line("Do not edit", "The return carries a digest of its contents (sheet _meta). Any change to a data sheet, "
         "even a single cell, makes the file fail validation: \"the file was changed after it was prepared\". "
         "To correct something, correct the register and prepare the return again.")


HOW_TO_READ = (
    ("Counting", "Everything is counted per case: a person with two cases in this office counts twice. "
     "Sex comes from the recorded gender; age is at registration (age groups 0-17, 18+, unknown)."),
    (spec.T1, "Cases registered (identified) in the period, by their trafficking status at period end."),
    (spec.T2, "Victims (possible or actual) identified in the period, by UNODC form of exploitation. A case "
     "with several forms counts once in each, so the rows need not add up to Total victims."),
    (spec.T3, "Victims identified in the period by first-listed citizenship, then by scope "
     "(domestic / transnational / unknown)."),
    (spec.T4, "Victims identified in the period by the type of organisation that identified them."),
    (spec.T5, "Each shelter: admissions and discharges in the period, bed-nights (nights spent in the period), "
     "persons placed at period end, and the average length of the stays that ended in the period."),
    (spec.T6, "Cases of this return that received each kind of service on at least one day of the period."),
    (spec.T7, "Cases with follow-ups due, done or overdue, in active follow-up at period end, or closed."),
    (spec.T8, "Cases that reached each criminal-justice stage in the period."),
    (spec.LINELIST, "One de-identified row per case in this return. case_key is a pseudonym that stays the same "
     "from one period to the next; person_key lets the secretariat recognise the same person reported by two "
     "offices (only with the person's consent to data sharing). All tables can be recomputed from it."),
    (spec.STAYS, "One row per shelter stay that overlaps the period."),
    (spec.FACILITIES, "The office's shelters with their capacity."),
    (spec.META, "Machine-readable facts about the file, and its digest."),
)


def period_label(period) -> str:
    if period.is_quarter:
        return f"{period.code} ({period.start:%d %B %Y} – {period.end:%d %B %Y})"
    return f"the year {period.code}"


def write_workbook(
    prepared: PreparedReturn,
    destination: Path,
    *,
    suppressed: bool = False,
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
) -> ReturnMeta:
    """Write the workbook to ``destination`` (a new file in a private folder); return its meta."""
    report = progress or (lambda _p, _w: None)
    meta = prepared.meta
    table_map = prepared.tables
    if suppressed:
        table_map = {name: tables.suppress_table(t) for name, t in table_map.items()}
        meta = replace(meta, suppressed=True, line_count=tables.suppress_count(meta.line_count),
                       stay_count=tables.suppress_count(meta.stay_count))
    book = _Book(destination.parent)
    names = spec.SUPPRESSED_SHEETS if suppressed else spec.SHEETS
    sheets = {name: book.sheet(name) for name in names}
    try:
        return _fill(book, sheets, prepared, meta, table_map, destination, suppressed, report, cancel)
    except BaseException:
        for ws in sheets.values():  # close the part streams before their folder is removed
            with contextlib.suppress(Exception):
                if ws._rows is not None:
                    ws._rows.close()
                if ws._writer is not None:
                    ws._writer.close()
        raise


def _fill(book: _Book, sheets: dict, prepared: PreparedReturn, meta: ReturnMeta, table_map: dict[str, Table],
          destination: Path, suppressed: bool, report: Progress, cancel: CancelCheck | None) -> ReturnMeta:
    digest = Digest()
    for name in spec.TABLE_SHEETS:
        _write_table(book, sheets[name], table_map[name], meta, digest)
    total = max(1, len(prepared.line_list) + len(prepared.stays))

    def tick(done: int, base: int = 0) -> None:
        report(75 + int(20 * (base + done) / total), "Writing the line list")
        if cancel is not None and cancel():
            raise Cancelled("Writing the return was cancelled; nothing was kept.")

    tick(0)
    if not suppressed:
        _write_rows(book, sheets[spec.LINELIST], spec.LINELIST, spec.LINE_COLUMNS,
                    [LINE_WIDTHS[c] for c in spec.LINE_COLUMNS],
                    (r.cells() for r in prepared.line_list), digest, tick, wide=True)
        _write_rows(book, sheets[spec.STAYS], spec.STAYS, spec.STAY_COLUMNS, [18, 12, 11.5, 11.5, 26],
                    (s.cells() for s in prepared.stays), digest,
                    lambda n: tick(n, len(prepared.line_list)))
    _write_rows(book, sheets[spec.FACILITIES], spec.FACILITIES, spec.FACILITY_COLUMNS, [12, 40, 10, 14],
                (f.cells() for f in prepared.facilities), digest, lambda n: None)
    meta = _write_meta(book, sheets[spec.META], meta, digest)
    _write_cover(book, sheets[spec.COVER], prepared, meta, table_map)
    tick(total)
    report(96, "Compressing the workbook")
    book.wb.save(str(destination))
    return meta


def write_return(
    prepared: PreparedReturn,
    target: Path,
    *,
    suppressed: bool = False,
    replace_existing: bool = False,
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
) -> WrittenReturn:
    """Write the return to ``target`` atomically: never a half file, never a silent overwrite."""
    target = Path(target)
    folder = target.parent
    if target.exists() and not replace_existing:
        raise LocationError(f"{target} already exists. tipdesk does not replace a file silently: choose "
                            "another name, or move the old file away first.")
    files.check_writable_directory(folder)
    try:
        parts = Path(tempfile.mkdtemp(prefix=".tipreturn-", dir=folder))
    except OSError as exc:
        raise files.location_error(exc, target) from exc
    try:
        tmp = parts / "return.xlsx"
        try:
            meta = write_workbook(prepared, tmp, suppressed=suppressed, progress=progress, cancel=cancel)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            _publish(tmp, target, replace_existing)
            files.fsync_directory(folder)
        except OSError as exc:
            raise files.location_error(exc, target) from exc
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    return WrittenReturn(target, meta)


def _publish(tmp: Path, target: Path, replace_existing: bool) -> None:
    """Move ``tmp`` to ``target`` in one step; refuse an existing target unless asked."""
    if replace_existing:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # fails if the target appeared meanwhile (no race)
        tmp.unlink()
    except FileExistsError as exc:
        raise LocationError(f"{target} already exists. tipdesk does not replace a file silently.") from exc
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK, errno.EACCES):
            raise
        # File systems without hard links (FAT on USB sticks, some Windows shares).
        if target.exists():
            raise LocationError(f"{target} already exists. tipdesk does not replace a file silently.") from exc
        os.rename(tmp, target)
