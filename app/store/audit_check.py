"""The verdict on the audit trail, in words, for `stillroom audit verify`, `doctor` and the
window's audit view: one line saying whether it holds (or the first thing that does not), and
one saying how it is protected here (keyed or only hash-chained, what cannot be detected)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routing.audit import walk

if TYPE_CHECKING:
    from app.store.audit_anchor import AuditAnchor, AuditHead

NOT_KEYED = ("NOT keyed: there is no OS keyring, so the rows are only hash-chained (SHA-256, "
             "which anyone who can write the database can recompute) and a rollback of the "
             "database together with audit-head.json cannot be detected")
NO_KEY_YET = ("not keyed yet: the OS keyring holds no audit key for this data directory (none "
              "made yet, or the keyring is locked), so the rows are only hash-chained "
              "(SHA-256)")


@dataclass(frozen=True, slots=True)
class AuditVerdict:
    intact: bool
    verdict: str  # one line: "Audit log intact: ..." or what is wrong, first thing first
    protection: str  # one line: how the trail is protected here, and what that cannot catch
    # The first row that breaks the chain (0-based; the row count when rows are missing at
    # the end); None when intact or when there are no rows to point at (a dropped table).
    index: int | None = None


def protection(anchor: AuditAnchor | None, *, plain_rows: int = 0,
               key: bytes | None = None) -> str:
    """How the trail is protected with this anchor (doctor and the window ask without rows)."""
    if anchor is None or not anchor.keyring_available():
        return NOT_KEYED
    if key is None:
        return NO_KEY_YET
    legacy = (f"rows 1..{plain_rows} are hash-chained only (written before keyed audit); "
              if plain_rows else "")
    return (f"{legacy}keyed: each row's MAC is HMAC-SHA256 under the audit key in the OS "
            f"keyring, and the count, first and last MAC are checked against the keyring")


def protection_here(data_dir: Path) -> str:
    """How new audit rows in this data directory are protected (doctor, the window)."""
    from app.store.audit_anchor import AuditAnchor

    anchor = AuditAnchor(data_dir)
    return protection(anchor, key=anchor.key(create=False))


def missing_table(message: str, head: AuditHead | None, anchor: AuditAnchor | None,
                  key: bytes | None) -> AuditVerdict:
    recorded = f" ({head.count} rows were recorded at its head)" if head else ""
    return AuditVerdict(False, f"{message}{recorded}.", protection(anchor, key=key))


def judge(rows: list[dict[str, Any]], head: AuditHead | None, *, key: bytes | None,
          anchor: AuditAnchor | None) -> AuditVerdict:
    """The verdict on `rows` against the recorded `head`, with the MAC `key` (None: none
    readable) and the anchor they came from (None: a log kept without one)."""
    walked = walk(rows, key=key)
    guard = protection(anchor, plain_rows=walked.plain, key=key)
    problem = _problem(rows, head, walked, anchored=anchor is not None)
    if problem is not None:
        index, verdict = problem
        return AuditVerdict(False, verdict, guard, index)
    # Unkeyed, a chain that holds proves little (anyone can recompute it): not "intact".
    word, mac = ("intact", "MAC") if key is not None else ("consistent", "hash")
    last = f"; last {mac} {rows[-1]['hash'][:16]}…" if rows else ""
    return AuditVerdict(True, f"Audit log {word}: {len(rows)} rows{last}.", guard)


def _where(rows: list[dict[str, Any]], index: int) -> str:
    seq = rows[index].get("seq") if index < len(rows) else None
    return f"row {index + 1}" + (f" (seq {seq})" if seq is not None else "")


def _problem(rows: list[dict[str, Any]], head: AuditHead | None, walked: Any, *,
             anchored: bool) -> tuple[int, str] | None:
    """(index, one line) for the first thing wrong, or None. Order: what happened to the log
    as a whole (replaced, start cut), then the first bad row, then the head's end."""
    if head is not None and head.replaced is not None:
        return 0, (f"the audit log was replaced: an earlier log of {head.replaced.count} rows in "
                   f"this data directory is gone and this one started afresh; rows of the "
                   f"earlier log cannot be checked.")
    if walked.start_seq not in (None, 1):
        return 0, (f"the audit log's start was cut: its first {walked.start_seq - 1} row(s) are "
                   f"missing (it begins at seq {walked.start_seq}).")
    if walked.broken is not None:
        return walked.broken, (f"the audit log is broken at {_where(rows, walked.broken)}: "
                               f"{walked.problem}; a row there or just before it was edited, "
                               f"inserted or deleted, and rows from there on cannot be trusted.")
    if head is None:
        if rows and anchored:
            return len(rows), (f"no head is recorded for these {len(rows)} rows (neither "
                               f"audit-head.json nor the OS keyring holds one), so deleted "
                               f"last rows cannot be ruled out.")
        return None
    if rows and rows[0]["hash"] != head.first_hash:
        return 0, ("the audit log does not begin with the row its head recorded: it was "
                   "rewritten from its first row (every MAC recomputed) or replaced.")
    if len(rows) < head.count:
        return len(rows), (f"the audit log is missing its last {head.count - len(rows)} "
                           f"row(s): {head.count} were written, {len(rows)} remain (the "
                           f"database was rolled back or its last rows deleted).")
    if rows and rows[head.count - 1]["hash"] != head.last_hash:
        return head.count - 1, (f"the audit log is broken at {_where(rows, head.count - 1)}: "
                                f"its MAC is not the one recorded at the head.")
    if len(rows) > head.count:
        return head.count, (f"the audit log has {len(rows) - head.count} row(s) after the "
                            f"recorded head, from {_where(rows, head.count)}: Stillroom did "
                            f"not record them as written (forged, or written while the "
                            f"keyring refused the head).")
    return None
