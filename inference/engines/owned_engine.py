"""What every local engine shares: an owner thread that runs each call on the model, a queue
that hands chunks from that thread to the consumer, and the helpers that cut stop strings
and time an answer. LlamaCppEngine and MlxEngine differ only in how they load a model,
render a prompt and produce tokens (`_prompt_tokens`, `_generate`).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future

from inference.engines.owner_thread import SHUTTING_DOWN, OwnerThread
from inference.engines.types import (
    ChatMessage,
    Chunk,
    GenerationRequest,
    ModelInfo,
    ModelLoadError,
    Timings,
)

DEFAULT_CONTEXT = 4096
# ChatML: the most common template, used only when a model carries none.
FALLBACK_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
END = object()  # put on a job's queue after its last chunk (or its error)


class StreamJob:
    """One answer in flight: its request, its cancel signals and the queue of its chunks."""

    __slots__ = ("abandoned", "cancel", "chunks", "request", "started")

    def __init__(self, request: GenerationRequest, cancel: threading.Event | None) -> None:
        self.request = request
        self.cancel = cancel or threading.Event()
        self.abandoned = threading.Event()
        self.chunks: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.started = time.perf_counter()

    def stopped(self) -> bool:
        return self.cancel.is_set() or self.abandoned.is_set() or SHUTTING_DOWN.is_set()


class OwnedEngine:
    """The thread hand-off of an engine. Subclasses set `model`, `_owner` (while loaded) and
    `_context_length`, and implement `loaded`, `_prompt_tokens` and `_generate`, which run on
    the owner thread."""

    model: ModelInfo
    _owner: OwnerThread | None
    _context_length: int

    @property
    def loaded(self) -> bool:
        raise NotImplementedError

    @property
    def context_length(self) -> int:
        return self._context_length

    @property
    def queue_depth(self) -> int:
        """Requests waiting for (or being served by) the owner thread."""
        return self._owner.pending if self._owner is not None else 0

    def _prompt_tokens(self, messages: Sequence[ChatMessage]) -> list[int]:
        raise NotImplementedError

    def _generate(self, job: StreamJob) -> None:
        raise NotImplementedError

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        self._require_loaded()
        assert self._owner is not None
        return self._owner.call(lambda: len(self._prompt_tokens(messages)))

    def _require_loaded(self) -> None:
        if not self.loaded or self._owner is None:
            raise ModelLoadError(f"{self.model.name} is not loaded.")

    def stream(
        self, request: GenerationRequest, cancel: threading.Event | None = None,
        owner: str = "local",  # one request at a time: every owner waits in turn
    ) -> ChunkStream:
        """Start the answer now and return its chunks; stops between tokens once `cancel` is
        set.

        The job reaches the owner thread before this returns, so the prompt is evaluated
        while the caller finishes its own setup (the chat turn writes its answer row then).
        Closing the stream, or dropping it unread, stops the generation at its next token.
        """
        self._require_loaded()
        assert self._owner is not None
        job = StreamJob(request, cancel)
        return ChunkStream(job, self._owner.submit(lambda: self._generate_on_owner(job)))

    def _generate_on_owner(self, job: StreamJob) -> None:
        try:
            self._generate(job)
        finally:
            job.chunks.put(END)


class ChunkStream(Iterator[Chunk]):
    """The chunks of one started answer, read from its job's queue.

    Only the reader holds this object (the owner thread holds the job), so when the reader
    drops it, closed or not, the job is marked abandoned and the owner moves on."""

    def __init__(self, job: StreamJob, done: Future[None]) -> None:
        self._job = job
        self._done: Future[None] | None = done

    def __next__(self) -> Chunk:
        if self._done is None:
            raise StopIteration
        item = self._job.chunks.get()
        if item is END:
            done, self._done = self._done, None
            self._job.abandoned.set()
            done.result()  # re-raises what went wrong on the owner thread
            raise StopIteration
        return item  # type: ignore[return-value]

    def close(self) -> None:
        """Stop reading: the owner ends the answer at its next token."""
        self._job.abandoned.set()
        self._done = None

    def __del__(self) -> None:
        self._job.abandoned.set()


def split_at_stop(text: str, stops: tuple[str, ...]) -> tuple[str, str, bool]:
    """Return (text to emit, text to hold back, whether a stop string was reached)."""
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    if cut >= 0:
        return text[:cut], "", True
    hold = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), 0, -1):
            if text.endswith(stop[:size]):
                hold = max(hold, size)
                break
    return (text[: len(text) - hold], text[len(text) - hold:], False) if hold else (text, "", False)


def answer_timings(started: float, first_at: float, now: float, n_prompt: int, reused: int,
                   generated: int) -> Timings:
    evaluated = n_prompt - reused
    prefill_s = first_at - started
    decode_s = now - first_at
    return Timings(
        ttft_s=prefill_s,
        prefill_tps=evaluated / prefill_s if prefill_s > 0 else None,
        decode_tps=(generated - 1) / decode_s if generated > 1 and decode_s > 0 else None,
        total_s=now - started,
        prompt_tokens_evaluated=evaluated,
        prompt_tokens_reused=reused,
    )
