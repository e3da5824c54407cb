"""Read and validate a TIP-RETURN/1 file from anywhere: every check of the standard's "Checks a
reader makes", every problem reported (sheet, cell, what is wrong), and a typed ``Return``.

The file is untrusted: ``container.check_container`` inspects it before python-calamine reads the
cell values (calamine never evaluates formulas; the container check refuses any that are there).
Sheets are found by name and columns by header text; sheet order, styling, widths, hidden state
and protection are ignored, as the standard asks.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from itertools import repeat
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from exports.returns import spec, tables
from exports.returns.cells import Digest, canonical
from exports.returns.container import check_container
from exports.returns.gc_pause import paused_gc
from exports.returns.spec import FacilityRow, LineRow, Return, ReturnMeta, StayRow, Table
from tipdesk import counting
from tipdesk.counting import Period
from tipdesk.errors import Cancelled, InvalidReturn, ReturnProblem, UsageError

if TYPE_CHECKING:  # the reader needs no register: nothing of SQLAlchemy at run time
    from exports.returns.prepare import CancelCheck, Progress

#: Problems printed per sheet; beyond that they are counted (a broken 500,000-row sheet would
#: otherwise print millions of lines). See docs/returns.md.
MAX_PROBLEMS_PER_SHEET = 200

_LETTERS: list[str] = []


def col_letter(index: int) -> str:
    """0-based column index → ``A``, ``B``, … ``AA``."""
    while len(_LETTERS) <= index:
        n = len(_LETTERS) + 1
        out = ""
        while n:
            n, rem = divmod(n - 1, 26)
            out = chr(65 + rem) + out
        _LETTERS.append(out)
    return _LETTERS[index]


class _Bad:
    """A cell value a data sheet may not hold (time of day, duration, date with a time…)."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what


def _norm(value: object) -> object:
    """calamine's value → None, str, int, float, date, or _Bad."""
    if value == "" or value is None:
        return None
    t = type(value)
    if t is str or t is int:
        return value
    if t is float:
        return value
    if t is bool:
        return _Bad("a TRUE/FALSE value")
    if t is dt.date:
        return value
    if t is dt.datetime:
        if value.time() == dt.time(0, 0):
            return value.date()
        return _Bad("a date with a time of day")
    if t is dt.time or t is dt.timedelta:
        return _Bad("a time or duration")
    return _Bad(f"a value of an unexpected kind ({t.__name__})")


def _digest_value(value: object) -> object:
    return value.what if isinstance(value, _Bad) else value


@dataclass
class ReadReport:
    """The outcome of reading a file: problems (empty when valid) and the typed return."""

    path: Path
    problems: list[ReturnProblem] = field(default_factory=list)
    suppressed: bool = False
    ret: Return | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """The report as a person reads it: a verdict, then ``sheet!cell: what is wrong``."""
        name = self.path.name
        out: list[str] = []
        if self.ok:
            kind = "a suppressed copy for publication (it cannot be imported)" if self.suppressed else "a full return"
            meta = self.ret.meta if self.ret else None
            detail = f" — {meta.org_code} {meta.period}, {meta.line_count} line-list rows" if meta and not self.suppressed else (
                f" — {meta.org_code} {meta.period}" if meta else "")
            out.append(f"{name}: valid TIP-RETURN/1 file, {kind}{detail}.")
        else:
            count = len(self.problems)
            suffix = " It is a suppressed copy for publication." if self.suppressed else ""
            out.append(f"{name}: NOT valid — {count} problem{'s' if count != 1 else ''} found.{suffix}")
            out.extend(f"  {p}" for p in self.problems)
        out.extend(f"  note: {n}" for n in self.notes)
        return out


class _Sheet:
    """One sheet's problems, capped, with a count of what was not listed."""

    def __init__(self, report: ReadReport, name: str) -> None:
        self.report = report
        self.name = name
        self.listed = 0
        self.hidden = 0

    def problem(self, cell: str, message: str) -> None:
        if self.listed < MAX_PROBLEMS_PER_SHEET:
            self.report.problems.append(ReturnProblem(self.name, cell, message))
            self.listed += 1
        else:
            self.hidden += 1

    def close(self) -> None:
        if self.hidden:
            self.report.problems.append(ReturnProblem(
                self.name, "", f"… and {self.hidden:,} more problems in this sheet (not listed)."))


# --- field parsers (each returns the typed value, or reports and returns a fallback) ------------

_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _date(sh: _Sheet, ref: str, value: object, what: str, required: bool = True) -> dt.date | None:
    if value is None:
        if required:
            sh.problem(ref, f"{what} is empty; it must be a date written YYYY-MM-DD.")
        return None
    if type(value) is dt.date:
        return value
    if isinstance(value, str) and _DATE_TEXT.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    sh.problem(ref, f"{what} {_show(value)} is not a date written YYYY-MM-DD.")
    return None


def _count(sh: _Sheet, ref: str, value: object, what: str, allow_suppressed: bool = False) -> int | str | None:
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if type(value) is int and value >= 0:
        return value
    if isinstance(value, str):
        if value.isdigit() and value.isascii():
            return int(value)
        if allow_suppressed and value == tables.SUPPRESSED:
            return value
    if value is None:
        sh.problem(ref, f"{what} is empty; it must be a whole number.")
    else:
        sh.problem(ref, f"{what} {_show(value)} is not a whole number of zero or more.")
    return None


def _show(value: object) -> str:
    if isinstance(value, _Bad):
        return value.what
    text = _text(value)
    return repr(text if len(text) <= 60 else text[:57] + "…")


def _yn(sh: _Sheet, ref: str, value: object, what: str) -> bool | None:
    if value == "Y":
        return True
    if value == "N":
        return False
    sh.problem(ref, f"{what} must be Y or N, not {_show(value) if value is not None else 'empty'}.")
    return None


def _pick(sh: _Sheet, ref: str, value: object, column: str, required: bool) -> str:
    text = _text(value)
    if not text:
        if required:
            sh.problem(ref, f"{column} is empty.")
        return ""
    if text not in spec.PICKLISTS[column]:
        sh.problem(ref, f"{column} {_show(text)} is not a value TIP-RETURN/1 allows here.")
    return text


def _multi(sh: _Sheet, ref: str, value: object, column: str, keep_order: bool = False) -> tuple[str, ...]:
    text = _text(value)
    if not text:
        return ()
    parts = tuple(text.split(";"))
    allowed = spec.PICKLISTS[column]
    for part in parts:
        if part not in allowed:
            what = "is empty between two ';'" if part == "" else f"{_show(part)} is not a value TIP-RETURN/1 allows here"
            sh.problem(ref, f"{column}: {what}.")
    if len(set(parts)) != len(parts):
        sh.problem(ref, f"{column} lists a value more than once.")
    elif not keep_order and list(parts) != sorted(parts):
        sh.problem(ref, f"{column} values must be sorted ({';'.join(sorted(parts))}).")
    return parts


# --- LineList parsers: raw calamine value → (typed value, problem or None); cached per value -------

_INVALID = object()  # an age that is not a whole number (already reported)
_UNSEEN = object()  # a value not parsed yet


class _Probe:
    """Stands in for a sheet: collects the messages a parser produces, for the cache."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def problem(self, cell: str, message: str) -> None:
        self.messages.append(message)


def _cached(fn):
    def parse(value: object) -> tuple[object, str | None]:
        probe = _Probe()
        norm = _norm(value)
        if isinstance(norm, _Bad):
            return None, f"the cell holds {norm.what}; data sheets hold only text and numbers."
        if isinstance(norm, str) and spec.FORBIDDEN_CHARS.search(norm):
            return None, "the text holds a tab, line break or other control character."
        typed = fn(probe, norm)
        return typed, (" ".join(probe.messages) or None)
    return parse


def _line_parsers() -> list:
    def date_req(what):
        return _cached(lambda sh, v: _date(sh, "", v, what))

    def pick(column, required):
        return _cached(lambda sh, v: _pick(sh, "", v, column, required))

    def multi(column, keep_order=False):
        return _cached(lambda sh, v: _multi(sh, "", v, column, keep_order))

    def count(what):
        return _cached(lambda sh, v: _count(sh, "", v, what))

    def yn(what):
        return _cached(lambda sh, v: _yn(sh, "", v, what))

    def age(sh, v):
        if v is None:
            return None
        n = _count(sh, "", v, "age")
        if not isinstance(n, int):
            return _INVALID
        if n > 150:
            sh.problem("", f"age {n} is not plausible.")
        return n

    return [
        None, None, date_req("registered"), yn("identified_in_period"), pick("status", True),
        pick("status_decided_by", False), pick("sex", True), pick("age_group", True), _cached(age),
        multi("citizenship", keep_order=True), pick("scope", True), multi("exploitation"),
        pick("labour_industry", False), multi("sex_exploitation"), multi("methods_of_control"),
        pick("relationship_to_trafficker", False), pick("identified_by", True), multi("services_in_period"),
        count("followups_due"), count("followups_done"), count("followups_overdue"), yn("active_followup"),
        multi("justice_in_period"), pick("case_status", True),
        _cached(lambda sh, v: _date(sh, "", v, "closed", required=False)),
    ]


LINE_CHUNK = 20_000
_HEX16_COLUMN = re.compile(r"(?:[0-9a-f]{16}\n)*")
_HEX32_COLUMN = re.compile(r"(?:(?:[0-9a-f]{32})?\n)*")


def _canonical_column(column: tuple | list) -> list[str]:
    """The canonical text of each cell of a column (each distinct value converted once)."""
    texts = {v: v if type(v) is str else _canonical_cached(v) for v in set(column)}
    return list(map(texts.__getitem__, column))


def _all_text(column: tuple | list) -> bool:
    return set(map(type, column)) <= {str}


@functools.lru_cache(maxsize=65536, typed=True)
def _canonical_cached(value: object) -> str:
    return canonical(value)


class _LineState:
    """What the LineList check carries from one chunk to the next."""

    def __init__(self, meta: ReturnMeta, period: Period, where: dict[str, int], parsers: list) -> None:
        self.period = period
        self.idx = [where[c] for c in spec.LINE_COLUMNS]
        self.letters = [col_letter(i) for i in self.idx]
        self.parsers = parsers
        self.caches: list[dict] = [{} for _ in parsers]
        self.values: list[dict] = [{} for _ in parsers]  # value → typed value (for a C-level map)
        self.bad_values: list[set] = [set() for _ in parsers]  # values whose parse found a problem
        self.has_linkage = bool(meta.linkage_key_id)
        self.last_key = ""
        self.count = 0
        self.broken = False
        self.pending_blanks: list[int] = []


# --- reading ---------------------------------------------------------------------------------------


def check_file(path: Path, *, progress: Progress | None = None, cancel: CancelCheck | None = None) -> ReadReport:
    """Read and validate ``path``; never raises for a bad file (problems are in the report).

    ``progress(percent, what)`` is told how far the check is; ``cancel()`` is polled between
    steps and every chunk of LineList rows, and a cancel raises ``Cancelled``.
    """
    with paused_gc():
        return _check_file(Path(path), _Steps(progress, cancel))


def _check_file(path: Path, step: _Steps) -> ReadReport:
    report = ReadReport(path)
    step(2, "Checking the file")
    if not path.exists():
        report.problems.append(ReturnProblem("", "", f"There is no file {path}."))
        return report
    if path.is_dir():
        report.problems.append(ReturnProblem("", "", f"{path} is a folder, not a return file."))
        return report
    container = check_container(path)
    report.problems.extend(container.problems)
    if not container.readable:
        return report
    try:
        from python_calamine import CalamineWorkbook

        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for damaged content
        report.problems.append(ReturnProblem("", "", f"The workbook cannot be read: {exc}."))
        return report
    try:
        _Reader(report, workbook, container.sheet_kinds, step).run()
    finally:
        workbook.close()
    step(100, "Checked")
    return report


class _Steps:
    """Progress and cancel for one check (both optional)."""

    def __init__(self, progress: Progress | None, cancel: CancelCheck | None) -> None:
        self.progress = progress
        self.cancel = cancel

    def __call__(self, percent: int, what: str) -> None:
        if self.cancel is not None and self.cancel():
            raise Cancelled("The check was cancelled.")
        if self.progress is not None:
            self.progress(percent, what)


def read_return(path: Path, *, for_import: bool = True) -> Return:
    """The validated ``Return`` of ``path``; raises ``InvalidReturn`` with every problem found.

    ``for_import`` refuses suppressed copies (they cannot be consolidated).
    """
    report = check_file(path)
    if report.ok and for_import and report.suppressed:
        report.problems.append(ReturnProblem(spec.META, "", "This is a suppressed copy for publication; only "
                                             "the full return (suppressed = N) can be imported."))
    if not report.ok or report.ret is None:
        raise InvalidReturn(Path(path).name, report.problems)
    return report.ret


class _Reader:
    def __init__(self, report: ReadReport, workbook, kinds: dict[str, str], step: _Steps | None = None) -> None:
        self.report = report
        self.wb = workbook
        self.kinds = kinds
        self.step = step or _Steps(None, None)
        self.names = set(workbook.sheet_names)
        self.digest = Digest()

    # -- sheets as rows of normalised values --------------------------------------------------------

    def rows(self, name: str) -> Iterator[list[object]]:
        """Rows from row 1, each a list from column A (calamine starts at the first used column)."""
        sheet = self.wb.get_sheet_by_name(name)
        start = sheet.start
        pad = [None] * (start[1] if start else 0)
        for raw in sheet.iter_rows():
            row = [_norm(v) for v in raw]
            yield pad + row if pad else row

    def missing(self, name: str) -> bool:
        if name not in self.names:
            self.report.problems.append(ReturnProblem(name, "", "the sheet is missing."))
            return True
        if self.kinds.get(name, "worksheet") != "worksheet":
            self.report.problems.append(ReturnProblem(name, "", "this must be an ordinary worksheet."))
            return True
        return False

    # -- the whole file ------------------------------------------------------------------------------

    def run(self) -> None:
        report = self.report
        if self.missing(spec.META):
            return
        meta_rows = list(self.rows(spec.META))
        meta = self.read_meta(meta_rows)
        if meta is None:
            return
        report.suppressed = meta.suppressed
        period = counting.parse_period(meta.period)
        required = spec.SUPPRESSED_SHEETS if meta.suppressed else spec.SHEETS
        for name in required:
            if name != spec.META:
                self.missing(name)
        if meta.suppressed:
            for name in (spec.LINELIST, spec.STAYS):
                if name in self.names:
                    report.problems.append(ReturnProblem(name, "", "a suppressed copy must not hold this sheet."))
        self.step(15, "Reading the tables")
        read_tables: dict[str, Table] = {}
        for name in spec.TABLE_SHEETS:
            if name in self.names and self.kinds.get(name, "worksheet") == "worksheet":
                table = self.read_table(name, meta.suppressed)
                if table is not None:
                    read_tables[name] = table
        line_rows: list[LineRow] = []
        stays: list[StayRow] = []
        facilities: list[FacilityRow] = []
        line_total = stay_total = None
        if not meta.suppressed:
            if spec.LINELIST in self.names and self.kinds.get(spec.LINELIST, "worksheet") == "worksheet":
                line_total = self.read_line_list(meta, period, line_rows)
        # Stays refer to Facilities, so Facilities is read first; the digest is still fed in order.
        if spec.FACILITIES in self.names and self.kinds.get(spec.FACILITIES, "worksheet") == "worksheet":
            fac_rows = list(self.rows(spec.FACILITIES))
        else:
            fac_rows = None
        self.step(85, "Reading the stays and facilities")
        if spec.STAYS in self.names and not meta.suppressed and self.kinds.get(spec.STAYS, "worksheet") == "worksheet":
            codes = {_text(r[0]) for r in (fac_rows or [])[1:] if r}
            stay_total = self.read_stays(meta, period, stays, codes)
        if fac_rows is not None:
            self.read_facilities(fac_rows, facilities)
        # _meta without its digest row completes the digest
        self.digest.sheet(spec.META)
        digest_row = None
        for i, row in enumerate(meta_rows, 1):
            if row and _text(row[0]) == "digest":
                digest_row = i
                continue
            self.digest.row(_digest_value(v) for v in row)
        if self.digest.hexdigest() != meta.digest:
            report.problems.append(ReturnProblem(spec.META, f"B{digest_row or ''}",
                                                 "the digest does not match: the file was changed after it was prepared."))
        if not meta.suppressed:
            if line_total is not None and isinstance(meta.line_count, int) and meta.line_count != line_total:
                report.problems.append(ReturnProblem(spec.META, self.meta_ref["line_count"],
                                       f"line_count is {meta.line_count} but LineList has {line_total} rows."))
            if stay_total is not None and isinstance(meta.stay_count, int) and meta.stay_count != stay_total:
                report.problems.append(ReturnProblem(spec.META, self.meta_ref["stay_count"],
                                       f"stay_count is {meta.stay_count} but Stays has {stay_total} rows."))
            if line_total is not None and stay_total is not None and self.tables_ok(read_tables) \
                    and not getattr(self, "line_list_broken", False):
                self.step(92, "Recomputing the tables from the list of cases")
                self.compare(read_tables, tables.all_tables(line_rows, stays, facilities, period))
        else:
            for key in ("line_count", "stay_count"):
                value = getattr(meta, key)
                if isinstance(value, int) and 1 <= value <= 4:
                    report.problems.append(ReturnProblem(spec.META, self.meta_ref[key],
                                           f"{key} is {value}; a suppressed copy shows counts from 1 to 4 as <5."))
        expected_name = spec.file_name(meta.org_code, meta.period)
        if report.path.name != expected_name:
            report.notes.append(f"the file name is {report.path.name}; the standard's name for it is {expected_name}.")
        if not report.problems:
            report.ret = Return(meta=meta, tables=read_tables, line_list=tuple(line_rows), stays=tuple(stays),
                                facilities=tuple(facilities), notes=tuple(report.notes))

    def tables_ok(self, read_tables: dict[str, Table]) -> bool:
        return all(name in read_tables for name in spec.TABLE_SHEETS)

    # -- _meta -------------------------------------------------------------------------------------

    def read_meta(self, rows: list[list[object]]) -> ReturnMeta | None:
        sh = _Sheet(self.report, spec.META)
        values: dict[str, object] = {}
        self.meta_ref: dict[str, str] = {}
        keys_seen: list[str] = []
        for i, row in enumerate(rows, 1):
            if not any(v is not None for v in row):
                continue
            key = _text(row[0]) if row else ""
            value = row[1] if len(row) > 1 else None
            if any(v is not None for v in row[2:]):
                sh.problem(f"C{i}", "_meta holds a key and a value per row, nothing further right.")
            if isinstance(value, _Bad) or isinstance(row[0], _Bad):
                sh.problem(f"B{i}", f"the cell holds {_show(value)}; _meta holds only text and numbers.")
                value = None
            if key in values:
                sh.problem(f"A{i}", f"the key {key} appears twice.")
                continue
            if key not in spec.META_KEYS:
                sh.problem(f"A{i}", f"{_show(key)} is not a key of TIP-RETURN/1's _meta.")
                continue
            values[key] = value
            keys_seen.append(key)
            self.meta_ref[key] = f"B{i}"
        version = _text(values.get("schema_version"))
        if values.get("schema") != spec.SCHEMA:
            sh.problem(self.meta_ref.get("schema", "A1"), "schema must be TIP-RETURN: this is not a TIP-RETURN file.")
            sh.close()
            return None
        if version not in spec.KNOWN_VERSIONS:
            sh.problem(self.meta_ref.get("schema_version", ""),
                       f"schema_version {version or '(empty)'} is not a version this tipdesk knows "
                       f"(it reads version {', '.join(spec.KNOWN_VERSIONS)}). Update tipdesk to read it.")
            sh.close()
            return None
        missing = [k for k in spec.META_KEYS if k not in values]
        for key in missing:
            sh.problem("", f"the key {key} is missing.")
        present_order = [k for k in spec.META_KEYS if k in values]
        if keys_seen != present_order:
            sh.problem("A1", "the keys are not in the standard's order (" + ", ".join(spec.META_KEYS) + ").")
        if missing:
            sh.close()
            return None

        def ref(key: str) -> str:
            return self.meta_ref.get(key, "")

        def text(key: str) -> str:
            return _text(values.get(key))

        ok = True
        org_code = text("org_code")
        if not spec.ORG_CODE.fullmatch(org_code):
            sh.problem(ref("org_code"), f"org_code {_show(org_code)} must be 2 to 10 characters A–Z, 0–9.")
            ok = False
        if not text("org_name").strip():
            sh.problem(ref("org_name"), "org_name is empty.")
        if text("org_type") not in spec.ORG_TYPES:
            sh.problem(ref("org_type"), f"org_type {_show(text('org_type'))} is not an HTCDS org_Type value.")
        if text("country") not in spec.COUNTRY_CODES:
            sh.problem(ref("country"), f"country {_show(text('country'))} is not an ISO 3166-1 alpha-3 code.")
        period: Period | None = None
        try:
            period = counting.parse_period(text("period")) if re.fullmatch(r"\d{4}(-Q[1-4])?", text("period")) else None
        except UsageError:
            period = None
        if period is None:
            sh.problem(ref("period"), f"period {_show(text('period'))} must be YYYY-Qn or YYYY.")
            ok = False
        start = _date(sh, ref("period_start"), values.get("period_start"), "period_start")
        end = _date(sh, ref("period_end"), values.get("period_end"), "period_end")
        if period and start and start != period.start:
            sh.problem(ref("period_start"), f"period_start must be {period.start.isoformat()} for {period.code}.")
        if period and end and end != period.end:
            sh.problem(ref("period_end"), f"period_end must be {period.end.isoformat()} for {period.code}.")
        generated = text("generated_at")
        generated_at = None
        if spec.GENERATED_AT.fullmatch(generated):
            try:
                generated_at = dt.datetime.strptime(generated, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
            except ValueError:
                pass
        if generated_at is None:
            sh.problem(ref("generated_at"), f"generated_at {_show(generated)} must be UTC written YYYY-MM-DDTHH:MM:SSZ.")
            ok = False
        if not text("software"):
            sh.problem(ref("software"), "software is empty.")
        suppressed = text("suppressed")
        if suppressed not in ("Y", "N"):
            sh.problem(ref("suppressed"), "suppressed must be Y or N.")
            ok = False
        link_id = text("linkage_key_id")
        if link_id and not spec.HEX8.fullmatch(link_id):
            sh.problem(ref("linkage_key_id"), "linkage_key_id must be 8 lower-case hex digits, or empty.")
        counts = {}
        for key in ("line_count", "stay_count"):
            counts[key] = _count(sh, ref(key), values.get(key), key, allow_suppressed=suppressed == "Y")
        if text("digest_algorithm") != "sha256":
            sh.problem(ref("digest_algorithm"), "digest_algorithm must be sha256.")
        digest = text("digest")
        if not spec.HEX64.fullmatch(digest):
            sh.problem(ref("digest"), "digest must be 64 lower-case hex digits.")
        sh.close()
        if not ok or period is None or generated_at is None:
            return None
        return ReturnMeta(
            org_code=org_code, org_name=text("org_name"), org_type=text("org_type"), country=text("country"),
            period=period.code, period_start=period.start, period_end=period.end, generated_at=generated_at,
            software=text("software"), software_version=text("software_version"), suppressed=suppressed == "Y",
            linkage_key_id=link_id,
            line_count=counts["line_count"] if counts["line_count"] is not None else -1,
            stay_count=counts["stay_count"] if counts["stay_count"] is not None else -1,
            digest=digest, schema=spec.SCHEMA, schema_version=version,
        )

    # -- header helpers ---------------------------------------------------------------------------------

    def header(self, sh: _Sheet, row: list[object], row_no: int, columns: tuple[str, ...]) -> dict[str, int] | None:
        where: dict[str, int] = {}
        for i, value in enumerate(row):
            name = _text(value)
            if not name:
                continue
            if name in where:
                sh.problem(f"{col_letter(i)}{row_no}", f"the column {name} appears twice.")
            where.setdefault(name, i)
        missing = [c for c in columns if c not in where]
        for c in missing:
            sh.problem(f"{row_no}", f"the column {c} is missing (row {row_no} must hold the header texts).")
        return None if missing else where

    def forbidden_text(self, sh: _Sheet, ref: str, value: object) -> None:
        if isinstance(value, str) and spec.FORBIDDEN_CHARS.search(value):
            sh.problem(ref, "the text holds a tab, line break or other control character.")
        elif isinstance(value, _Bad):
            sh.problem(ref, f"the cell holds {value.what}; data sheets hold only text and numbers.")

    # -- aggregate tables ------------------------------------------------------------------------------------

    def read_table(self, name: str, suppressed: bool) -> Table | None:
        sh = _Sheet(self.report, name)
        self.digest.sheet(name)
        columns = spec.T5_COLUMNS if name == spec.T5 else spec.GRID_COLUMNS
        where: dict[str, int] | None = None
        rows: list[tuple[str, tuple[spec.Value, ...]]] = []
        refs: dict[str, int] = {}
        for r, row in enumerate(self.rows(name), 1):
            if r < 3:
                if r == 2 and any(v is not None for v in row):
                    sh.problem("2", "row 2 must be empty (row 1 is the title, row 3 the header).")
                continue
            self.digest.row(_digest_value(v) for v in row)
            for i, v in enumerate(row):
                self.forbidden_text(sh, f"{col_letter(i)}{r}", v)
            if r == 3:
                where = self.header(sh, row, 3, (spec.CATEGORY, *columns))
                if where is None:
                    break
                continue
            if not any(v is not None for v in row):
                continue
            assert where is not None
            category = _text(row[where[spec.CATEGORY]]) if where[spec.CATEGORY] < len(row) else ""
            cat_ref = f"{col_letter(where[spec.CATEGORY])}{r}"
            if not category:
                sh.problem(cat_ref, "the Category cell is empty.")
                continue
            if category in refs:
                sh.problem(cat_ref, f"the row {category} appears twice.")
                continue
            refs[category] = r
            values: list[spec.Value] = []
            for column in columns:
                i = where[column]
                v = row[i] if i < len(row) else None
                ref = f"{col_letter(i)}{r}"
                if column == spec.AVERAGE_COLUMN:
                    if v is None:
                        values.append(None)
                    elif isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0:
                        values.append(float(v))
                    else:
                        sh.problem(ref, f"the average {_show(v)} must be a number or empty.")
                        values.append(None)
                    continue
                may_suppress = suppressed and (name != spec.T5 or column in spec.T5_COUNT_COLUMNS)
                count = _count(sh, ref, v, column, allow_suppressed=may_suppress)
                if suppressed and may_suppress and isinstance(count, int) and 1 <= count <= 4:
                    sh.problem(ref, f"{count} must be shown as <5 in a suppressed copy.")
                values.append(count)
            rows.append((category, tuple(values)))
        if where is None:
            if not sh.listed:
                sh.problem("3", "the header row (row 3) is missing.")
            sh.close()
            return None
        self.check_table_rows(sh, name, rows, refs, where)
        sh.close()
        return Table(name, columns, tuple(rows))

    def check_table_rows(self, sh: _Sheet, name: str, rows: list[tuple[str, tuple[spec.Value, ...]]],
                         refs: dict[str, int], where: dict[str, int]) -> None:
        fixed: tuple[str, ...]
        per_value: frozenset[str] | None
        if name == spec.T1:
            fixed, per_value = spec.T1_ROWS, None
        elif name == spec.T2:
            fixed, per_value = spec.T2_ROWS, None
        elif name == spec.T3:
            fixed, per_value = spec.T3_FIXED, spec.COUNTRY_CODES
        elif name == spec.T4:
            fixed, per_value = spec.T4_FIXED, spec.ORG_TYPES
        elif name == spec.T6:
            fixed, per_value = (), spec.PICKLISTS["services_in_period"]
        elif name == spec.T7:
            fixed, per_value = spec.T7_ROWS, None
        elif name == spec.T8:
            fixed, per_value = spec.T8_ROWS, None
        else:  # T5: facilities sorted by code, then Total
            fixed, per_value = (spec.TOTAL,), None
        cat_col = col_letter(where[spec.CATEGORY])
        names = [n for n, _ in rows]
        leading = [n for n in names if n not in fixed]
        if name != spec.T5:
            for n in leading:
                if per_value is None or n not in per_value:
                    sh.problem(f"{cat_col}{refs[n]}", f"{_show(n)} is not a row of {name}.")
        if leading != sorted(leading):
            sh.problem(f"{cat_col}{refs[leading[0]]}", f"the rows before the fixed rows must be sorted ({', '.join(sorted(leading))}).")
        tail = names[len(leading):]
        if [n for n in names if n in fixed] != list(fixed) or tail != [n for n in names if n in fixed]:
            sh.problem(cat_col + "4", f"the fixed rows must be, in this order and last: {', '.join(fixed)}.")
        if name != spec.T5:
            for category, values in rows:
                cells = values[:-1]
                if all(isinstance(v, int) for v in cells) and isinstance(values[-1], int):
                    if sum(cells) != values[-1]:  # type: ignore[arg-type]
                        sh.problem(f"{col_letter(where['Total'])}{refs[category]}",
                                   f"Total is {values[-1]} but the row adds up to {sum(cells)}.")  # type: ignore[arg-type]
                elif all(v is not None for v in values) and values[-1] == 0 and any(v != 0 for v in cells):
                    sh.problem(f"{col_letter(where['Total'])}{refs[category]}", "Total is 0 but the row is not.")
        self._table_refs = getattr(self, "_table_refs", {})
        self._table_refs[name] = (refs, where)

    def compare(self, read_tables: dict[str, Table], computed: dict[str, Table]) -> None:
        """Each table cell against its recomputation from LineList (T5: Stays and Facilities)."""
        for name in spec.TABLE_SHEETS:
            got, want = read_tables[name], computed[name]
            refs, where = self._table_refs.get(name, ({}, {}))
            sh = _Sheet(self.report, name)
            cat_col = col_letter(where.get(spec.CATEGORY, 0))
            got_rows = dict(got.rows)
            want_rows = dict(want.rows)
            for category, values in want.rows:
                if category not in got_rows:
                    source = "Stays and Facilities" if name == spec.T5 else "LineList"
                    sh.problem(cat_col, f"the row {category} is missing ({source} gives it "
                                        f"{_fmt(values[-1] if name != spec.T5 else values[1])} in total).")
                    continue
                for column, have, should in zip(want.columns, got_rows[category], values, strict=True):
                    if have != should:
                        source = "Stays and Facilities give" if name == spec.T5 else "LineList gives"
                        sh.problem(f"{col_letter(where[column])}{refs.get(category, '')}",
                                   f"{category} / {column} is {_fmt(have)} but {source} {_fmt(should)}.")
            for category in got_rows:
                if category not in want_rows:
                    source = "Facilities has no such facility" if name == spec.T5 else "LineList has no case for it"
                    sh.problem(f"{cat_col}{refs.get(category, '')}", f"the row {category} should not be there ({source}).")
            sh.close()

    # -- LineList --------------------------------------------------------------------------------------------

    def read_line_list(self, meta: ReturnMeta, period: Period, out: list[LineRow]) -> int | None:
        """LineList: up to 500,000 rows, so it is checked a column at a time in chunks: each
        distinct value of a column is parsed once, and keys, order and digest are checked with
        C-level operations over whole columns; rows are visited one by one only to locate a
        problem already found."""
        name = spec.LINELIST
        sh = _Sheet(self.report, name)
        self.digest.sheet(name)
        sheet = self.wb.get_sheet_by_name(name)
        pad = [""] * (sheet.start[1] if sheet.start else 0)
        rows = iter(sheet.iter_rows())
        header = next(rows, None)
        if header is None:
            sh.problem("1", "the header row is missing.")
            sh.close()
            return None
        header = pad + list(header)
        self.digest.raw_row(header)
        where = self.header(sh, [_norm(v) for v in header], 1, spec.LINE_COLUMNS)
        if where is None:
            for row in rows:
                self.digest.raw_row(pad + list(row) if pad else row)
            sh.close()
            return None
        state = _LineState(meta, period, where, _line_parsers())
        first = 2
        while True:
            chunk = list(itertools.islice(rows, LINE_CHUNK))
            if not chunk:
                break
            if pad:
                chunk = [pad + list(r) for r in chunk]
            self._line_chunk(sh, state, chunk, first, out)
            first += len(chunk)
            expected = meta.line_count if isinstance(meta.line_count, int) and meta.line_count > 0 else 0
            done = min(1.0, state.count / expected) if expected else 0.5
            self.step(20 + int(60 * done), "Reading the list of cases")
            if state.count > spec.MAX_LINE_ROWS:
                sh.problem(f"{first - 1}", f"LineList has more than {spec.MAX_LINE_ROWS:,} rows, the standard's "
                           "limit.")
                for row in rows:  # keep the digest whole; no more checks
                    self.digest.raw_row(pad + list(row) if pad else row)
                break
        if state.broken:
            out.clear()  # problems are reported; tables are not compared with a broken line list
            self.line_list_broken = True
        sh.close()
        return state.count

    def _line_chunk(self, sh: _Sheet, st: _LineState, chunk: list, first: int, out: list[LineRow]) -> None:
        width = max(map(len, chunk))
        if any(len(r) != width for r in chunk):
            chunk = [list(r) + [""] * (width - len(r)) for r in chunk]
        cols = list(zip(*chunk))
        all_text = [_all_text(c) for c in cols]
        # digest: canonical text, column by column (text needs no conversion)
        canon_cols = [c if text_only else _canonical_column(c) for c, text_only in zip(cols, all_text)]
        lines = [line.rstrip("\t") for line in map("\t".join, zip(*canon_cols))]
        blank = [i for i, line in enumerate(lines) if not line]
        text = "\n".join(line for line in lines if line) if blank else "\n".join(lines)
        if text:
            self.digest.update_text(text + "\n")
        if blank or st.pending_blanks:
            for i, line in enumerate(lines):
                if not line:
                    st.pending_blanks.append(first + i)
                elif st.pending_blanks:  # a blank row with rows after it (trailing ones are no rows)
                    st.broken = True
                    for r in st.pending_blanks:
                        sh.problem(f"{r}", "LineList must have no blank rows.")
                    st.pending_blanks.clear()
        keep = [i for i, line in enumerate(lines) if line] if blank else None
        if keep is not None:
            cols = [[c[i] for i in keep] for c in cols]
            all_text = [_all_text(c) for c in cols]
            rownos = [first + i for i in keep]
        else:
            rownos = range(first, first + len(chunk))
        n = len(rownos)
        if n == 0:
            return
        st.count += n
        idx, letters = st.idx, st.letters
        known = set(idx)
        for i, col in enumerate(cols):
            if i not in known and not all(v == "" for v in col):
                for r, v in zip(rownos, col):
                    if v != "":
                        self.forbidden_text(sh, f"{col_letter(i)}{r}", _norm(v))
        typed: list[list[object]] = [None] * 25  # type: ignore[list-item]
        # keys
        keys = cols[idx[0]]
        if not (all_text[idx[0]] and _HEX16_COLUMN.fullmatch("\n".join(keys) + "\n")):
            for r, k in zip(rownos, keys):
                if type(k) is not str or not spec.HEX16.fullmatch(k):
                    sh.problem(f"{letters[0]}{r}", f"case_key {_show(_norm(k))} must be 16 lower-case hex digits.")
                    st.broken = True
            keys = [k if type(k) is str else _text(_norm(k)) for k in keys]
        if list(keys) != sorted(set(keys)) or (st.last_key and keys[0] <= st.last_key):
            previous = st.last_key
            for r, k in zip(rownos, keys):
                if k <= previous:
                    sh.problem(f"{letters[0]}{r}", "the rows must be sorted by case_key, each case once"
                               + (" (this case_key appears twice)." if k == previous else "."))
                    st.broken = True
                previous = max(previous, k)
        st.last_key = max(st.last_key, keys[-1])
        typed[0] = list(keys)
        pkeys = cols[idx[1]]
        if not (all_text[idx[1]] and _HEX32_COLUMN.fullmatch("\n".join(pkeys) + "\n")):
            for r, k in zip(rownos, pkeys):
                k = k if type(k) is str else _text(_norm(k))
                if k and not spec.HEX32.fullmatch(k):
                    sh.problem(f"{letters[1]}{r}", f"person_key {_show(k)} must be 32 lower-case hex digits, or empty.")
                    st.broken = True
            pkeys = [k if type(k) is str else _text(_norm(k)) for k in pkeys]
        if not st.has_linkage and any(pkeys):
            for r, k in zip(rownos, pkeys):
                if k:
                    sh.problem(f"{letters[1]}{r}", "person_key is filled, but _meta names no linkage key "
                               "(linkage_key_id is empty).")
                    st.broken = True
        typed[1] = list(pkeys)
        # every other column: parse each distinct value once
        for j in range(2, 25):
            col = cols[idx[j]]
            cache = st.caches[j]
            parser = st.parsers[j]
            values = st.values[j]
            column = list(map(values.get, col, repeat(_UNSEEN)))  # C-level; a new value shows as _UNSEEN
            if _UNSEEN in column:
                for v in set(col) - cache.keys():
                    cache[v] = parsed = parser(v)
                    values[v] = parsed[0]
                    if parsed[1]:
                        st.bad_values[j].add(v)
                column = list(map(values.__getitem__, col))
            typed[j] = column
            bad = set(col) & st.bad_values[j] if st.bad_values[j] else None
            if bad:
                st.broken = True
                for r, v in zip(rownos, col):
                    if v in bad:
                        sh.problem(f"{letters[j]}{r}", cache[v][1])
        # relations between columns, checked on distinct combinations
        S, E = st.period.start, st.period.end
        registered, identified = typed[2], typed[3]
        for reg_date, ident in set(zip(registered, identified)):
            if reg_date is None:
                continue
            late = reg_date > E
            wrong = ident is not None and ident != (S <= reg_date <= E)
            if late or wrong:
                st.broken = True
                for r, a, b in zip(rownos, registered, identified):
                    if a == reg_date and b == ident:
                        if late:
                            sh.problem(f"{letters[2]}{r}", f"registered {a.isoformat()} is after the period end "
                                       f"{E.isoformat()}.")
                        if wrong:
                            sh.problem(f"{letters[3]}{r}", "identified_in_period must be Y exactly when registered "
                                       f"is within the period ({S.isoformat()} to {E.isoformat()}).")
        ages, groups = typed[8], typed[7]
        for age, group in set(zip(ages, groups)):
            if group and age is not _INVALID and group != counting.age_group(age):
                st.broken = True
                expected = counting.age_group(age)
                for r, a, g in zip(rownos, ages, groups):
                    if a == age and g == group:
                        sh.problem(f"{letters[7]}{r}", f"age_group {g} does not agree with age "
                                   f"{a if a is not None else '(empty)'}: it must be {expected}.")
        closed, case_status = typed[24], typed[23]
        for i in (i for i, c in enumerate(closed) if c is not None):
            c, r = closed[i], rownos[i]
            if not S <= c <= E:
                sh.problem(f"{letters[24]}{r}", f"closed {c.isoformat()} is outside the period.")
                st.broken = True
            if registered[i] is not None and c < registered[i]:
                sh.problem(f"{letters[24]}{r}", f"closed {c.isoformat()} is before registered "
                           f"{registered[i].isoformat()}.")
                st.broken = True
            if case_status[i] and case_status[i] not in spec.CLOSED_STATUSES:
                sh.problem(f"{letters[24]}{r}", f"closed is filled but case_status is {case_status[i]}; it must be "
                           "empty unless the case is Closed or ClosedReferred at period end.")
                st.broken = True
        if not st.broken:
            out.extend(map(LineRow, *typed))

    # -- Stays and Facilities -----------------------------------------------------------------------------

    def read_stays(self, meta: ReturnMeta, period: Period, out: list[StayRow], codes: set[str]) -> int | None:
        name = spec.STAYS
        sh = _Sheet(self.report, name)
        self.digest.sheet(name)
        rows = self.rows(name)
        header = next(rows, None)
        if header is None:
            sh.problem("1", "the header row is missing.")
            sh.close()
            return None
        self.digest.row(header)
        where = self.header(sh, header, 1, spec.STAY_COLUMNS)
        if where is None:
            for row in rows:
                self.digest.row(_digest_value(v) for v in row)
            sh.close()
            return None
        idx = [where[c] for c in spec.STAY_COLUMNS]
        width = max(idx) + 1
        made_on = meta.generated_at.date()
        previous: tuple[str, str, str] = ("", "", "")
        count = 0
        blank_at = 0
        letters = [col_letter(i) for i in idx]
        row_digest = self.digest.row
        for r, row in enumerate(rows, 2):
            row_digest([_digest_value(v) for v in row] if any(type(v) is _Bad for v in row) else row)
            if not any(v is not None for v in row):
                blank_at = blank_at or r
                continue
            if blank_at:
                sh.problem(f"{blank_at}", "Stays must have no blank rows.")
                blank_at = 0
            count += 1
            texts = [v for v in row if type(v) is str]
            if len(texts) != len(row) - row.count(None) or spec.FORBIDDEN_CHARS.search("".join(texts)):
                for i, v in enumerate(row):  # only a row with something to say is looked at cell by cell
                    self.forbidden_text(sh, f"{col_letter(i)}{r}", v)
            if len(row) < width:
                row = row + [None] * (width - len(row))
            c = [row[i] for i in idx]
            ref = [letter + str(r) for letter in letters]
            key = _text(c[0])
            if not spec.HEX16.fullmatch(key):
                sh.problem(ref[0], f"case_key {_show(key)} must be 16 lower-case hex digits.")
            facility = _text(c[1])
            if not facility:
                sh.problem(ref[1], "facility is empty.")
            elif codes and facility not in codes:
                sh.problem(ref[1], f"facility {_show(facility)} is not on the Facilities sheet.")
            admitted = _date(sh, ref[2], c[2], "admitted")
            discharged = _date(sh, ref[3], c[3], "discharged", required=False)
            reason = _pick(sh, ref[4], c[4], "discharge_reason", False)
            if reason and discharged is None:
                sh.problem(ref[4], "discharge_reason is filled but discharged is empty.")
            if admitted is not None:
                if admitted > period.end or (discharged is not None and discharged < period.start):
                    sh.problem(ref[2], "the stay does not overlap the period.")
                if discharged is not None and discharged < admitted:
                    sh.problem(ref[3], f"discharged {discharged.isoformat()} is before admitted {admitted.isoformat()}.")
            if discharged is not None and discharged > made_on:
                sh.problem(ref[3], f"discharged {discharged.isoformat()} is after the return was made "
                           f"({made_on.isoformat()}).")
            order = (key, admitted.isoformat() if admitted else "", facility)
            if order < previous:
                sh.problem(ref[0], "the rows must be sorted by case_key, then admitted, then facility.")
            previous = max(previous, order)
            if admitted is not None and facility:
                out.append(StayRow(key, facility, admitted, discharged, reason))
        sh.close()
        return count

    def read_facilities(self, rows: list[list[object]], out: list[FacilityRow]) -> None:
        name = spec.FACILITIES
        sh = _Sheet(self.report, name)
        self.digest.sheet(name)
        if not rows:
            sh.problem("1", "the header row is missing.")
            sh.close()
            return
        for row in rows:
            self.digest.row(_digest_value(v) for v in row)
        where = self.header(sh, rows[0], 1, spec.FACILITY_COLUMNS)
        if where is None:
            sh.close()
            return
        idx = [where[c] for c in spec.FACILITY_COLUMNS]
        previous = None
        for r, row in enumerate(rows[1:], 2):
            if not any(v is not None for v in row):
                continue
            for i, v in enumerate(row):
                self.forbidden_text(sh, f"{col_letter(i)}{r}", v)
            row = row + [None] * (max(idx) + 1 - len(row))
            c = [row[i] for i in idx]
            ref = [f"{col_letter(i)}{r}" for i in idx]
            code = _text(c[0])
            if not code:
                sh.problem(ref[0], "facility (the code) is empty.")
                continue
            if previous is not None and code <= previous:
                sh.problem(ref[0], "the rows must be sorted by facility code, each code once.")
            previous = code if previous is None else max(previous, code)
            facility_name = _text(c[1])
            if not facility_name:
                sh.problem(ref[1], "name is empty.")
            capacity = _count(sh, ref[2], c[2], "capacity")
            child = _yn(sh, ref[3], c[3], "child_friendly")
            if isinstance(capacity, int) and child is not None:
                out.append(FacilityRow(code, facility_name, capacity, child))
        sh.close()


def _fmt(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
