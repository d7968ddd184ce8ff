"""The fit badge: one word for "will it run here", the estimate's explanation as tooltip.

Used for installed models (their GGUF header, read off the UI thread) and Hub files (the
remote estimate). The words are fixed so users learn them once: fits, tight, too big,
unknown.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QTableWidgetItem

from inference.types import ModelInfo

BADGES = {"fits": "fits", "tight": "tight", "too-big": "too big", "unknown": "unknown"}
# Muted colours that read on the light and the dark palette alike.
COLOURS = {"fits": "#2e8b57", "tight": "#c98a00", "too-big": "#c0392b", "unknown": "#808080"}
PENDING = "…"


def badge_text(verdict: str) -> str:
    return BADGES.get(verdict, "unknown")


def installed_fit(model: ModelInfo, context_length: int) -> tuple[str, str]:
    """(verdict, explanation) for an installed model; reads its header, so call it off the
    UI thread. Formats without a GGUF header get "unknown" with the reason."""
    from inference.fit import estimate_fit
    from inference.gguf_file import GGUFError, read_summary

    if model.format != "gguf":
        return "unknown", f"fit estimates read GGUF headers; {model.name} is {model.format}"
    try:
        fit = estimate_fit(read_summary(model.path), context_length)
    except GGUFError as exc:
        return "unknown", str(exc)
    except OSError as exc:
        return "unknown", f"cannot read {model.path}: {exc.strerror or exc}"
    return fit.verdict, fit.explanation


def set_badge(item: QTableWidgetItem, verdict: str | None, why: str = "") -> None:
    """Show a verdict (None: still being estimated) in a table cell."""
    if verdict is None:
        item.setText(PENDING)
        item.setToolTip("estimating…")
        return
    word = badge_text(verdict)
    item.setText(word)
    item.setToolTip(why or word)
    item.setForeground(QBrush(QColor(COLOURS.get(verdict, COLOURS["unknown"]))))
    item.setData(Qt.ItemDataRole.UserRole, verdict)  # the raw verdict, for tests
