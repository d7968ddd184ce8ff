"""The one place where a process learns whether it may use the network.

Every entry point calls ``apply_network_policy`` before any command can open a socket: the
CLI's main() for every command (models search and pull included), Services.open for the
GUI and the server. With offline mode on, the guard in routing.offline refuses everything
but loopback, and each refused target is written to the audit log once per process.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.config import load_settings
from routing import offline
from routing.audit import AuditRecord

if TYPE_CHECKING:
    from app.store.audit_log import AuditLog

_lock = threading.Lock()
_recorder: _RefusalRecorder | None = None
_unsubscribe_recorder = None


class _RefusalRecorder:
    """Writes one audit row per refused target; opens the audit log on the first refusal
    only, so a command that never touches the network never opens the database for it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._log: AuditLog | None = None
        self._lock = threading.Lock()

    def use(self, log: AuditLog) -> None:
        with self._lock:
            self._log = log

    def __call__(self, target: str) -> None:
        # Written on a thread of its own: the refused call must fail at once (the Hub check
        # has a one-second budget, and opening the store can take longer). Not a daemon, so
        # a command that ends right after the refusal still writes its row before exit.
        record = refusal_record(target)
        threading.Thread(target=self._write, args=(record,), name="offline-audit",
                         daemon=False).start()  # not inherited from a daemon caller

    def _write(self, record: AuditRecord) -> None:
        with self._lock:
            if self._log is None:
                self._log = _open_audit_log(self.directory)
            self._log.append([record])


def _open_audit_log(directory: Path) -> AuditLog:
    from app.config import database_url
    from app.store.audit_anchor import AuditAnchor
    from app.store.audit_log import AuditLog
    from app.store.db import open_engine

    return AuditLog(open_engine(database_url(directory)), AuditAnchor(directory))


def refusal_record(target: str, when: datetime | None = None) -> AuditRecord:
    moment = (when or datetime.now(UTC)).astimezone(UTC)
    return AuditRecord(
        time=moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        event="network", conversation_id=None, target="network", provider=None, model=None,
        rule="offline", reason=f"offline mode refused a connection to {target}", refused=True)


def set_offline(enabled: bool, directory: Path, audit: AuditLog | None = None) -> None:
    """Offline mode on or off for the whole process; refusals are recorded in `directory`'s
    audit log (`audit`, when the caller has it open already)."""
    global _recorder, _unsubscribe_recorder
    with _lock:
        if _recorder is None or _recorder.directory != directory:
            if _unsubscribe_recorder is not None:
                _unsubscribe_recorder()
            _recorder = _RefusalRecorder(directory)
            _unsubscribe_recorder = offline.on_refusal(_recorder)
        if audit is not None:
            _recorder.use(audit)
    if enabled:
        offline.enable()
    else:
        offline.disable()


def apply_network_policy(directory: Path) -> bool:
    """Read the offline setting of `directory` and apply it before anything else runs;
    returns whether offline mode is on. A settings file that cannot be read leaves the
    most private state (load_settings fails closed)."""
    settings, _warnings = load_settings(directory / "settings.json")
    set_offline(settings.offline, directory)
    return settings.offline
