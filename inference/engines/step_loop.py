"""The step loop both batched engines run on their model's thread.

A caller only puts its job on `_arrivals`; one step at a time is queued on the owner thread,
and each step takes the arrivals into the fair queue, ends stopped sequences, admits waiting
requests into free slots and decodes one token for every live sequence. A step queues the
next while anything runs or waits, so other calls on the owner thread (count_tokens,
unload) run between steps. What differs between llama.cpp and MLX is behind the hooks.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from inference.engines.batch_sequence import BatchJob, Failure
from inference.engines.fair_queue import FairQueue, WaitLimits
from inference.engines.owned_engine import END
from inference.engines.types import EngineError


def fail_job(job: BatchJob, error: BaseException) -> None:
    """Hand `error` to the job's consumer and end its stream."""
    job.chunks.put(Failure(error))
    job.chunks.put(END)


class StepLoop:
    """Mixin for a batched engine. The engine sets the attributes below in its __init__ and
    load, and implements the hooks; `ENGINE_NAME` names it in a step's unexpected error."""

    ENGINE_NAME = "the engine"
    _lock: threading.Lock  # guards _step_queued and _closed
    _step_queued: bool
    _closed: bool
    _owner: Any  # the model's thread: anything with submit(callable); None when unloaded
    _arrivals: queue.SimpleQueue[BatchJob]
    _waiting: FairQueue[Any]
    _limits: WaitLimits

    # -- hooks -------------------------------------------------------------------------
    def _can_step(self) -> bool:
        raise NotImplementedError

    def _has_live(self) -> bool:
        raise NotImplementedError

    def _checked(self, job: BatchJob) -> Any:
        raise NotImplementedError

    def _end_stopped(self) -> None:
        raise NotImplementedError

    def _admit(self) -> None:
        raise NotImplementedError

    def _decode_once(self) -> None:
        raise NotImplementedError

    def _fail_running(self, error: BaseException) -> None:
        raise NotImplementedError

    # -- the loop ----------------------------------------------------------------------
    def _schedule_step(self) -> None:
        with self._lock:
            if self._step_queued or self._closed or self._owner is None:
                return
            self._step_queued = True
            self._owner.submit(self._step)

    def _step(self) -> None:
        with self._lock:
            self._step_queued = False
        if not self._can_step():
            return
        try:
            self._take_arrivals()
            self._end_stopped()
            self._admit()
            self._decode_once()
        except Exception as exc:  # handed to every running consumer; the engine goes on
            self._fail_running(exc if isinstance(exc, EngineError) else EngineError(
                f"{self.ENGINE_NAME} failed while generating: {exc}"))
        if self._has_live() or len(self._waiting) or not self._arrivals.empty():
            self._schedule_step()

    def _take_arrivals(self) -> None:
        while True:
            try:
                job = self._arrivals.get_nowait()
            except queue.Empty:
                return
            try:
                self._waiting.put(job.owner, self._checked(job))
            except Exception as exc:
                self._limits.release(job.owner)
                fail_job(job, exc)
