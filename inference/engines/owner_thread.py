"""A single thread that owns a loaded model and runs every call on it, one at a time.

llama.cpp contexts (and MLX models) are not safe to drive from two threads; handing each call
to the owner keeps that rule in one place, whichever surface (CLI, GUI worker, HTTP handler)
asks.
"""

from __future__ import annotations

import atexit
import queue
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")
_STOP = object()

# Set when the interpreter exits: answers still generating stop at their next token (the
# engines' jobs check it). Owner threads are daemons; one left inside llama.cpp or MLX while
# Python tears the models down crashes the process (a segfault at exit).
SHUTTING_DOWN = threading.Event()
_live: weakref.WeakSet[OwnerThread] = weakref.WeakSet()
EXIT_WAIT_S = 10.0  # a model call in progress (one token, a prompt chunk) ends well within it


class OwnerThread:
    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._busy = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        _live.add(self)

    def submit(self, function: Callable[[], T]) -> Future[T]:
        if not self._thread.is_alive():
            raise RuntimeError(f"{self._thread.name} has stopped")
        future: Future[T] = Future()
        self._calls.put((function, future))
        return future

    def call(self, function: Callable[[], T]) -> T:
        return self.submit(function).result()

    @property
    def pending(self) -> int:
        """Calls queued or running: the capacity rule routes elsewhere when this is high."""
        return self._calls.qsize() + (1 if self._busy else 0)

    @property
    def is_current(self) -> bool:
        return threading.current_thread() is self._thread

    def stop(self, timeout: float | None = None) -> None:
        """Finish the calls already queued, then end the thread."""
        if self._thread.is_alive():
            self._calls.put(_STOP)
            if not self.is_current:
                self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._calls.get()
            if item is _STOP:
                return
            function, future = item  # type: ignore[misc]
            if not future.set_running_or_notify_cancel():
                continue
            self._busy = True
            try:
                result = function()
            except BaseException as exc:  # handed to the caller, who re-raises it
                self._busy = False  # before the caller wakes, so `pending` is exact for it
                future.set_exception(exc)
            else:
                self._busy = False
                future.set_result(result)


@atexit.register
def _quiesce_at_exit() -> None:
    """Let every owner thread go idle before the interpreter frees the models it holds. The
    threads are not stopped: MLX's must outlive its models (mlx_shared.mlx_owner says why)."""
    SHUTTING_DOWN.set()
    deadline = time.monotonic() + EXIT_WAIT_S
    for owner in list(_live):
        while owner._thread.is_alive() and owner.pending and time.monotonic() < deadline:
            time.sleep(0.01)


def start_owner(name: str, load: Callable[[], None]) -> OwnerThread:
    """A new owner thread that has run `load` (a model's load); stopped again, and the error
    raised, when the load fails."""
    owner = OwnerThread(name)
    try:
        owner.call(load)
    except BaseException:
        owner.stop()
        raise
    return owner
