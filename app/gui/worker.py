"""The chat worker: a QObject living in its own QThread that runs chat turns.

The UI thread only emits requests and receives signals; loading a model, database writes
and waiting on tokens all happen here. One worker serves the loaded model (the engine
manager keeps one model loaded), so turns run one after another as the model requires.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.cli.errors import database_errors, describe_database_error, user_facing_errors
from app.services import Services
from app.turn.chat_turn import ChatOptions, ChatTurn
from app.turn.service import ChatService
from app.turn.turn_json import confidence_json, cost_json, energy_json

# Text reaches the UI thread at most this often; tokens in between are sent together.
EMIT_INTERVAL_S = 0.025


@dataclass(frozen=True, slots=True)
class TurnRequest:
    request_id: int
    prompt: str
    conversation_id: str | None
    options: ChatOptions
    # Set when this turn replaces earlier messages (regenerate / edit-and-resend).
    truncate_from_message_id: int | None = None


class ChatWorker(QObject):
    sig_model_loading = Signal(str)
    """The named model is being loaded (a turn will start when it is ready)."""
    sig_model_ready = Signal(str, float)
    """Model id and the seconds its load took (0 when it was already loaded)."""
    sig_turn_started = Signal(int, str, dict)
    """request id, conversation id, details: model name, route target/rule/reason."""
    sig_chunk = Signal(int, str, dict)
    """request id, new text, running figures (tokens, tok/s, TTFT)."""
    sig_route_changed = Signal(int, dict)
    """request id, the new route (target/provider/model/rule/reason) after a failover: the
    text that follows comes from there."""
    sig_escalation_started = Signal(int, dict)
    """request id, the escalation's route (target/provider/model/rule/reason), the local
    answer's confidence and final figures: a second answer follows on the same request."""
    sig_turn_finished = Signal(int, dict)
    """request id, final figures including finish_reason and message id."""
    sig_turn_failed = Signal(int, str)
    """request id, a message written for the user."""
    sig_unloaded = Signal(str)

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.chat = ChatService(services)
        self._cancels: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def cancel_event(self, request_id: int) -> threading.Event:
        with self._lock:
            return self._cancels.setdefault(request_id, threading.Event())

    def cancel(self, request_id: int) -> None:
        """Thread-safe: called from the UI thread; the engine stops at its next token."""
        self.cancel_event(request_id).set()

    @Slot(object)
    def run_turn(self, request: TurnRequest) -> None:
        cancel = self.cancel_event(request.request_id)
        try:
            if cancel.is_set():  # stopped before it began: nothing was saved
                self.sig_turn_finished.emit(request.request_id,
                     {"finish_reason": "cancelled", "message_id": None})
                return
            if request.truncate_from_message_id is not None and request.conversation_id:
                self.services.store.delete_messages_from(request.conversation_id,
                                                         request.truncate_from_message_id)
            self._ensure_loaded(request.options.model, request.conversation_id)
            turn = self.chat.start(request.prompt, conversation_id=request.conversation_id,
                                   options=request.options, cancel=cancel)
            self.sig_turn_started.emit(request.request_id, turn.conversation_id, {
                "model": turn.model.name, "model_id": turn.model.id,
                **turn.decision.to_json()})
            figures = self._stream(request.request_id, turn)
            escalated = self.chat.escalate(turn, cancel=cancel) \
                if not cancel.is_set() and turn.escalates else None
            if escalated is not None and turn.escalation is not None:
                self.sig_escalation_started.emit(request.request_id, {
                    **turn.escalation.to_json(), "confidence": confidence_json(turn),
                    "local": figures})
                figures = self._stream(request.request_id, escalated)
            self.sig_turn_finished.emit(request.request_id, figures)
        except user_facing_errors() as exc:
            self.sig_turn_failed.emit(request.request_id, str(exc))
        except database_errors() as exc:
            self.sig_turn_failed.emit(request.request_id, describe_database_error(exc))
        except Exception as exc:  # never let a worker die silently
            self.sig_turn_failed.emit(request.request_id,
                 f"Unexpected error: {type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._cancels.pop(request.request_id, None)

    def _stream(self, request_id: int, turn: ChatTurn) -> dict:
        """Send one answer's text to the UI in frame-sized batches; its final figures."""
        pending, last_emit = [], 0.0
        decision = turn.decision
        for chunk in turn:
            if turn.decision is not decision:  # failed over: say where the text comes from
                if pending:
                    self.sig_chunk.emit(request_id, "".join(pending), {})
                    pending.clear()
                decision = turn.decision
                self.sig_route_changed.emit(request_id, {
                    **decision.to_json(),
                    "model": turn.model.name if decision.target == "local" else decision.model})
            pending.append(chunk.text)
            now = time.monotonic()
            if now - last_emit < EMIT_INTERVAL_S and chunk.finish_reason is None:
                continue  # coalesce: the UI repaints at frame rate, not token rate
            last_emit = now
            t = chunk.timings
            self.sig_chunk.emit(request_id, "".join(pending), {
                "prompt_tokens": chunk.prompt_tokens,
                "completion_tokens": chunk.completion_tokens,
                "ttft_s": t.ttft_s, "prefill_tps": t.prefill_tps,
                "decode_tps": t.decode_tps, "total_s": t.total_s,
                "prompt_tokens_evaluated": t.prompt_tokens_evaluated,
                "prompt_tokens_reused": t.prompt_tokens_reused})
            pending.clear()
        if pending:
            self.sig_chunk.emit(request_id, "".join(pending), {})
        result = turn.result
        figures = {"finish_reason": result.finish_reason if result else "stop",
                   "message_id": result.message_id if result else None}
        if result is not None:
            figures.update(result.timings.to_json(), prompt_tokens=result.prompt_tokens,
                           completion_tokens=result.completion_tokens,
                           energy=energy_json(result), cost=cost_json(result))
        return figures

    def _ensure_loaded(self, requested: str | None, conversation_id: str | None) -> None:
        conversation = self.services.store.get(conversation_id) if conversation_id else None
        model = self.chat.resolve_model(requested, conversation)
        if any(m.id == model.id for m in self.services.engines.loaded()):
            return
        self.sig_model_loading.emit(model.id)
        started = time.perf_counter()
        self.services.library.verify(model)
        self.services.engines.engine_for(model)
        self.sig_model_ready.emit(model.id, time.perf_counter() - started)

    @Slot(str)
    def load_model(self, model_id: str) -> None:
        try:
            self._ensure_loaded(model_id, None)
        except user_facing_errors() as exc:
            self.sig_turn_failed.emit(-1, str(exc))

    @Slot(str)
    def unload_model(self, model_id: str) -> None:
        if self.services.engines.unload(model_id):
            self.sig_unloaded.emit(model_id)


class WorkerThread:
    """Owns the QThread and the worker; stops both cleanly, even mid-answer."""

    def __init__(self, services: Services) -> None:
        self.thread = QThread()
        self.thread.setObjectName("chat-worker")
        self.worker = ChatWorker(services)
        self.worker.moveToThread(self.thread)
        self.thread.start()

    def stop(self) -> None:
        with self.worker._lock:
            for event in self.worker._cancels.values():
                event.set()
        self.thread.quit()
        self.thread.wait()
