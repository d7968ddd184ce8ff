"""The audit log: one content-free, hash-chained row per routing decision.

A row says where a message went and why, never what it said:

    seq, time, event, conversation_id, target, provider, model, rule, reason, refused,
    sensitive, categories ({category: count}), prompt_tokens, completion_tokens, cost_usd,
    prev_hash, hash

``hash`` is SHA-256 over the previous row's hash and this row's fields in canonical JSON
(sorted keys, no spaces, UTF-8), so editing, inserting, deleting or reordering any row
breaks the chain at that row; ``verify`` returns its index. Two limits, by construction:
deleting rows at the *end* leaves a valid shorter chain (pass ``head``, the count and last
hash kept elsewhere, to catch it), and someone who can rewrite the whole table can recompute
every hash (pass ``key``, a secret kept in the OS keyring, to make hashes HMAC-SHA256 MACs
they cannot recompute). ``walk`` reads a log that holds both kinds: rows hash-chained only
(written before it was keyed, or without a keyring) followed by keyed rows, never the
reverse.

Pure functions over plain dicts, so the app can keep rows in its database (a column per
field, ``categories`` as JSON text) and hand them back as dicts; ``JsonlAuditLog`` is a
file-backed log for tools and tests. Reasons are the router's own sentences: they name
rules, providers and categories, never the user's text. The one model-written part, the
local judge's reason (in ``reason`` and ``judge``), is redacted before it gets here
(routing.sensitivity.judge.redact_reason: what the gate finds, numbers, addresses, quotes
and words copied from the text go; capped at 160 characters).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal

from routing.decision import RouteDecision

GENESIS_HASH = "0" * 64
# "network": offline mode refused a connection (app/network_gate.py).
AuditEvent = Literal["route", "failover", "escalation", "network"]

# The hashed fields, in the order a table would list them.
RECORD_FIELDS = ("seq", "time", "event", "conversation_id", "target", "provider", "model",
                 "rule", "reason", "refused", "sensitive", "categories", "prompt_tokens",
                 "completion_tokens", "cost_usd")
ROW_FIELDS = (*RECORD_FIELDS, "prev_hash", "hash")
# Hashed only when set: "user", the office server's user who asked. Rows without one (the
# desktop's, and every row written before the field existed) hash exactly as before, and
# setting or clearing it on a row breaks that row's MAC.
# "judge": the local judge's verdict on cloud-bound text (JudgeOutcome.audit_json: model,
# verdict, category, redacted reason, latency), hashed only on the rows where a judge ran.
OPTIONAL_FIELDS = ("user", "judge")


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What is known about one decision before it joins the chain (which adds seq and hashes)."""

    time: str
    event: AuditEvent
    conversation_id: str | None
    target: str
    provider: str | None
    model: str | None
    rule: str
    reason: str
    refused: bool = False
    sensitive: bool = False
    categories: Mapping[str, int] = field(default_factory=dict)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: str | None = None  # exact decimal text; None when unknown or not applicable
    user: str | None = None  # the office server's user; None for the desktop and CLI
    judge: Mapping[str, Any] | None = None  # the judge's run, content-free; None: none ran

    def fields(self) -> dict[str, Any]:
        values = asdict(self)
        values["categories"] = dict(sorted(self.categories.items()))
        for name in OPTIONAL_FIELDS:
            if values[name] is None:
                del values[name]
        return values


def _cost_text(cost: Decimal | str | float | int | None) -> str | None:
    if cost is None:
        return None
    return str(cost if isinstance(cost, Decimal) else Decimal(str(cost)))


def record_for(decision: RouteDecision, *, conversation_id: str | None,
               event: AuditEvent = "route", prompt_tokens: int | None = None,
               completion_tokens: int | None = None,
               cost_usd: Decimal | str | float | int | None = None,
               when: datetime | None = None, user: str | None = None) -> AuditRecord:
    """The audit record of a decision, with the answer's tokens and cost once known."""
    moment = (when or datetime.now(UTC)).astimezone(UTC)
    return AuditRecord(
        time=moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        event=event, conversation_id=conversation_id, target=decision.target,
        provider=decision.provider, model=decision.model, rule=decision.rule,
        reason=decision.reason, refused=decision.refused, sensitive=decision.sensitive,
        categories=decision.counts, prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens, cost_usd=_cost_text(cost_usd), user=user,
        judge=decision.judge.audit_json() if decision.judge is not None else None)


def canonical(body: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed: the record fields only (optional ones when set), in
    canonical JSON."""
    hashed = {name: body[name] for name in RECORD_FIELDS}
    hashed.update({name: body[name] for name in OPTIONAL_FIELDS
                   if body.get(name) is not None})
    return json.dumps(hashed, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def chain(prev_hash: str, body: Mapping[str, Any], *, key: bytes | None = None) -> str:
    """The hash of a row whose record fields (seq included) are ``body``."""
    message = prev_hash.encode("ascii") + b"\n" + canonical(body)
    if key is not None:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def seal(record: AuditRecord, previous: Mapping[str, Any] | None, *,
         key: bytes | None = None) -> dict[str, Any]:
    """The row that follows ``previous`` (None for the first row): record + seq + hashes."""
    prev_hash = previous["hash"] if previous else GENESIS_HASH
    body = {"seq": previous["seq"] + 1 if previous else 1, **record.fields()}
    return {**body, "prev_hash": prev_hash, "hash": chain(prev_hash, body, key=key)}


def verify(rows: Iterable[Mapping[str, Any]], *, head: tuple[int, str] | None = None,
           key: bytes | None = None) -> int | None:
    """The index of the first row that breaks the chain, or None when every row holds.

    A row breaks it when a field is missing, its seq is not the next number, its prev_hash is
    not the previous row's hash, or its hash does not match its fields. ``head`` = (row count,
    last hash) recorded elsewhere also catches rows deleted from the end: then the index is
    where the first missing row would be.
    """
    prev_hash, expected_seq, count = GENESIS_HASH, 1, 0
    for index, row in enumerate(rows):
        if any(name not in row for name in ROW_FIELDS):
            return index
        if row["seq"] != expected_seq or row["prev_hash"] != prev_hash:
            return index
        if not hmac.compare_digest(str(row["hash"]), chain(prev_hash, row, key=key)):
            return index
        prev_hash, expected_seq, count = row["hash"], expected_seq + 1, count + 1
        if head is not None and count == head[0] and row["hash"] != head[1]:
            return index
    if head is not None and count < head[0]:
        return count
    return None


@dataclass(frozen=True, slots=True)
class ChainWalk:
    """What ``walk`` found: rows that hold, how many of them lead the chain unkeyed, and the
    first row that breaks it (an index into the rows) with the reason, worded for a user."""

    start_seq: int | None  # the first row's seq; 1 unless rows were cut from the start
    holding: int  # rows from the start that hold
    plain: int  # of those, the leading rows that are hash-chained only (no key)
    broken: int | None = None
    problem: str = ""


def walk(rows: list[Mapping[str, Any]], *, key: bytes | None) -> ChainWalk:
    """Check a chain that may start with unkeyed rows and continue keyed (``key``).

    The first row is taken as the start whatever its seq (``start_seq`` says where it
    starts, so a cut start is reported as such rather than as an edit). After the first keyed
    row every row must be keyed: an unkeyed row there was written without the key.
    """
    start = rows[0].get("seq") if rows and isinstance(rows[0].get("seq"), int) else None
    prev_hash = rows[0].get("prev_hash") if start not in (None, 1) else GENESIS_HASH
    expected, plain, keyed = start or 1, 0, False
    for index, row in enumerate(rows):
        problem = _row_problem(row, expected, prev_hash)
        if not problem:
            body_hash = str(row["hash"])
            if key is not None and hmac.compare_digest(body_hash, chain(prev_hash, row, key=key)):
                keyed = True
            elif not hmac.compare_digest(body_hash, chain(prev_hash, row)):
                problem = ("its MAC does not match its fields" if key is not None else
                           "its hash does not match its fields (or it is keyed with an audit "
                           "key that cannot be read here)")
            elif keyed:
                problem = ("it is only hash-chained after keyed rows: it was written "
                           "without the audit key")
            else:
                plain += 1
        if problem:
            return ChainWalk(start, index, plain, index, problem)
        prev_hash, expected = row["hash"], expected + 1
    return ChainWalk(start, len(rows), plain)


def _row_problem(row: Mapping[str, Any], expected_seq: int, prev_hash: str) -> str:
    missing = [name for name in ROW_FIELDS if name not in row]
    if missing:
        return f"it lacks {', '.join(missing)}"
    if row["seq"] != expected_seq:
        return f"its seq is {row['seq']} where {expected_seq} should follow"
    if row["prev_hash"] != prev_hash:
        return "its prev_hash is not the previous row's MAC"
    return ""


def export_jsonl(rows: Iterable[Mapping[str, Any]], stream: IO[str]) -> int:
    """Write rows as JSON Lines (every field, hashes included); returns how many."""
    written = 0
    for row in rows:
        stream.write(json.dumps({name: row[name] for name in (*ROW_FIELDS, *OPTIONAL_FIELDS)
                                 if name in row and (name in ROW_FIELDS
                                                     or row[name] is not None)},
                                ensure_ascii=False, sort_keys=True) + "\n")
        written += 1
    return written


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows from a JSON Lines file. An unreadable line (a torn write) becomes an empty row,
    which ``verify`` reports at its index instead of the reader failing."""
    rows: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return rows
    for line in lines:
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            row = {}
        rows.append(row if isinstance(row, dict) else {})
    return rows


def _last_line(path: Path) -> bytes | None:
    """The file's last non-empty line, read from the end (the file may be large)."""
    try:
        stream = path.open("rb")
    except FileNotFoundError:
        return None
    with stream:
        size = stream.seek(0, os.SEEK_END)
        block = 4096
        while True:
            start = max(0, size - block)
            stream.seek(start)
            lines = stream.read(size - start).rstrip(b"\n").split(b"\n")
            if len(lines) > 1 or start == 0:
                return lines[-1] or None
            block *= 4


class JsonlAuditLog:
    """An append-only JSON Lines audit file (tests, tools, and a database-free app).

    Each append chains onto the row last written to the file, so several instances (or
    processes taking turns) keep one chain; two processes appending at the same instant
    would fork it, which ``verify`` then reports. The app's database log has no such race.
    """

    def __init__(self, path: Path, *, key: bytes | None = None) -> None:
        self.path = path
        self._key = key
        self._lock = threading.Lock()

    def rows(self) -> list[dict[str, Any]]:
        return read_jsonl(self.path)

    def append(self, record: AuditRecord) -> dict[str, Any]:
        with self._lock:
            last = _last_line(self.path)
            try:
                previous = json.loads(last) if last else None
            except json.JSONDecodeError:
                previous = None  # a torn line: the chain is already broken there
            row = seal(record, previous if isinstance(previous, dict) else None, key=self._key)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as stream:
                stream.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
                stream.flush()
                os.fsync(stream.fileno())
            return row

    def verify(self, *, head: tuple[int, str] | None = None) -> int | None:
        return verify(self.rows(), head=head, key=self._key)
