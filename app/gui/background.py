"""Run slow work (network, disk, hashing) off the UI thread and get the answer back on it.

`run_in_background(owner, work, on_done, on_error)` calls `work()` on a daemon thread and
delivers its return value (or a one-sentence error) to the callbacks on the UI thread. The
hand-over goes through a Qt signal of a small relay object that lives on the UI thread, so
the callbacks may touch widgets; the relay is a child of `owner`, so when the owner is gone
the answer is dropped instead of reaching a deleted widget.

Daemon threads rather than QThreadPool: a Hub request stuck on a dead connection can take
a minute to time out, and closing the window must not wait for it (a QThreadPool waits for
its running tasks when it is destroyed).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from app.cli.errors import user_facing_errors


def error_sentence(exc: BaseException) -> str:
    """One clear sentence for the user: our own errors are written for them already."""
    if isinstance(exc, user_facing_errors()):
        return str(exc)
    return f"Unexpected error: {type(exc).__name__}: {exc}"


class Relay(QObject):
    """Carries values from any thread to callbacks on the thread the relay lives on."""

    sig_value = Signal(object)
    sig_progress = Signal(object)
    sig_error = Signal(str)

    def __init__(self, owner: QObject, on_value: Callable[[Any], None],
                 on_error: Callable[[str], None] | None = None,
                 on_progress: Callable[[Any], None] | None = None) -> None:
        super().__init__(owner)
        # A worker thread must not emit while the UI thread is destroying this relay (Qt
        # gives no safety there: a crash in the event loop). The owner's `destroyed` comes
        # before its children are deleted; it waits for an emit in progress, then stops
        # further ones. A plain closure, not a slot of this object, as it is being deleted.
        self._gate = threading.Lock()
        self._gone = [False]
        gate, gone = self._gate, self._gone

        def owner_destroyed(*_args: object) -> None:
            with gate:
                gone[0] = True

        owner.destroyed.connect(owner_destroyed, Qt.ConnectionType.DirectConnection)
        self._on_value = on_value
        self._on_error = on_error
        self._on_progress = on_progress
        # Bound slots of a QObject: Qt queues each call to this object's (the UI) thread,
        # in the order the signals were emitted.
        self.sig_value.connect(self._deliver_value)
        self.sig_progress.connect(self._deliver_progress)
        self.sig_error.connect(self._deliver_error)

    @Slot(object)
    def _deliver_value(self, value: object) -> None:
        self._on_value(value)

    @Slot(object)
    def _deliver_progress(self, value: object) -> None:
        if self._on_progress is not None:
            self._on_progress(value)

    @Slot(str)
    def _deliver_error(self, message: str) -> None:
        if self._on_error is not None:
            self._on_error(message)

    def _emit(self, name: str, value: object) -> None:
        # RuntimeError: the owner and this relay are gone (even reading the signal off a
        # deleted object raises), so nobody is listening.
        with self._gate, contextlib.suppress(RuntimeError):
            if not self._gone[0]:
                getattr(self, name).emit(value)

    def send(self, value: object) -> None:
        """Thread-safe; a no-op once the owner (and so this relay) was deleted."""
        self._emit("sig_value", value)

    def progress(self, value: object) -> None:
        self._emit("sig_progress", value)

    def fail(self, message: str) -> None:
        self._emit("sig_error", message)


def run_in_background(owner: QObject, work: Callable[..., Any],
                      on_done: Callable[[Any], None],
                      on_error: Callable[[str], None] | None = None, *,
                      on_progress: Callable[[Any], None] | None = None,
                      name: str = "background") -> threading.Thread:
    """Call `work()` on a daemon thread; with `on_progress`, `work(report)` may call
    `report(value)` any number of times, each delivered to `on_progress` on the UI thread."""

    def finish(callback: Callable[[Any], None] | None, value: Any) -> None:
        relay.deleteLater()
        if callback is not None:
            callback(value)

    relay = Relay(owner, lambda value: finish(on_done, value),
                  lambda message: finish(on_error, message), on_progress)

    def body() -> None:
        try:
            value = work(relay.progress) if on_progress is not None else work()
        except Exception as exc:  # every failure becomes a sentence on the UI thread
            relay.fail(error_sentence(exc))
        else:
            relay.send(value)

    thread = threading.Thread(target=body, name=name, daemon=True)
    thread.start()
    return thread
