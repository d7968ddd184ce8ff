"""The app's icons: a small set drawn for Stillroom (simple strokes on a 24-unit grid, ours,
under the project's licence), rendered with QtSvg at every size a screen asks for, so they
stay sharp at 150% and 200% scaling, and coloured for the current light or dark theme."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap

from app.gui.theme import colours

# Path data on a 24x24 grid; stroked, not filled, with round caps and joins.
SHAPES = {
    "new": "M12 5v14M5 12h14",
    "send": "M12 19V5M6 11l6-6 6 6",
    "stop": "M7 7h10v10H7z",
    "copy": "M9 9h10v10H9zM5 15V5h10",
    "edit": "M4 20h4L19 9l-4-4L4 16zM13 7l4 4",
    "regenerate": "M19 12a7 7 0 1 1-2.05-4.95M19 4v4h-4",
    "search": "M10.5 17a6.5 6.5 0 1 0 0-13 6.5 6.5 0 0 0 0 13zM15.5 15.5L20 20",
    "settings": "M4 7h10M18 7h2M4 17h4M12 17h8M14 5v4M8 15v4",
    "model": "M7 7h10v10H7zM10 4v3M14 4v3M10 17v3M14 17v3M4 10h3M4 14h3M17 10h3M17 14h3",
    "download": "M12 4v11M7 10l5 5 5-5M5 20h14",
    "delete": "M5 7h14M10 7V4h4v3M7 7l1 13h8l1-13",
    "system": "M5 5h14v10H9l-4 4z",
    "costs": "M5 19V11M10 19V6M15 19v-5M20 19V9",
    "quantize": "M4 12h4l2-6 4 12 2-6h4",
    "folder": "M3 7h6l2 2h10v10H3z",
    "load": "M12 4v10M8 10l4 4 4-4M6 20h12",
    "unload": "M12 14V4M8 8l4-4 4 4M6 20h12",
}
SIZES = (16, 20, 24, 32, 40, 48, 64)


def _svg(path: str, colour: str) -> bytes:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" '
            f'stroke="{colour}" stroke-width="1.8" stroke-linecap="round" '
            f'stroke-linejoin="round"><path d="{path}"/></svg>').encode()


@cache
def _icon(name: str, colour: str) -> QIcon:
    from PySide6.QtSvg import QSvgRenderer  # loaded with the first icon, not at start-up

    renderer = QSvgRenderer(QByteArray(_svg(SHAPES[name], colour)))
    icon = QIcon()
    for size in SIZES:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        icon.addPixmap(pixmap)
    return icon


def icon(name: str, *, on_accent: bool = False) -> QIcon:
    """The named icon in the theme's muted ink (or the accent's text colour, for a primary
    button)."""
    scheme = colours()
    return _icon(name, scheme.accent_text if on_accent else scheme.muted)
