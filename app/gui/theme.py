"""The look of the desktop app in one place: a type scale, a spacing grid, light and dark
colours, and the style sheet built from them.

Every size in the style sheet is a step of the scales below, so the window reads as one
design; fonts are in points, so 150% and 200% scaling (QT_SCALE_FACTOR, the OS setting)
enlarge text and boxes together. The colour scheme follows the OS (QStyleHints.colorScheme,
Qt 6.5+), light when the OS does not say, and changes live when the OS switches.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

# The spacing grid: every margin, gap and padding is one of these (pixels, 4 px unit).
SPACE_XS, SPACE_S, SPACE_M, SPACE_L, SPACE_XL = 4, 8, 12, 16, 24
RADIUS_S, RADIUS_M, RADIUS_L = 4, 6, 10

# The type scale: point sizes as steps from the body size (a 1.125 ratio, rounded).
BODY_PT = 10.0
TYPE_SCALE = {"caption": 0.85, "body": 1.0, "subtitle": 1.125, "title": 1.27, "display": 1.6}


def font_pt(step: str) -> float:
    return round(BODY_PT * TYPE_SCALE[step], 1)


@dataclass(frozen=True, slots=True)
class Colours:
    window: str
    surface: str        # cards, inputs, lists
    surface_alt: str    # the user's message, hovered rows, code
    sidebar: str
    border: str
    text: str
    muted: str          # sources, captions, placeholders
    accent: str
    accent_text: str
    accent_soft: str    # selected rows, the local badge
    badge_text: str
    local_soft: str     # a local badge: green, "stayed here"
    cloud_soft: str     # a cloud or on-premises badge
    warning_soft: str
    warning_text: str


LIGHT = Colours(window="#f6f7f9", surface="#ffffff", surface_alt="#eef1f5", sidebar="#eceff3",
                border="#d5dae1", text="#1d232b", muted="#5d6875", accent="#2f5fb3",
                accent_text="#ffffff", accent_soft="#dde7f7", badge_text="#1f4d2e",
                local_soft="#dcefe2",
                cloud_soft="#f6e7cf", warning_soft="#fff3d6", warning_text="#5c3b00")
DARK = Colours(window="#1b1d21", surface="#23262b", surface_alt="#2c3036", sidebar="#17191c",
               border="#3a3f46", text="#e6e8eb", muted="#9aa3ad", accent="#6d9eeb",
               accent_text="#0d1117", accent_soft="#27364f", badge_text="#bfe3c9",
               local_soft="#1f3a2a",
               cloud_soft="#4a3b22", warning_soft="#4a3b1a", warning_text="#fff3d6")


def is_dark() -> bool:
    """The OS's choice; STILLROOM_THEME=light or dark overrides it (screenshots, or an OS
    that reports no scheme)."""
    forced = os.environ.get("STILLROOM_THEME", "").strip().lower()
    if forced in ("light", "dark"):
        return forced == "dark"
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)  # Qt 6.5+; older Qt: light
    return scheme is not None and scheme() == Qt.ColorScheme.Dark


def colours() -> Colours:
    return DARK if is_dark() else LIGHT


def palette(c: Colours) -> QPalette:
    roles = QPalette.ColorRole
    result = QPalette()
    for role, colour in ((roles.Window, c.window), (roles.WindowText, c.text),
                         (roles.Base, c.surface), (roles.AlternateBase, c.surface_alt),
                         (roles.Text, c.text), (roles.Button, c.surface),
                         (roles.ButtonText, c.text), (roles.Highlight, c.accent),
                         (roles.HighlightedText, c.accent_text), (roles.ToolTipBase, c.surface),
                         (roles.ToolTipText, c.text), (roles.PlaceholderText, c.muted),
                         (roles.Mid, c.border), (roles.Midlight, c.surface_alt),
                         (roles.Link, c.accent)):
        result.setColor(role, QColor(colour))
    for role in (roles.Text, roles.WindowText, roles.ButtonText):
        result.setColor(QPalette.ColorGroup.Disabled, role, QColor(c.muted))
    return result


def arrow_images(c: Colours, folder: Path | None = None) -> tuple[str, str]:
    """Chevron images for combo and spin boxes in the theme's ink (a styled box no longer
    draws the platform's arrows); written once per colour, as style sheets take files."""
    folder = folder or Path(tempfile.gettempdir()) / "stillroom-theme"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, points in (("down", "6,9 12,15 18,9"), ("up", "6,15 12,9 18,15")):
        path = folder / f"{name}-{c.muted.lstrip('#')}.svg"
        if not path.exists():
            path.write_text(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">'
                            f'<polyline points="{points}" fill="none" stroke="{c.muted}" '
                            f'stroke-width="2.4" stroke-linecap="round" '
                            f'stroke-linejoin="round"/></svg>', encoding="utf-8")
        paths.append(path.as_posix())
    return paths[0], paths[1]


def style_sheet(c: Colours) -> str:
    """The app's style sheet. Object names, not classes, pick the special widgets."""
    down, up = arrow_images(c)
    return f"""
QMainWindow, QDialog {{ background: {c.window}; }}
QToolTip {{ background: {c.surface}; color: {c.text}; border: 1px solid {c.border};
            padding: {SPACE_XS}px {SPACE_S}px; }}
QTabWidget::pane {{ border: none; }}
QTabBar::tab {{ padding: {SPACE_S}px {SPACE_L}px; margin-right: {SPACE_XS}px;
                border: none; border-bottom: 2px solid transparent; color: {c.muted}; }}
QTabBar::tab:selected {{ color: {c.text}; border-bottom: 2px solid {c.accent}; }}
QTabBar::tab:hover {{ color: {c.text}; }}
QPushButton {{ padding: {SPACE_XS + 1}px {SPACE_M}px; border: 1px solid {c.border};
               border-radius: {RADIUS_M}px; background: {c.surface}; }}
QPushButton:hover {{ background: {c.surface_alt}; }}
QPushButton:disabled {{ color: {c.muted}; background: {c.window}; }}
QPushButton[primary="true"] {{ background: {c.accent}; color: {c.accent_text};
                               border: 1px solid {c.accent}; font-weight: 600; }}
QPushButton[primary="true"]:disabled {{ background: {c.border}; border-color: {c.border};
                                        color: {c.muted}; }}
QPushButton:flat {{ border: none; background: transparent; color: {c.muted};
                    padding: {SPACE_XS}px {SPACE_S}px; }}
QPushButton:flat:hover {{ color: {c.text}; background: {c.surface_alt}; }}
QLineEdit, QPlainTextEdit, QComboBox, QSpinBox, QDoubleSpinBox {{
    border: 1px solid {c.border}; border-radius: {RADIUS_M}px; background: {c.surface};
    padding: {SPACE_XS}px {SPACE_S}px; selection-background-color: {c.accent};
    selection-color: {c.accent_text}; }}
QComboBox {{ padding-right: {SPACE_XL}px; }}
QComboBox::drop-down {{ subcontrol-origin: padding; subcontrol-position: center right;
                        width: {SPACE_XL}px; border: none; }}
QComboBox::down-arrow {{ image: url({down}); width: {SPACE_M}px; height: {SPACE_M}px; }}
QComboBox QAbstractItemView {{ border: 1px solid {c.border}; background: {c.surface};
    selection-background-color: {c.accent_soft}; selection-color: {c.text};
    padding: {SPACE_XS}px; }}
QSpinBox, QDoubleSpinBox {{ padding: {SPACE_XS}px {SPACE_L}px {SPACE_XS}px {SPACE_XS}px; }}
QSpinBox::up-button, QDoubleSpinBox::up-button {{ subcontrol-origin: border;
    subcontrol-position: top right; width: {SPACE_L}px; border: none; }}
QSpinBox::down-button, QDoubleSpinBox::down-button {{ subcontrol-origin: border;
    subcontrol-position: bottom right; width: {SPACE_L}px; border: none; }}
QSpinBox::up-arrow, QDoubleSpinBox::up-arrow {{ image: url({up}); width: 9px; height: 9px; }}
QSpinBox::down-arrow, QDoubleSpinBox::down-arrow {{ image: url({down}); width: 9px;
    height: 9px; }}
QLineEdit:focus, QPlainTextEdit:focus, QComboBox:focus, QSpinBox:focus,
QDoubleSpinBox:focus {{ border: 1px solid {c.accent}; }}
QListWidget, QTableWidget, QTableView {{ border: 1px solid {c.border};
    border-radius: {RADIUS_M}px; background: {c.surface}; gridline-color: {c.border};
    selection-background-color: {c.accent_soft}; selection-color: {c.text}; }}
QHeaderView::section {{ background: {c.surface_alt}; color: {c.muted}; border: none;
    border-bottom: 1px solid {c.border}; padding: {SPACE_XS}px {SPACE_S}px; }}
QGroupBox {{ border: 1px solid {c.border}; border-radius: {RADIUS_L}px;
             margin-top: {SPACE_L}px; padding: {SPACE_M}px {SPACE_S}px {SPACE_S}px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: {SPACE_M}px; padding: 0 {SPACE_XS}px;
                    font-weight: 600; }}
QDockWidget::title {{ padding: {SPACE_S}px {SPACE_M}px; font-weight: 600; }}
QStatusBar {{ color: {c.muted}; }}
QStatusBar::item {{ border: none; }}

#sidebar {{ background: {c.sidebar}; }}
#sidebar QListWidget {{ border: none; background: transparent; }}
#sidebar QListWidget::item {{ padding: {SPACE_S}px {SPACE_S}px; border-radius: {RADIUS_M}px; }}
#sidebar QListWidget::item:selected {{ background: {c.accent_soft}; color: {c.text}; }}
#sidebar QListWidget::item:hover:!selected {{ background: {c.surface_alt}; }}
#chatColumn {{ background: {c.window}; }}
#conversation, #conversation > QWidget > QWidget {{ background: {c.window}; border: none; }}
#userMessage {{ border: none; border-radius: {RADIUS_L}px; background: {c.surface_alt}; }}
#assistantMessage {{ border: 1px solid {c.border}; border-radius: {RADIUS_L}px;
                     background: {c.surface}; }}
#messageTitle {{ font-weight: 600; }}
#routeBadge {{ border-radius: {RADIUS_L}px; padding: 1px {SPACE_S}px;
               font-size: {font_pt("caption")}pt; background: {c.accent_soft};
               color: {c.text}; }}
#routeBadge[route="local"] {{ color: {c.badge_text}; background: {c.local_soft}; }}
#routeBadge[route="remote"] {{ background: {c.cloud_soft}; }}
#messageStatus, #meterSource, #codeLanguage, #caption {{ color: {c.muted};
    font-size: {font_pt("caption")}pt; }}
#meterName {{ color: {c.muted}; }}
#meterValue {{ font-weight: 600; }}
#codeBlock {{ border: 1px solid {c.border}; border-radius: {RADIUS_M}px;
              background: {c.surface_alt}; }}
#codeBlock QPlainTextEdit {{ border: none; background: transparent; padding: 0px; }}
#tour {{ border: 1px solid {c.border}; border-radius: {RADIUS_L}px; background: {c.surface}; }}
#emptyHint {{ color: {c.muted}; }}
#emptyState {{ color: {c.muted}; padding: {SPACE_XL}px; }}
#emptyTitle {{ font-size: {font_pt("title")}pt; font-weight: 600; color: {c.text}; }}
#composer {{ border-radius: {RADIUS_L}px; padding: {SPACE_S}px; }}
#problemsBanner {{ background: {c.warning_soft}; border-radius: {RADIUS_M}px; }}
#problemsBanner QLabel {{ color: {c.warning_text}; }}
"""


def apply_theme(app: QApplication) -> None:
    """Fusion, our palette and style sheet for the OS's light or dark choice, re-applied
    when the OS switches."""
    global BODY_PT
    app.setStyle("Fusion")
    font: QFont = app.font()
    BODY_PT = font.pointSizeF() if font.pointSizeF() > 0 else BODY_PT

    def follow() -> None:
        scheme = colours()
        app.setPalette(palette(scheme))
        app.setStyleSheet(style_sheet(scheme))

    follow()
    hints = QGuiApplication.styleHints()
    if hasattr(hints, "colorSchemeChanged"):
        hints.colorSchemeChanged.connect(lambda _scheme: follow())
