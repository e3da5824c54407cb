"""The occupancy sheet: one A4 page per facility for the office wall — never a name.

Beds, free, reserved or taken, since when (or until when held), and the planned departure;
case numbers only when the person printing asks for them. Printed through Qt's print dialog, or saved as PDF (rendered in memory
with ``QPdfWriter`` and written with ``atomic_write``, so no half-written file is left).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

from tipdesk import __version__
from ui.bed_board import BedCard
from ui.i18n import tr


def sheet_html(office: str, facility_name: str, facility_code: str, on: dt.date, cards: Sequence[BedCard],
               capacity: int, waiting: int, with_case_numbers: bool = False) -> str:
    """The sheet as HTML for ``QTextDocument`` (no names: the cards' names are never read)."""
    taken = sum(1 for c in cards if c.occupied)
    e = html.escape
    rows = []
    for c in cards:
        if c.reserved:
            cells = [e(c.label), e(tr("Sheet", "reserved")) + "<br>" + e(tr("Sheet", "last night {date}").format(
                date=c.reservation.held_until.isoformat())), "", ""]
        elif c.stay is None:
            cells = [e(c.label), f"<b>{e(tr('Sheet', 'free'))}</b>", "", ""]
        else:
            cells = [e(c.label), e(tr("Sheet", "taken")), e(c.stay.admitted.isoformat()),
                     e(c.stay.planned_discharge.isoformat() if c.stay.planned_discharge else "")]
        if with_case_numbers:
            shown = c.stay or c.reservation
            cells.append(e(shown.case.case_number) if shown else "")
        rows.append("<tr>" + "".join(f"<td style=\"white-space: nowrap\">{x}</td>" for x in cells) + "</tr>")
    heads = [tr("Sheet", "Bed / room"), tr("Sheet", "Tonight"), tr("Sheet", "Since"), tr("Sheet", "Leaves (planned)")]
    if with_case_numbers:
        heads.append(tr("Sheet", "Case"))
    # Only "Leaves (planned)" may wrap, so that the case numbers fit on the page.
    nowrap = ' style="white-space: nowrap"'
    head = "".join(f"<th align='left'{'' if i == 3 else nowrap}>{e(h)}</th>" for i, h in enumerate(heads))
    summary = tr("Sheet", "{taken} of {capacity} places taken, {free} free. {waiting} waiting for a place.").format(
        taken=taken, capacity=capacity, free=max(0, capacity - taken), waiting=waiting)
    held = sum(1 for c in cards if c.reserved)
    if held:
        summary += " " + tr("Sheet", "{n} of the free beds reserved.").format(n=held)
    return f"""
<html><body style="font-family: sans-serif; font-size: 11pt;">
<h2 style="margin-bottom: 2px;">{e(tr('Sheet', 'Occupancy'))} — {e(facility_name)} ({e(facility_code)})</h2>
<p style="margin-top: 0;">{e(tr('Sheet', 'Night of {date}').format(date=on.strftime('%A %d %B %Y')))}
 · {e(office)}</p>
<p>{e(summary)}</p>
<table border="1" cellspacing="0" cellpadding="5" width="100%" style="border-collapse: collapse;">
<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>
<p style="font-size: 8pt; color: #555;">{e(tr('Sheet', 'No names on this sheet. Printed by tipdesk {v} on {when}.').format(
        v=__version__, when=dt.datetime.now().strftime('%Y-%m-%d %H:%M')))}</p>
</body></html>"""


def _document(text: str) -> QTextDocument:
    doc = QTextDocument()
    doc.setDocumentMargin(0)  # the page layout has the margins
    doc.setHtml(text)
    return doc


def _layout() -> QPageLayout:
    return QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                       QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter)


def pdf_bytes(text: str) -> bytes:
    """The sheet rendered as a PDF, in memory."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setPageLayout(_layout())
    writer.setResolution(300)
    writer.setTitle(tr("Sheet", "Occupancy"))
    writer.setCreator("tipdesk")
    doc = _document(text)
    doc.print_(writer)
    del writer  # finishes the PDF
    buffer.close()
    return bytes(data.data())


def save_pdf(text: str, path: Path) -> None:
    """Write the sheet as a PDF file, atomically."""
    from tipdesk.vault.files import atomic_write

    atomic_write(Path(path), pdf_bytes(text), mode=0o644)


def print_sheet(text: str, parent=None) -> bool:  # noqa: ANN001
    """Show the print dialog and print; False when the person cancelled."""
    from PySide6.QtPrintSupport import QPrintDialog, QPrinter

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setPageLayout(_layout())
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle(tr("Sheet", "Print the occupancy sheet"))
    if dialog.exec() != QPrintDialog.DialogCode.Accepted:
        return False
    _document(text).print_(printer)
    return True
