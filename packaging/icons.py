"""Render ``resources/icons/vitalsight.svg`` into the raster icons each platform wants.

``python packaging/icons.py`` writes, beside the SVG: ``vitalsight.png`` (256 px, Linux and the window
icon), ``vitalsight-48.png``, ``vitalsight.ico`` (Windows: 16-256 px) and ``vitalsight.icns`` (macOS:
128-1024 px). The outputs are committed, so a build needs no image tools; rerun this after editing the SVG.
ICO and ICNS both accept PNG-compressed images, so they are assembled here from Qt's PNGs directly.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"


def render_png(renderer: QSvgRenderer, size: int) -> bytes:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def ico(pngs: dict[int, bytes]) -> bytes:
    """An ICO directory of PNG entries (valid since Windows Vista)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        blob = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256 in an ICO directory
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset)
        blobs += blob
        offset += len(blob)
    return header + entries + blobs


def icns(pngs: dict[int, bytes]) -> bytes:
    """An ICNS file of PNG entries: ic07=128, ic08=256, ic09=512, ic10=1024 pixels."""
    kinds = {128: b"ic07", 256: b"ic08", 512: b"ic09", 1024: b"ic10"}
    body = b"".join(
        kinds[s] + struct.pack(">I", 8 + len(pngs[s])) + pngs[s] for s in sorted(kinds) if s in pngs
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - QPainter needs it
    renderer = QSvgRenderer(str(ICONS / "vitalsight.svg"))
    if not renderer.isValid():
        raise SystemExit("vitalsight.svg did not parse")
    pngs = {size: render_png(renderer, size) for size in (16, 24, 32, 48, 64, 128, 256, 512, 1024)}
    (ICONS / "vitalsight.png").write_bytes(pngs[256])
    (ICONS / "vitalsight-48.png").write_bytes(pngs[48])
    (ICONS / "vitalsight.ico").write_bytes(ico({s: pngs[s] for s in (16, 24, 32, 48, 64, 256)}))
    (ICONS / "vitalsight.icns").write_bytes(icns(pngs))
    print(f"icons written to {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
