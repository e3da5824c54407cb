"""Render the application icon from its SVG master: PNGs at 16…512 px and a Windows .ico.

    .venv/bin/python installer/make_icons.py

Each size is rendered from the vector master by Qt's SVG renderer (not scaled from one big
bitmap), so every size is sharp, including HiDPI ones. The .ico holds PNG-compressed images
(16, 24, 32, 48, 64, 128 and 256 px), which Windows Vista and later read. The outputs are
committed; run this again after editing ``resources/icons/tipdesk.svg``.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
MASTER = ICONS / "tipdesk.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render_png(size: int) -> bytes:
    """The master rendered at ``size``×``size`` pixels, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(MASTER))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: {MASTER} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.convertToFormat(QImage.Format.Format_ARGB32).save(buffer, "PNG")
    return bytes(data.data())


def ico_bytes(images: dict[int, bytes]) -> bytes:
    """An ICO file holding the given PNG images (ICONDIR, ICONDIRENTRYs, then the PNGs)."""
    count = len(images)
    header = struct.pack("<HHH", 0, 1, count)
    offset = 6 + 16 * count
    entries, blobs = b"", b""
    for size, png in sorted(images.items()):
        dim = 0 if size >= 256 else size  # 0 means 256 in an ICO directory
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset)
        blobs += png
        offset += len(png)
    return header + entries + blobs


def main() -> int:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (Qt needs one)
    rendered = {size: render_png(size) for size in PNG_SIZES}
    for size, png in rendered.items():
        (ICONS / f"tipdesk-{size}.png").write_bytes(png)
    (ICONS / "tipdesk.ico").write_bytes(ico_bytes({s: rendered[s] for s in ICO_SIZES}))
    print(f"make_icons: wrote {len(PNG_SIZES)} PNGs and tipdesk.ico into {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
