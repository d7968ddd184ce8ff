"""The routing audit log in the database: rows sealed by routing.audit, appended in a
transaction that reads the chain's head, read back as the dicts routing.audit verifies."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.store.schema import AuditRow
from routing.audit import ROW_FIELDS, AuditRecord, export_jsonl, seal, verify

# Two processes appending at once both read the same head; the unique seq makes the second
# insert fail, and it seals again on the new head. A handful of tries is plenty for a
# desktop app with a CLI beside it.
_APPEND_TRIES = 5


def _row_dict(row: AuditRow) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in ROW_FIELDS}
    values["categories"] = json.loads(row.categories)
    values["refused"], values["sensitive"] = bool(row.refused), bool(row.sensitive)
    return values


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(self, records: Iterable[AuditRecord]) -> list[dict[str, Any]]:
        """Seal and insert records, in order, in one transaction; returns the new rows."""
        pending = list(records)
        for attempt in range(_APPEND_TRIES):
            try:
                return self._append_once(pending)
            except IntegrityError:
                if attempt == _APPEND_TRIES - 1:
                    raise
        return []

    def _append_once(self, records: list[AuditRecord]) -> list[dict[str, Any]]:
        written: list[dict[str, Any]] = []
        with Session(self.engine) as session, session.begin():
            head = session.scalars(select(AuditRow).order_by(AuditRow.seq.desc())
                                   .limit(1)).first()
            previous = _row_dict(head) if head is not None else None
            for record in records:
                row = seal(record, previous)
                session.add(AuditRow(**{**row, "categories": json.dumps(row["categories"],
                                                                        sort_keys=True)}))
                written.append(row)
                previous = row
        return written

    def rows(self) -> list[dict[str, Any]]:
        """Every row in chain order (seq), as verify() and export_jsonl() take them.

        Ordered by the primary key, not seq: a row inserted with a forged seq then shows up
        where it was physically added, and breaks the chain there."""
        with Session(self.engine) as session:
            return [_row_dict(row) for row in session.scalars(select(AuditRow)
                                                              .order_by(AuditRow.id))]

    def verify(self) -> int | None:
        """Index (0-based) of the first row that breaks the chain, or None."""
        return verify(self.rows())

    def export(self, stream: IO[str]) -> int:
        return export_jsonl(self.rows(), stream)
