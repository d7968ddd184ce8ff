"""The routing audit log in the database: rows sealed by routing.audit (HMAC-SHA256 under
the key audit_anchor keeps in the OS keyring, SHA-256 only without one), appended in a
transaction that reads the chain's head, read back as the dicts routing.audit verifies."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.store.audit_anchor import AuditAnchor, AuditHead
from app.store.audit_check import AuditVerdict, judge, missing_table
from app.store.db import StoreError
from app.store.schema import AuditRow
from routing.audit import ROW_FIELDS, AuditRecord, export_jsonl, seal

# Two processes appending at once both read the same head; the unique seq makes the second
# insert fail, and it seals again on the new head. A handful of tries is plenty for a
# desktop app with a CLI beside it. On PostgreSQL, where several office-server boxes append
# to one log, appends also queue on an advisory lock, so none runs out of tries.
_APPEND_TRIES = 5
_APPEND_LOCK = 0x5711_1201  # any fixed number, the same on every box


def _row_dict(row: AuditRow) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in ROW_FIELDS}
    if row.user is not None:
        values["user"] = row.user
    if row.judge is not None:
        values["judge"] = json.loads(row.judge)
    values["categories"] = json.loads(row.categories)
    values["refused"], values["sensitive"] = bool(row.refused), bool(row.sensitive)
    return values


class AuditTableMissingError(StoreError):
    """The database has no audit table (it was dropped)."""


class AuditLog:
    """`anchor` keeps the MAC key and the chain's head outside the database (audit_anchor.py),
    so that a recomputed chain and deleted last rows are detected too; without one rows are
    hash-chained only and only edits, insertions and deletions before the last row are."""

    def __init__(self, engine: Engine, anchor: AuditAnchor | None = None) -> None:
        self.engine = engine
        self.anchor = anchor
        self._key: bytes | None = None

    def key(self) -> bytes | None:
        """The MAC key for new rows (made on first use); None without a keyring. Looked up
        again while missing, so a keyring unlocked later keys the rows from then on."""
        if self._key is None and self.anchor is not None:
            self._key = self.anchor.key(create=True)
        return self._key

    def append(self, records: Iterable[AuditRecord]) -> list[dict[str, Any]]:
        """Seal and insert records, in order, in one transaction; returns the new rows."""
        pending = list(records)
        for attempt in range(_APPEND_TRIES):
            try:
                written, first_hash = self._append_once(pending)
                break
            except IntegrityError:
                if attempt == _APPEND_TRIES - 1:
                    raise
            except OperationalError:
                self._raise_if_table_missing()
                raise
        else:
            return []
        # After the commit: an anchor ahead of the database would report rows as deleted.
        if written and self.anchor is not None:
            self.anchor.advance(AuditHead(first_hash, written[-1]["seq"], written[-1]["hash"]))
        return written

    def _append_once(self, records: list[AuditRecord]) -> tuple[list[dict[str, Any]], str]:
        written: list[dict[str, Any]] = []
        key = self.key()
        with Session(self.engine) as session, session.begin():
            if self.engine.dialect.name == "postgresql":
                # Held to the end of this transaction: the head read below stays the head.
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                {"key": _APPEND_LOCK})
            head = session.scalars(select(AuditRow).order_by(AuditRow.seq.desc())
                                   .limit(1)).first()
            previous = _row_dict(head) if head is not None else None
            first = session.scalars(select(AuditRow.hash).where(AuditRow.seq == 1)).first()
            for record in records:
                row = seal(record, previous, key=key)
                stored = {**row, "categories": json.dumps(row["categories"], sort_keys=True)}
                if row.get("judge") is not None:
                    stored["judge"] = json.dumps(row["judge"], sort_keys=True)
                session.add(AuditRow(**stored))
                written.append(row)
                previous = row
        return written, first or (written[0]["hash"] if written else "")

    def rows(self) -> list[dict[str, Any]]:
        """Every row in chain order (seq), as verify() and export_jsonl() take them.

        Ordered by the primary key, not seq: a row inserted with a forged seq then shows up
        where it was physically added, and breaks the chain there."""
        try:
            with Session(self.engine) as session:
                return [_row_dict(row) for row in session.scalars(select(AuditRow)
                                                                  .order_by(AuditRow.id))]
        except OperationalError:
            self._raise_if_table_missing()
            raise

    def _raise_if_table_missing(self) -> None:
        # Never recreated here: a new empty table would hide that the old one was dropped.
        with self.engine.connect() as connection:
            if inspect(connection).has_table(AuditRow.__tablename__):
                return
        raise AuditTableMissingError(
            "the database has no audit table (it was dropped): the routing audit trail is "
            "gone; keep this database aside as evidence") from None

    def verify(self, rows: list[dict[str, Any]] | None = None) -> int | None:
        """Index (0-based) of the first row that breaks the chain, or None. An index equal to
        the number of rows means rows are missing from the end. (check() gives the verdict in
        words: keyed or not, a cut start, a replaced log, rows past the head.)"""
        rows = self.rows() if rows is None else rows
        return self._judge(rows).index

    def check(self) -> AuditVerdict:
        """The verdict `stillroom audit verify`, doctor and the window show."""
        try:
            rows = self.rows()
        except AuditTableMissingError as exc:
            head, _sources = self.head([])
            return missing_table(str(exc), head, self.anchor, self._stored_key())
        return self._judge(rows)

    def _judge(self, rows: list[dict[str, Any]]) -> AuditVerdict:
        head, _sources = self.head(rows)
        return judge(rows, head, key=self._stored_key(), anchor=self.anchor)

    def _stored_key(self) -> bytes | None:
        # Verifying never makes a key: a missing one must show, not be papered over.
        return self.anchor.key(create=False) if self.anchor is not None else None

    def head(self, rows: list[dict[str, Any]]) -> tuple[AuditHead | None, list[str]]:
        """The anchored head for these rows and where it was looked up (empty: no anchor)."""
        if self.anchor is None:
            return None, []
        return self.anchor.load(rows[0].get("hash") if rows else None)

    def export(self, stream: IO[str]) -> int:
        return export_jsonl(self.rows(), stream)
