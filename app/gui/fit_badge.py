"""The fit badge: one word for "will it run here", the estimate's explanation as tooltip.

Used for installed models (their GGUF header, read off the UI thread) and Hub files (the
remote estimate). The words are fixed so users learn them once: fits, tight, too big,
unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QTableWidgetItem

from inference.engines.types import ModelInfo

if TYPE_CHECKING:
    from inference.hardware import GpuInfo
    from inference.models.fit import FitEstimate

BADGES = {"fits": "fits", "tight": "tight", "too-big": "too big", "unknown": "unknown"}
# Muted colours that read on the light and the dark palette alike.
COLOURS = {"fits": "#2e8b57", "tight": "#c98a00", "too-big": "#c0392b", "unknown": "#808080"}
PENDING = "…"


def badge_text(verdict: str) -> str:
    return BADGES.get(verdict, "unknown")


def explain(fit: FitEstimate) -> str:
    """The estimate's explanation, plus the GPU offload advice where a GPU takes part."""
    if fit.offload.device is None:
        return fit.explanation
    return f"{fit.explanation}; {fit.offload.reason}"


def installed_fit(model: ModelInfo, context_length: int,
                  gpus: Sequence[GpuInfo] | None = None) -> tuple[str, str]:
    """(verdict, explanation) for an installed model; reads its header (and, without
    `gpus`, looks for GPUs), so call it off the UI thread. A header that cannot be read
    gives "unknown" with the reason."""
    from inference.models.fit import estimate_fit, estimate_model_dir_fit
    from inference.models.gguf_file import GGUFError, read_summary
    from inference.models.safetensors_dir import ModelDirError

    try:
        if model.format == "mlx":
            fit = estimate_model_dir_fit(model.path, context_length, gpus=gpus)
        elif model.format == "gguf":
            fit = estimate_fit(read_summary(model.path), context_length, gpus=gpus)
        else:
            return "unknown", f"no fit estimate for the {model.format} format"
    except (GGUFError, ModelDirError) as exc:
        return "unknown", str(exc)
    except OSError as exc:
        return "unknown", f"cannot read {model.path}: {exc.strerror or exc}"
    return fit.verdict, explain(fit)


def set_badge(item: QTableWidgetItem, verdict: str | None, why: str = "") -> None:
    """Show a verdict (None: still being estimated) in a table cell."""
    if verdict is None:
        item.setText(PENDING)
        item.setToolTip("estimating…")
        return
    word = badge_text(verdict)
    item.setText(word)
    item.setToolTip(f"{word}: {why}" if why else word)
    item.setForeground(QBrush(QColor(COLOURS.get(verdict, COLOURS["unknown"]))))
    item.setData(Qt.ItemDataRole.UserRole, verdict)  # the raw verdict, for tests
