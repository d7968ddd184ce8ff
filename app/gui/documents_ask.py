"""A question about the attached documents, answered off the UI thread and streamed in.

The plan is app/documents/ask.py's (one prompt, or map-reduce when the text exceeds the
context, every excerpt labelled with its page); every step is a ChatService turn, so the
sensitivity gate, the policy and the audit log see it, and a step of a sensitive document
stays on this machine. Stop sets the turn's cancel event: the engine stops at its next
token and no further step starts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.cli.render import describe_turn
from app.documents.ask import Step, TurnAnswerer, ask, documents_sensitive
from app.documents.document import Document
from app.gui.background import run_in_background
from app.services import Services
from app.turn.chat_turn import ChatOptions, ChatTurn
from inference.engines.types import ChatMessage

EMIT_INTERVAL_S = 0.05  # text reaches the view in frame-sized pieces, not per token
Report = Callable[[tuple[str, Any]], None]


class StoppedError(Exception):
    """The user pressed Stop between two steps."""


class CancellableAnswerer(TurnAnswerer):
    """TurnAnswerer whose turns share one cancel event, and which starts no step once it
    is set."""

    def __init__(self, *args: Any, cancel: threading.Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cancel = cancel

    def __call__(self, prompt: str, step: Step) -> str:
        if self.cancel.is_set():
            raise StoppedError
        conversation_id = self._sensitive_conversation() if self.sensitive else None
        turn = self.chat.start(prompt, conversation_id=conversation_id, options=self.options,
                               cancel=self.cancel)
        self.turns.append(turn)
        return self.consume(turn, step)


def answer_documents(services: Services, documents: Sequence[Document], question: str,
                     options: ChatOptions, cancel: threading.Event,
                     report: Report) -> dict[str, Any]:
    """Runs on a worker thread. Reports ("route", line), ("step", line) and ("text", piece);
    returns the answer's summary (or {"stopped": True})."""
    chat = services.chat()
    model = chat.resolve_model(options.model)
    with services.energy.busy():  # loading is not idle draw
        services.library.verify(model)
        engine = services.engines.engine_for(model)
    system = options.system_prompt if options.system_prompt is not None \
        else services.settings.system_prompt
    frame = [ChatMessage("system", system)] if system else []

    def count(prompt: str) -> int:
        return engine.count_tokens([*frame, ChatMessage("user", prompt)])

    def consume(turn: ChatTurn, step: Step) -> str:
        decision = turn.decision
        report(("route", f"{decision.target} · {decision.reason}"))
        if not step.final:
            report(("step", f"Reading part {step.index} of {step.total} "
                            f"({step.labels[0]} to {step.labels[-1]})…"))
            for _ in turn:
                if cancel.is_set():
                    break
            return turn.result.text if turn.result else ""
        pending, last = [], 0.0
        for chunk in turn:
            pending.append(chunk.text)
            now = time.monotonic()
            if now - last >= EMIT_INTERVAL_S:
                report(("text", "".join(pending)))
                pending.clear()
                last = now
        if pending:
            report(("text", "".join(pending)))
        return turn.result.text if turn.result else ""

    answerer = CancellableAnswerer(chat, options, sensitive=documents_sensitive(chat, documents),
                                   consume=consume, cancel=cancel)
    max_tokens = options.max_tokens or services.settings.max_tokens
    try:
        result = ask(question, documents, count=count,
                     prompt_limit=engine.context_length - max_tokens, answer=answerer)
    except StoppedError:
        return {"stopped": True}
    final = answerer.turns[-1]
    stopped = cancel.is_set() or (final.result is not None
                                  and final.result.finish_reason == "cancelled")
    return {"stopped": stopped, "mode": result.mode, "citations": list(result.citations),
            "unknown_citations": list(result.unknown_citations),
            "summary": describe_turn(final), "sensitive": answerer.sensitive}


class DocumentQuestion(QWidget):
    """Question box, Ask / Stop, the streamed answer and the line saying where it ran."""

    sig_message = Signal(str)

    def __init__(self, services: Services, documents: Callable[[], list[Document]]) -> None:
        super().__init__()
        self.services = services
        self._documents = documents
        self.cancel: threading.Event | None = None
        self.thread: threading.Thread | None = None
        self.max_tokens: int | None = None  # None: the settings' answer length
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.question = QLineEdit()
        self.question.setAccessibleName("Question about the documents")
        self.question.setPlaceholderText("Ask about the attached documents — answered on "
                                         "this machine, with page citations")
        self.question.returnPressed.connect(self.ask)
        self.ask_button = QPushButton("Ask")
        self.ask_button.clicked.connect(self.ask)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setAccessibleName("Stop the answer")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        row.addWidget(self.question, 1)
        row.addWidget(self.ask_button)
        row.addWidget(self.stop_button)
        layout.addLayout(row)
        self.route = QLabel("Answers about documents run on this machine; a sensitive "
                            "document never leaves it.")
        self.route.setAccessibleName("Where the answer runs")
        self.route.setWordWrap(True)
        layout.addWidget(self.route)
        self.answer = QPlainTextEdit()
        self.answer.setReadOnly(True)
        self.answer.setAccessibleName("Answer")
        self.answer.setPlaceholderText("Attach documents, then ask a question: the answer "
                                       "appears here and cites the pages it used.")
        layout.addWidget(self.answer, 1)

    @property
    def asking(self) -> bool:
        return self.cancel is not None

    def ask(self) -> None:
        question = self.question.text().strip()
        documents = self._documents()
        if self.asking:
            return
        if not question:
            self.sig_message.emit("Type a question about the documents first.")
            return
        if not documents:
            self.sig_message.emit("Attach a readable document first (Add files… or drop "
                                  "one here).")
            return
        cancel = self.cancel = threading.Event()
        self.answer.clear()
        self.ask_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.route.setText("Reading the documents…")
        options = ChatOptions(temperature=0.0, route="auto", max_tokens=self.max_tokens)
        self.thread = run_in_background(
            self, lambda report: answer_documents(self.services, documents, question, options,
                                                  cancel, report),
            self._finished, self._failed, on_progress=self._progress, name="ask-documents")

    def stop(self) -> None:
        if self.cancel is not None:
            self.cancel.set()
            self.sig_message.emit("Stopping…")

    def shutdown(self) -> None:
        """The window is closing: stop the answer and wait for its turn to record it."""
        if self.cancel is not None:
            self.cancel.set()
        if self.thread is not None:
            self.thread.join()

    def _progress(self, event: tuple[str, Any]) -> None:
        kind, value = event
        if kind == "text":
            self.answer.moveCursor(self.answer.textCursor().MoveOperation.End)
            self.answer.insertPlainText(value)
        elif kind == "route":
            self.route.setText(value)
        else:
            self.sig_message.emit(value)

    def _done(self) -> None:
        self.cancel = None
        self.ask_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def _finished(self, outcome: dict[str, Any]) -> None:
        self._done()
        if outcome.get("summary"):
            self.route.setText(outcome["summary"])
        if outcome.get("stopped"):
            self.sig_message.emit("Stopped.")
            return
        cited = ", ".join(outcome["citations"]) or "no pages"
        note = f"Cites {cited}."
        if outcome["unknown_citations"]:
            note += (f" It also cites {', '.join(outcome['unknown_citations'])}, which the "
                     f"documents do not have.")
        if outcome.get("sensitive"):
            note += " The documents hold sensitive text: every step stayed where the " \
                    "policy keeps sensitive text."
        if outcome["mode"] == "map_reduce":
            note += " Answered part by part (the documents exceed the context)."
        self.sig_message.emit(note)

    def _failed(self, message: str) -> None:
        self._done()
        self.route.setText(message)
        self.sig_message.emit(message)
