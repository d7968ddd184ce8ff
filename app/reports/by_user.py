"""`stillroom cost report --by-user`: the ledger per office-server user (the desktop and
the CLI together as one row), with unknown amounts kept unknown, as in the main report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.reports.ledger_sums import LedgerSum, sum_local_cost, sum_money
from app.store.ledger import LedgerEntry
from routing.pricing.money import format_usd

DESKTOP = "(desktop and CLI)"


@dataclass(frozen=True)
class UserCosts:
    user: str | None  # None: asked on this machine, not through the office server
    answers: int
    tokens: int
    local_cost: LedgerSum  # electricity + hardware share of the answers made here
    cloud_billed: LedgerSum  # what providers billed for the answers made elsewhere

    @property
    def label(self) -> str:
        return self.user or DESKTOP

    def to_dict(self) -> dict[str, Any]:
        return {"user": self.user, "answers": self.answers, "tokens": self.tokens,
                "local_cost_usd": self.local_cost.money.as_json_number(),
                "cloud_billed_usd": self.cloud_billed.money.as_json_number()}


def costs_by_user(entries: Iterable[LedgerEntry]) -> list[UserCosts]:
    """One row per user, most tokens first."""
    grouped: dict[str | None, list[LedgerEntry]] = {}
    for entry in entries:
        grouped.setdefault(entry.user, []).append(entry)
    rows = [UserCosts(user, len(answers), sum(a.tokens for a in answers),
                      sum_local_cost(a for a in answers if a.is_local),
                      sum_money((a for a in answers if not a.is_local), "cloud_actual",
                                lambda a: a.cloud_actual_usd))
            for user, answers in grouped.items()]
    return sorted(rows, key=lambda row: (-row.tokens, row.label))


def render_by_user(rows: list[UserCosts]) -> str:
    if not rows:
        return "By user: no answers in this period."
    width = max(len(row.label) for row in rows)
    lines = ["By user:"]
    for row in rows:
        lines.append(f"  {row.label.ljust(width)}  {row.answers} answers, {row.tokens} "
                     f"tokens; here {format_usd(row.local_cost.money)}, cloud billed "
                     f"{format_usd(row.cloud_billed.money)}")
    return "\n".join(lines)
