"""Render every tab and dialog of the desktop app and list what does not fit.

    QT_QPA_PLATFORM=offscreen [QT_SCALE_FACTOR=1.5] python -m tests.gui.layout_audit \
        --size 1280x800 --out test-artifacts/screenshots/1280x800

Run in a child process by tests/gui/test_layout_fit.py (Qt reads QT_SCALE_FACTOR once, at
start). The window is the real one over the real services and embedded model, with the
content that stresses it: long conversation titles, an answered question (its route badge
and the meters' figures), the Models tab, and each dialog. Prints one JSON object on its
last line: {"problems": [...], "unnamed": [...], "shots": [...]}; each problem is one line
naming the widget; "unnamed" lists interactive controls with no accessible name or text.

What counts as a problem (everything measured with the widget's own QFontMetrics):
- a QLabel whose text needs more width or height than the label has (word wrap and rich
  text laid out as QLabel lays them out; a label that elides itself is exempt from width);
- a route or model badge that needs more than two lines;
- a combo box whose current text is wider than its text field (unless it elides itself);
- a button whose text is cut, a list or table that scrolls sideways, a table cell cut
  without a tooltip holding its full text;
- two widgets of the same layout that overlap (the layout was squeezed below its minimum);
- a window or dialog larger than the screen size asked for.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

SLACK_PX = 2  # rounding between QLabel's own layout and a QTextDocument laid out the same way
LONG_TITLES = (
    "Draft the indemnification clause for the Hartwell commercial lease renewal and "
    "compare it with the 2019 terms",
    "Summarise the deposition transcript of Dr. Okonkwo-Vanderberg, pages 1-240",
    "Trip to Lisbon",
)
QUESTION = "Which clauses of a commercial lease should I check before renewing it?"
ANSWER = ("Check these before you sign the renewal:\n\n1. **Rent review**: how the new rent "
          "is set.\n2. **Repairs**: who pays for what.\n\n```text\nRenewal term: 5 years\n"
          "Notice: 6 months\n```\n\nAsk your landlord for the schedule of condition.")
# A finished local turn's figures as the worker sends them to the window (app/gui/worker.py):
# no power sensor, no tariff set, a catalog price for the cloud equivalent.
FIGURES = {
    "finish_reason": "stop", "ttft_s": 0.127, "prefill_tps": 355.0, "decode_tps": 123.5,
    "total_s": 0.85, "prompt_tokens": 45, "completion_tokens": 89, "prompt_tokens_reused": 30,
    "energy": {"joules": None, "kind": "not measured",
               "source": "not measured: no power sensor is live on this machine (see "
                         "`stillroom doctor`)"},
    "cost": {"local_energy_usd": None, "local_hardware_usd": None,
             "cloud_equivalent_usd": "0.00006015", "cloud_equivalent_model": "gpt-4o-mini",
             "price_as_of": "2026-02-01",
             "notes": {"electricity": "unknown: energy not measured; electricity price per "
                                      "kWh not set",
                       "hardware": "unknown: hardware price not set"}},
}


def wait_until(condition: Callable[[], bool], limit_s: float = 120) -> bool:
    """Run the event loop until `condition()` holds; False if it never did (a hang guard,
    not a speed target: the audit reports what it could render)."""
    from PySide6.QtCore import QCoreApplication

    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        QCoreApplication.processEvents()
        time.sleep(0.01)
    return True


def settle(rounds: int = 20) -> None:
    from PySide6.QtCore import QCoreApplication

    for _ in range(rounds):
        QCoreApplication.processEvents()
        time.sleep(0.005)


# -- the checks ----------------------------------------------------------------------------
def describe(widget) -> str:
    name = widget.accessibleName() or widget.objectName()
    if not name and hasattr(widget, "text") and callable(widget.text):
        name = str(widget.text())[:40]
    return f"{type(widget).__name__}({name!r})"


def _visible(widget) -> bool:
    return widget.isVisible() and widget.width() > 0 and widget.height() > 0


def label_needs(label):
    """The size the label's text needs inside its contents rectangle, laid out as QLabel
    lays it out: wrapped at the rectangle's width when word wrap is on."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import Qt as GuiQt  # mightBeRichText lives in QtGui's Qt namespace
    from PySide6.QtGui import QTextDocument, QTextOption

    rect = label.contentsRect().adjusted(label.margin(), label.margin(), -label.margin(),
                                         -label.margin())
    text = label.text()
    fmt = label.textFormat()
    document = QTextDocument()
    document.setDefaultFont(label.font())
    document.setDocumentMargin(0)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WordWrap if label.wordWrap()
                       else QTextOption.WrapMode.NoWrap)
    document.setDefaultTextOption(option)
    if fmt == Qt.TextFormat.MarkdownText:
        document.setMarkdown(text)
    elif fmt == Qt.TextFormat.RichText or (fmt == Qt.TextFormat.AutoText
                                           and GuiQt.mightBeRichText(text)):
        document.setHtml(text)
    else:
        document.setPlainText(text)
    if label.wordWrap():
        document.setTextWidth(rect.width())
    size = document.size()
    return size, document.idealWidth(), rect


def label_problems(label) -> Iterator[str]:
    if not label.text() or (label.pixmap() is not None and not label.pixmap().isNull()):
        return
    size, ideal, rect = label_needs(label)
    needed_width = ideal if label.wordWrap() else size.width()
    if needed_width > rect.width() + SLACK_PX and not getattr(label, "elides", False):
        yield (f"{describe(label)} text needs {needed_width:.0f} px of width, has "
               f"{rect.width()}: {label.text()[:60]!r}")
    if size.height() > rect.height() + SLACK_PX:
        yield (f"{describe(label)} text needs {size.height():.0f} px of height, has "
               f"{rect.height()}: {label.text()[:60]!r}")
    if "badge" in label.objectName().lower():
        lines = round(size.height() / max(1, label.fontMetrics().lineSpacing()))
        if lines > 2:
            yield f"{describe(label)} wraps to {lines} lines: {label.text()[:60]!r}"


def combo_problems(combo) -> Iterator[str]:
    from PySide6.QtWidgets import QStyle, QStyleOptionComboBox

    if combo.isEditable() or getattr(combo, "elides", False) or not combo.currentText():
        return
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                         QStyle.SubControl.SC_ComboBoxEditField, combo)
    needed = combo.fontMetrics().horizontalAdvance(combo.currentText())
    if needed > field.width() + SLACK_PX:
        yield (f"{describe(combo)} shows {combo.currentText()[:60]!r} in {field.width()} px; "
               f"it needs {needed}")


def button_problems(button) -> Iterator[str]:
    if not button.text():
        return
    hint = button.sizeHint()
    if hint.width() > button.width() + SLACK_PX:
        yield f"{describe(button)} needs {hint.width()} px of width, has {button.width()}"


def view_problems(view) -> Iterator[str]:
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtWidgets import QTableWidget

    if view.horizontalScrollBar().isVisible():
        yield f"{describe(view)} scrolls sideways"
    if not isinstance(view, QTableWidget):
        return
    metrics = view.fontMetrics()
    for row in range(view.rowCount()):
        for column in range(view.columnCount()):
            item = view.item(row, column)
            if item is None or not item.text() or view.isColumnHidden(column):
                continue
            width = view.columnWidth(column) - 8  # the delegate's text margins
            text = item.text()
            if view.wordWrap():
                needed = metrics.boundingRect(QRect(0, 0, width, 100_000),
                                              Qt.TextFlag.TextWordWrap, text).height()
                if needed > view.rowHeight(row) + SLACK_PX:
                    yield (f"{describe(view)} cell ({row}, {column}) needs {needed} px of "
                           f"height, has {view.rowHeight(row)}: {text[:50]!r}")
            elif metrics.horizontalAdvance(text) > width and text not in item.toolTip():
                yield (f"{describe(view)} cell ({row}, {column}) is cut with no tooltip "
                       f"holding its text: {text[:50]!r}")


def layout_widgets(layout) -> Iterator:
    for index in range(layout.count()):
        item = layout.itemAt(index)
        if item.widget() is not None:
            yield item.widget()
        elif item.layout() is not None:
            yield from layout_widgets(item.layout())


def overlap_problems(widget) -> Iterator[str]:
    if widget.layout() is None:
        return
    siblings = [w for w in layout_widgets(widget.layout()) if _visible(w)]
    for index, first in enumerate(siblings):
        for second in siblings[index + 1:]:
            shared = first.geometry().intersected(second.geometry())
            if shared.width() > 0 and shared.height() > 0:
                yield (f"{describe(first)} and {describe(second)} overlap by "
                       f"{shared.width()}x{shared.height()} px in {describe(widget)}")


def unnamed_controls(root, where: str) -> list[str]:
    """Interactive controls a screen reader could only call by their class: no accessible
    name and no text of their own."""
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QAbstractSlider,
        QAbstractSpinBox,
        QComboBox,
        QHeaderView,
        QLineEdit,
        QPlainTextEdit,
        QScrollBar,
        QTextEdit,
        QWidget,
    )

    interactive = (QAbstractButton, QAbstractItemView, QAbstractSlider, QAbstractSpinBox,
                   QComboBox, QLineEdit, QPlainTextEdit, QTextEdit)
    found = []
    for widget in root.findChildren(QWidget):
        if not _visible(widget) or not isinstance(widget, interactive) \
                or isinstance(widget, QScrollBar | QHeaderView):
            continue
        # The line edit inside a spin or combo box, the list inside a combo box: the outer
        # control carries the name.
        parent = widget.parentWidget()
        while parent is not None and not isinstance(parent, QAbstractSpinBox | QComboBox):
            parent = parent.parentWidget()
        if parent is not None:
            continue
        text = widget.text() if isinstance(widget, QAbstractButton) else ""
        if not widget.accessibleName().strip() and not str(text).strip():
            found.append(f"{where}: {type(widget).__name__} "
                         f"(object {widget.objectName()!r}, tooltip {widget.toolTip()!r}) "
                         f"has no accessible name or text")
    return found


def audit(root, where: str) -> list[str]:
    from PySide6.QtWidgets import (
        QAbstractItemView,
        QComboBox,
        QLabel,
        QPushButton,
        QWidget,
    )

    problems: list[str] = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not _visible(widget):
            continue
        if isinstance(widget, QLabel):
            problems.extend(label_problems(widget))
        elif isinstance(widget, QComboBox):
            problems.extend(combo_problems(widget))
        elif isinstance(widget, QPushButton):
            problems.extend(button_problems(widget))
        elif isinstance(widget, QAbstractItemView):
            problems.extend(view_problems(widget))
        problems.extend(overlap_problems(widget))
    return [f"{where}: {problem}" for problem in dict.fromkeys(problems)]


# -- the scenes ----------------------------------------------------------------------------
class Scenes:
    def __init__(self, width: int, height: int, out: Path) -> None:
        self.width, self.height, self.out = width, height, out
        self.problems: list[str] = []
        self.unnamed: list[str] = []
        self.shots: list[str] = []

    def check(self, widget, name: str) -> None:
        settle()
        self.problems.extend(audit(widget, name))
        self.unnamed.extend(unnamed_controls(widget, name))
        if widget.isWindow() and (widget.width() > self.width or widget.height() > self.height):
            self.problems.append(f"{name}: {widget.width()}x{widget.height()} does not fit a "
                                 f"{self.width}x{self.height} screen")
        target = self.out / f"{name}.png"
        widget.grab().save(str(target))
        self.shots.append(str(target))

    def dialog(self, dialog, name: str, ready: Callable[[], bool] = lambda: True) -> None:
        dialog.show()
        wait_until(ready, 60)
        self.check(dialog, name)
        tabs = getattr(dialog, "tabs", None)
        if tabs is not None:
            for index in range(1, tabs.count()):
                tabs.setCurrentIndex(index)
                self.check(dialog, f"{name}-{tabs.tabText(index).lower()}")
        dialog.close()


def open_answered_conversation(window) -> None:
    """A conversation answered on this machine, as the store keeps it, opened in the window,
    and the meters showing that answer's figures."""
    store, model = window.services.store, window.services.library.list()[0]
    conversation = store.create(model_id=model.id, system_prompt=None,
                                title="Which clauses of a commercial lease should I check")
    store.add_user_message(conversation.id, QUESTION)
    answer = store.start_answer(conversation.id, model_id=model.id, route_target="local",
                                route_rule="default",
                                route_reason="no cloud or on-premises provider is configured")
    answer.append(ANSWER)
    answer.finish("complete")
    window.sidebar.refresh(select=conversation.id)
    window.open_conversation(conversation.id)
    window.meters.show_turn(FIGURES, final=True)


def run(width: int, height: int, out: Path) -> dict:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.gui.app import apply_theme
    from app.gui.window import MainWindow
    from app.services import Services

    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    services = Services.open()
    for title in LONG_TITLES:
        conversation = services.store.create(model_id=None, system_prompt=None, title=title)
        services.store.add_user_message(conversation.id, "…")
    window = MainWindow(services, QSettings(str(Path(os.environ["STILLROOM_HOME"])
                                                / "ui-state.ini"), QSettings.Format.IniFormat))
    window.resize(width, height)
    window.show()
    scenes = Scenes(width, height, out)
    settle()
    scenes.check(window, "chat-empty")

    open_answered_conversation(window)
    wait_until(lambda: window.meters.value("power") != "…", 30)
    scenes.check(window, "chat")

    window.tabs.setCurrentWidget(window.models_tab)
    wait_until(lambda: window.models_tab.installed.table.rowCount() > 0, 60)
    scenes.check(window, "models")
    window.tabs.setCurrentIndex(0)

    from app.gui.audit_dialog import AuditDialog
    from app.gui.cost_dialog import CostDialog
    from app.gui.dialogs import PolicyDialog, SettingsDialog, SystemPromptDialog
    from app.gui.quantize_dialog import QuantizeDialog
    from routing.keys import KeyStore

    scenes.dialog(SystemPromptDialog("You help a lawyer draft clear text.", window.ui_state,
                                     window), "system-prompt")
    settings = SettingsDialog(services.settings, services.library.list(),
                              str(services.data_dir),
                              KeyStore(services.data_dir / "keys-index.json"), window,
                              at_rest=services.at_rest.line())
    scenes.dialog(settings, "settings")
    scenes.dialog(PolicyDialog(services.data_dir / "policy.toml", window), "policy")
    costs = CostDialog(services, window)
    scenes.dialog(costs, "costs", lambda: costs.report is not None)
    audit_dialog = AuditDialog(services, window)
    scenes.dialog(audit_dialog, "audit", lambda: audit_dialog.result is not None)
    quantize = QuantizeDialog(services, services.library.list()[0], window)
    scenes.dialog(quantize, "quantize", lambda: quantize.type_box.isEnabled()
                  or bool(quantize.status.text()))

    window.close()
    services.close()
    return {"problems": scenes.problems, "unnamed": list(dict.fromkeys(scenes.unnamed)),
            "shots": scenes.shots}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.split("x"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("STILLROOM_HOME", tempfile.mkdtemp(prefix="stillroom-layout-"))
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    args.out.mkdir(parents=True, exist_ok=True)
    result = run(width, height, args.out)
    print(json.dumps(result), flush=True)
    sys.stdout.flush()
    os._exit(0)  # PySide6 may crash tearing down at interpreter exit; the result is out


if __name__ == "__main__":
    sys.exit(main())
