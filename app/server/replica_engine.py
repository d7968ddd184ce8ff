"""One answer decoded on a replica, as the engine contract's Chunks for the front's turn.

The request goes to the least-busy healthy replica; a replica that cannot be reached,
answers 5xx, refuses the front's key or lacks the model is marked down and the request is
tried on the next, as long as nothing of the answer has been passed on. After the first
token a failure ends the answer as an error (the client already has part of it)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import openai

from app.server.replicas import Replica, ReplicaPool
from inference.engines.types import (
    ChatMessage,
    Chunk,
    EngineBusyError,
    EngineError,
    GenerationRequest,
    ModelInfo,
    ModelLoadError,
    Timings,
)


class NoReplicaError(ModelLoadError):
    """Every replica failed or is down: to the client, like a model that cannot be loaded
    here (503), not like a bad request."""


class _Unusable(Exception):
    """This replica cannot answer this request; try the next one."""

    def __init__(self, problem: str, *, down: bool = True) -> None:
        super().__init__(problem)
        self.problem = problem
        self.down = down  # False: it is well but full (429)


class ReplicaEngine:
    def __init__(self, model: ModelInfo, pool: ReplicaPool) -> None:
        self.model = model
        self.pool = pool

    @property
    def loaded(self) -> bool:
        return self.pool.any_healthy()

    @property
    def context_length(self) -> int:
        return self.model.context_length or 0

    @property
    def queue_depth(self) -> int:
        return self.pool.open_requests()

    def load(self) -> None:
        pass  # the replicas load their own models

    def unload(self) -> None:
        pass

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        raise EngineError("Token counts come from the replica's usage, after the answer.")

    def stream(self, request: GenerationRequest, cancel: threading.Event | None = None,
               owner: str = "local") -> Iterator[Chunk]:
        cancel = cancel or threading.Event()
        began = time.monotonic()
        problems: list[str] = []
        full = 0
        for replica in self.pool.candidates():
            self.pool.begin(replica)
            try:
                answer = _ReplicaAnswer(replica, self.model.id, request, cancel, began)
                try:
                    first = answer.first()
                except _Unusable as exc:
                    problems.append(f"{replica.url}: {exc.problem}")
                    if exc.down:
                        self.pool.mark_down(replica, exc.problem)
                    else:
                        full += 1
                    continue
                yield first
                if first.finish_reason is None:  # else it ended before any text
                    yield from answer.rest()
                return
            finally:
                self.pool.end(replica)
        if problems and full == len(problems):
            raise EngineBusyError("Every replica's queue is full; retry shortly.",
                                  waiting=self.pool.open_requests())
        tried = "; ".join(problems) or "none is healthy: " + self.pool.summary()
        raise NoReplicaError(f"No replica could answer ({tried}).")


def _messages(request: GenerationRequest) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in request.messages]


class _ReplicaAnswer:
    """The stream from one replica: ``first`` reads up to the first token (raising
    _Unusable for what another replica may do better), ``rest`` the remainder."""

    def __init__(self, replica: Replica, model_id: str, request: GenerationRequest,
                 cancel: threading.Event, began: float) -> None:
        self.replica = replica
        self.model_id = model_id
        self.request = request
        self.cancel = cancel
        self.began = began
        self.first_at: float | None = None
        self.completion = 0
        self.finish: str | None = None
        self.usage: Any = None
        self.stream: Any = None
        self.events: Iterator[Any] = iter(())

    def _open(self) -> None:
        request = self.request
        extra: dict[str, Any] = {}
        if request.json_schema is not None:
            extra["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "answer", "schema": dict(request.json_schema)}}
        try:
            self.stream = self.replica.sdk.chat.completions.create(
                model=self.model_id, messages=_messages(request), stream=True,
                stream_options={"include_usage": True}, max_tokens=request.max_tokens,
                temperature=request.temperature, top_p=request.top_p, seed=request.seed,
                stop=list(request.stop) or None, **extra)
        except openai.RateLimitError as exc:
            raise _Unusable(f"full ({exc.message})", down=False) from None
        except (openai.AuthenticationError, openai.PermissionDeniedError):
            raise _Unusable("it refused the front's key") from None
        except openai.NotFoundError:
            raise _Unusable(f"it does not serve the model {self.model_id}") from None
        except openai.BadRequestError as exc:
            # The request itself is wrong (too long for the context, ...): any replica
            # would say so; the client hears it as a 400.
            raise EngineError(_said(exc)) from None
        except (openai.APIConnectionError, openai.InternalServerError) as exc:
            raise _Unusable(_failure(exc)) from None
        except openai.APIStatusError as exc:
            raise _Unusable(f"answered {exc.status_code}") from None
        self.events = iter(self.stream)

    def first(self) -> Chunk:
        self._open()
        try:
            chunk = self._next()
        except (openai.APIError, ValueError) as exc:
            self._close()
            raise _Unusable(_failure(exc)) from None
        if chunk is None:
            self._close()
            return self._last()
        return chunk

    def rest(self) -> Iterator[Chunk]:
        try:
            while (chunk := self._next()) is not None:
                yield chunk
        except (openai.APIError, ValueError) as exc:
            raise EngineError(f"The replica {self.replica.url} failed mid-answer "
                              f"({_failure(exc)}).") from None
        finally:
            self._close()
        yield self._last()

    def _next(self) -> Chunk | None:
        """The next chunk with text, or None at the end (usage and finish read on the
        way); a cancel stops reading at once."""
        for event in self.events:
            if event.usage is not None:
                self.usage = event.usage
            for choice in event.choices:
                if choice.finish_reason:
                    self.finish = choice.finish_reason
                text = choice.delta.content if choice.delta else None
                if text:
                    self.completion += 1
                    if self.first_at is None:
                        self.first_at = time.monotonic()
                    return Chunk(text=text, prompt_tokens=0,
                                 completion_tokens=self.completion, timings=self._timings())
            if self.cancel.is_set():
                self.finish = "cancelled"
                return None
        return None

    def _last(self) -> Chunk:
        """The end: the replica's own usage figures and finish reason, for the ledger."""
        if self.cancel.is_set():
            self.finish = "cancelled"
        prompt = self.usage.prompt_tokens if self.usage is not None else 0
        completion = self.usage.completion_tokens if self.usage is not None \
            else self.completion
        finish = self.finish if self.finish in ("stop", "length", "cancelled") else "stop"
        return Chunk(text="", prompt_tokens=prompt, completion_tokens=completion,
                     timings=self._timings(), finish_reason=finish)  # type: ignore[arg-type]

    def _timings(self) -> Timings:
        now = time.monotonic()
        ttft = self.first_at - self.began if self.first_at is not None else None
        decode = None
        if self.first_at is not None and self.completion > 1 and now > self.first_at:
            decode = (self.completion - 1) / (now - self.first_at)
        return Timings(ttft_s=ttft, prefill_tps=None, decode_tps=decode,
                       total_s=now - self.began)

    def _close(self) -> None:
        if self.stream is not None:
            self.stream.close()


def _said(exc: openai.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    message = body.get("message") if isinstance(body.get("message"), str) else exc.message
    return str(message)


def _failure(exc: BaseException) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"answered {exc.status_code}"
    return f"{type(exc).__name__}: {exc}".strip().rstrip(":")
