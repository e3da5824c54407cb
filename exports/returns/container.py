"""Checks on an untrusted file before any spreadsheet library reads it.

A return travels by USB stick and email; whoever made it may be hostile. Before python-calamine
sees a byte we check, with the standard library only:
- the kind of file (an ``.xlsx`` workbook; we say so for ``.xls``, ``.ods``, ``.xlsb``, macro
  workbooks, and encrypted or password-protected files, which are OLE containers);
- its size and the declared uncompressed sizes of its parts (zip bombs), before inflating;
- every part, inflated by our own bounded loop: a part that inflates past its declared size or
  fails its CRC is refused, and so is any DTD or entity declaration (``<!DOCTYPE``, ``<!ENTITY``);
- in the data sheets' XML, every formula (``<f>``), boolean (``t="b"``) and error (``t="e"``)
  cell, which python-calamine would silently turn into a value or an empty cell.
The small XML parts we parse ourselves (workbook, relationships) go through defusedxml.
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from exports.returns import spec
from tipdesk.errors import ReturnProblem

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
CHUNK = 1 << 20
SMALL_PART_LIMIT = 16 * 1024 * 1024  # workbook.xml and relationship parts we parse ourselves
MAX_LISTED = 20  # formula/boolean/error cells listed per sheet; the rest are counted

_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")
_BAD_TYPE = re.compile(rb"""\st\s*=\s*["'](b|e)["']""")
_CELL_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s[^<>]*?\br\s*=\s*[\"']([A-Za-z]{1,3}[0-9]{1,7})[\"']")

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
MACRO_TYPES = ("macroEnabled", "vbaProject")


@dataclass
class ContainerReport:
    """What the pre-read found: problems, and which part each sheet lives in."""

    problems: list[ReturnProblem] = field(default_factory=list)
    readable: bool = False  # safe to hand to python-calamine
    sheet_parts: dict[str, str] = field(default_factory=dict)  # sheet name → part path
    sheet_kinds: dict[str, str] = field(default_factory=dict)  # sheet name → worksheet/chartsheet/…


def _problem(report: ContainerReport, message: str, sheet: str = "", cell: str = "") -> None:
    report.problems.append(ReturnProblem(sheet, cell, message))


def check_container(path: Path, data_sheets: tuple[str, ...] = spec.DIGEST_ORDER) -> ContainerReport:
    """Check the file as a container; scan the XML of ``data_sheets`` for forbidden cells."""
    report = ContainerReport()
    name = path.name
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        _problem(report, f"{name} cannot be read: {exc.strerror or exc}.")
        return report
    if size > spec.MAX_FILE_BYTES:
        _problem(report, f"The file is {size / 1e6:,.1f} MB; a return may be at most "
                         f"{spec.MAX_FILE_BYTES // 1_000_000} MB. It was not read.")
        return report
    if head.startswith(OLE_MAGIC):
        _problem(report, _ole_kind(path))
        return report
    if not head.startswith(ZIP_MAGIC):
        if size == 0:
            _problem(report, "The file is empty: it is not an Excel workbook (.xlsx).")
        else:
            _problem(report, "This is not an Excel workbook (.xlsx): the file is of another kind"
                             + (" (its name ends in .xlsx, but its contents are not a workbook)." if
                                name.lower().endswith(".xlsx") else "."))
        return report
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        _problem(report, f"The file is damaged or cut short: it cannot be opened as a workbook ({exc}).")
        return report
    with zf:
        infos = zf.infolist()
        names = {i.filename for i in infos}
        if "mimetype" in names and "content.xml" in names:
            _problem(report, "This is an OpenDocument spreadsheet (.ods), not an Excel workbook (.xlsx). "
                             "Returns must be .xlsx files made by software that implements TIP-RETURN/1.")
            return report
        if "xl/workbook.bin" in names:
            _problem(report, "This is an Excel binary workbook (.xlsb), not an .xlsx workbook.")
            return report
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            _problem(report, "This is a zip file but not an Excel workbook (.xlsx): it has no workbook part.")
            return report
        if len(infos) > spec.MAX_ZIP_ENTRIES:
            _problem(report, f"The workbook has {len(infos):,} parts; no return needs more than "
                             f"{spec.MAX_ZIP_ENTRIES:,}. It was not read.")
            return report
        declared = 0
        for info in infos:
            if info.flag_bits & 0x1:
                _problem(report, "The workbook's contents are encrypted (a password-protected zip). "
                                 "A return must not be encrypted.")
                return report
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                _problem(report, f"The part {info.filename} uses a compression method Excel does not write.")
                return report
            declared += info.file_size
        if declared > spec.MAX_INFLATED_BYTES:
            _problem(report, f"Unpacked, the workbook would take {declared / 2**30:,.1f} GB (more than 2 GB): "
                             "it looks like a zip bomb and was not read.")
            return report
        small: dict[str, bytes] = {}
        wanted_small = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"}
        try:
            for info in infos:
                if info.filename in wanted_small:
                    small[info.filename] = _inflate_all(path, info)
        except _PartError as exc:
            _problem(report, str(exc))
            return report
        for part, data in small.items():
            if _DTD.search(data):
                _problem(report, f"The part {part} declares a DTD or entities; a return never does. It was not read.")
                return report
        content_types = small.get("[Content_Types].xml", b"")
        if any(m.encode() in content_types for m in MACRO_TYPES) or "xl/vbaProject.bin" in names:
            _problem(report, "This workbook contains macros (.xlsm); a return is a plain .xlsx workbook.")
            return report
        try:
            _map_sheets(report, small.get("xl/workbook.xml", b""), small.get("xl/_rels/workbook.xml.rels", b""))
        except (SafeET.ParseError, DefusedXmlException, ValueError) as exc:
            _problem(report, f"The workbook's list of sheets cannot be read ({exc}).")
            return report
        scan_parts = {part: sheet for sheet, part in report.sheet_parts.items() if sheet in data_sheets}
        for info in infos:
            if info.filename in small:
                continue
            try:
                _scan_part(path, info, report, scan_parts.get(info.filename))
            except _PartError as exc:
                _problem(report, str(exc))
                return report
    report.readable = True
    return report


def _ole_kind(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read(8 * 1024 * 1024)
    except OSError:
        data = b""
    if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
        return ("This workbook is encrypted or protected with a password to open. A return must be "
                "saved without a password; ask the office to send it again unprotected.")
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return ("This is an old-style Excel workbook (.xls). Returns must be .xlsx files made by software "
                "that implements TIP-RETURN/1.")
    return "This is an old Microsoft Office file (OLE), not an Excel workbook (.xlsx)."


class _PartError(Exception):
    pass


def _data_offset(fh, info: zipfile.ZipInfo) -> int:
    fh.seek(info.header_offset)
    header = fh.read(30)
    if len(header) != 30 or header[:4] != ZIP_MAGIC:
        raise _PartError(f"The part {info.filename} is damaged (bad local header).")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_len + extra_len


def _iter_inflated(path: Path, info: zipfile.ZipInfo):
    """Yield the part's bytes, never more than its declared size; check size and CRC at the end."""
    limit = info.file_size
    produced = 0
    crc = 0
    with open(path, "rb") as fh:
        fh.seek(_data_offset(fh, info))
        left = info.compress_size
        inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        while left > 0 or (inflater is not None and inflater.unconsumed_tail):
            if inflater is not None and inflater.unconsumed_tail:
                raw = inflater.unconsumed_tail
            else:
                raw = fh.read(min(CHUNK, left))
                if not raw:
                    raise _PartError(f"The part {info.filename} is cut short: the file is incomplete.")
                left -= len(raw)
            if inflater is None:
                out = raw
            else:
                try:
                    out = inflater.decompress(raw, CHUNK)
                except zlib.error as exc:
                    raise _PartError(f"The part {info.filename} is damaged ({exc}).") from exc
            produced += len(out)
            if produced > limit:
                raise _PartError(f"The part {info.filename} unpacks to more than its declared size: the file "
                                 "was tampered with (a zip bomb?) and was not read.")
            crc = zlib.crc32(out, crc)
            if out:
                yield out
            if inflater is not None and inflater.eof:
                break
    if produced != limit or crc != info.CRC:
        raise _PartError(f"The part {info.filename} is damaged (its size or checksum is wrong).")


def _inflate_all(path: Path, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > SMALL_PART_LIMIT:
        raise _PartError(f"The part {info.filename} is implausibly large ({info.file_size:,} bytes).")
    return b"".join(_iter_inflated(path, info))


def _scan_part(path: Path, info: zipfile.ZipInfo, report: ContainerReport, sheet: str | None) -> None:
    carry = b""
    listed = 0
    extra = 0
    first = True
    for chunk in _iter_inflated(path, info):
        if first and info.filename.endswith((".xml", ".rels")) and (
                chunk.startswith((b"\xff\xfe", b"\xfe\xff")) or chunk[1:2] == b"\x00"):
            raise _PartError(f"The part {info.filename} is not stored in UTF-8 as spreadsheet programs "
                             "write it; tipdesk does not read it.")
        first = False
        buf = carry + chunk
        boundary = len(carry)
        match = _DTD.search(buf, max(0, boundary - 16))
        if match:
            raise _PartError(f"The part {info.filename} declares a DTD or entities; a return never does. "
                             "It was not read.")
        if sheet is not None:
            # Cheap substring tests first (memchr speed); the regexes run only when one hits.
            # (A colon or an apostrophe is rare in a sheet: one quick test spares two searches.)
            formula_maybe = b"<f" in buf or (b":" in buf and b":f" in buf)
            type_maybe = (b'"b"' in buf or b'"e"' in buf
                          or (b"'" in buf and (b"'b'" in buf or b"'e'" in buf)))
            for pattern, what in ((_FORMULA, "formula"), (_BAD_TYPE, None)):
                if (what and not formula_maybe) or (not what and not type_maybe):
                    continue
                for m in pattern.finditer(buf):
                    if m.end() <= boundary:
                        continue  # seen in the previous chunk
                    kind = what or ("a TRUE/FALSE value" if m.group(1) == b"b" else "an error value")
                    if what == "formula":
                        kind = "a formula"
                    if listed < MAX_LISTED:
                        _problem(report, f"the cell holds {kind}; data sheets hold only text and numbers.",
                                 sheet, _cell_before(buf, m.start()))
                        listed += 1
                    else:
                        extra += 1
        carry = buf[-4096:]
    if extra:
        _problem(report, f"{extra:,} more cells hold formulas, booleans or error values.", sheet or "")


def _cell_before(buf: bytes, pos: int) -> str:
    start = max(buf.rfind(b"<c ", 0, pos + 1), buf.rfind(b":c ", 0, pos + 1))
    if start < 0:
        return ""
    m = _CELL_START.match(buf, start if buf[start:start + 1] == b"<" else buf.rfind(b"<", 0, start + 1))
    return m.group(1).decode("ascii").upper() if m else ""


def _map_sheets(report: ContainerReport, workbook_xml: bytes, rels_xml: bytes) -> None:
    """Sheet name → part path, from workbook.xml and its relationships (parsed by defusedxml)."""
    wb = SafeET.fromstring(workbook_xml, forbid_dtd=True)
    rels = SafeET.fromstring(rels_xml, forbid_dtd=True) if rels_xml else None
    targets: dict[str, tuple[str, str]] = {}
    if rels is not None:
        for rel in rels.iter(f"{{{NS_PKG_REL}}}Relationship"):
            target = rel.get("Target", "")
            kind = rel.get("Type", "").rsplit("/", 1)[-1]
            full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            targets[rel.get("Id", "")] = (full, kind)
    for sheet in wb.iter(f"{{{NS_MAIN}}}sheet"):
        name = sheet.get("name", "")
        rid = sheet.get(f"{{{NS_REL}}}id", "")
        part, kind = targets.get(rid, ("", ""))
        report.sheet_parts[name] = part
        report.sheet_kinds[name] = kind
