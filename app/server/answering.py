"""What the routes ask for an answer: the ``Answerer`` interface, and ``TurnAnswerer``, which
answers through the desktop's own turn path (ChatService: the sensitivity gate, policy,
router, audit log and ledger) one request at a time.

The routes know only ``Answerer``; the batching scheduler (inference/engines/) slots in as
another implementation without touching them. Until then the queue here is a stopgap: a
bounded wait for the one answering slot, per user and in all, answered 429 when full
instead of growing."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from app.server.errors import ApiError
from app.turn.chat_turn import ChatOptions
from inference.engines.types import ChatMessage, Chunk

if TYPE_CHECKING:
    from app.turn.chat_turn import ChatTurn
    from app.turn.service import ChatService

# How long a client told "queue full" should wait before trying again (seconds).
QUEUE_FULL_RETRY_S = 5

# Clients of a server without users (this computer only, no key): one owner in the engine's
# fairness, apart from the desktop's own chat (no user name holds ":").
ANONYMOUS_OWNER = "server:anonymous"


@dataclass(frozen=True, slots=True)
class AnswerRequest:
    prompt: str
    earlier: tuple[ChatMessage, ...] = ()  # user/assistant messages before the prompt
    system_prompt: str | None = None
    model: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    user: str | None = None
    allowed_targets: frozenset[str] | None = None
    # The answer must be JSON following this schema (response_format); None: free text.
    json_schema: Mapping[str, Any] | None = None


class StartedAnswer(Protocol):
    """An answer whose route is decided; iterate it (once) for its chunks, whose counts are
    running totals. ``close`` ends it early (cancelled) and frees its place."""

    model_id: str
    route_target: str
    route_rule: str
    route_reason: str
    queue_wait_s: float

    def __iter__(self) -> Iterator[Chunk]: ...

    def close(self) -> None: ...


class Answerer(Protocol):
    def start(self, request: AnswerRequest, cancel: threading.Event) -> StartedAnswer:
        """Route and begin an answer. Raises ApiError (429 queue full), RouteRefusedError,
        or the turn's user-facing errors (ValueError, EngineError)."""
        ...

    def queue_depth(self) -> int: ...


class QueueCancelledError(Exception):
    """The client left while its request waited for a place."""


class TurnAnswerer:
    """``max_answering`` answers at once (1 while the engine decodes one sequence at a time;
    an engine that batches can take more), the rest wait in the bounded queue."""

    def __init__(self, chat: ChatService, *, max_answering: int = 1, max_waiting: int = 16,
                 max_waiting_per_user: int = 4) -> None:
        self._chat = chat
        self._max_answering = max_answering
        self._max_waiting = max_waiting
        self._max_waiting_per_user = max_waiting_per_user
        self._condition = threading.Condition()
        self._waiting: Counter[str] = Counter()
        self._answering = 0

    def queue_depth(self) -> int:
        with self._condition:
            return sum(self._waiting.values()) + self._answering

    def start(self, request: AnswerRequest, cancel: threading.Event) -> StartedAnswer:
        queue_wait = self._take_slot(request.user or "", cancel)
        try:
            turn = self._chat.start(
                request.prompt, earlier=request.earlier, cancel=cancel,
                options=ChatOptions(
                    model=request.model, system_prompt=request.system_prompt,
                    max_tokens=request.max_tokens, temperature=request.temperature,
                    top_p=request.top_p, stop=request.stop, seed=request.seed,
                    user=request.user, allowed_targets=request.allowed_targets,
                    json_schema=request.json_schema,
                    queue_owner=None if request.user else ANONYMOUS_OWNER))
        except BaseException:
            self._release()
            raise
        return _TurnAnswer(turn, queue_wait, self._release)

    def _take_slot(self, user: str, cancel: threading.Event) -> float:
        began = time.monotonic()
        with self._condition:
            if sum(self._waiting.values()) >= self._max_waiting:
                raise ApiError(429, "The server's queue is full; retry shortly.",
                               code="queue_full", retry_after_s=QUEUE_FULL_RETRY_S)
            if self._waiting[user] >= self._max_waiting_per_user:
                raise ApiError(429, f"You have {self._waiting[user]} requests waiting "
                                    f"already; wait for one to finish.",
                               code="user_queue_full", retry_after_s=QUEUE_FULL_RETRY_S)
            self._waiting[user] += 1
            try:
                # Woken on every release; the timeout only re-checks the client's cancel.
                while self._answering >= self._max_answering and not cancel.is_set():
                    self._condition.wait(0.5)
                if cancel.is_set():
                    raise QueueCancelledError
                self._answering += 1
            finally:
                self._waiting[user] -= 1
        return time.monotonic() - began

    def _release(self) -> None:
        with self._condition:
            self._answering -= 1
            self._condition.notify_all()


class _TurnAnswer:
    def __init__(self, turn: ChatTurn, queue_wait_s: float,
                 release: Callable[[], None]) -> None:
        self._turn = turn
        self._release = release
        self._released = False
        self.queue_wait_s = queue_wait_s
        decision = turn.decision
        self.model_id = turn.model.id if decision.target == "local" \
            else decision.model or turn.model.id
        self.route_target = decision.target
        self.route_rule = decision.rule
        self.route_reason = decision.reason
        self._chunks: Iterator[Chunk] | None = None

    def __iter__(self) -> Iterator[Chunk]:
        try:
            self._chunks = iter(self._turn)
            yield from self._chunks
        finally:
            self._free()

    def close(self) -> None:
        """Called when the answer was never iterated to its end: closing the turn's
        iterator records it as cancelled (ChatTurn does the metering and audit)."""
        if self._chunks is not None:
            self._chunks.close()  # type: ignore[attr-defined]
        self._free()

    def _free(self) -> None:
        if not self._released:
            self._released = True
            self._release()
