"""Exact sums over the ledger that keep count of what is unknown, and why.

A sum over answers of which some have an unknown amount is itself unknown; the known part
and the reasons are kept beside it so a report can say how much is known and what to set.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from app.metering.answer_cost import UNKNOWN_PREFIX
from app.store.ledger import LedgerEntry
from routing.pricing import Money

NO_REASON = "no reason recorded"


@dataclass(frozen=True)
class LedgerSum:
    """The exact sum of one figure over answers; unknown if any answer's figure is."""

    known: Decimal = Decimal(0)
    known_answers: int = 0
    unknown_answers: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def answers(self) -> int:
        return self.known_answers + self.unknown_answers

    @property
    def is_known(self) -> bool:
        return self.unknown_answers == 0

    @property
    def money(self) -> Money:
        if self.is_known:
            return Money(self.known)
        return Money.unknown(f"{self.reason_text()}, for {self.unknown_answers} of "
                             f"{self.answers} answers")

    def reason_text(self) -> str:
        """The reasons; with several, each with how many answers it applies to."""
        if len(self.reasons) == 1:
            return next(iter(self.reasons))
        return " / ".join(f"{reason} x{count}" for reason, count in self.reasons.most_common())


def _part_reason(entry: LedgerEntry, part: str) -> str:
    note = entry.cost_notes.get(part, "")
    return note.removeprefix(UNKNOWN_PREFIX) if note.startswith(UNKNOWN_PREFIX) else NO_REASON


def sum_money(entries: Iterable[LedgerEntry], part: str,
              amount: Callable[[LedgerEntry], Decimal | None]) -> LedgerSum:
    """Sum one money column; `part` names the cost_notes entry that says why it is unknown."""
    known, known_answers = Decimal(0), 0
    reasons: Counter[str] = Counter()
    for entry in entries:
        value = amount(entry)
        if value is None:
            reasons[_part_reason(entry, part)] += 1
        else:
            known += value
            known_answers += 1
    return LedgerSum(known, known_answers, sum(reasons.values()), reasons)


def sum_local_cost(entries: Iterable[LedgerEntry]) -> LedgerSum:
    """Electricity plus hardware share, answer by answer."""
    return _sum_combined(entries, lambda e: (e.local_energy_usd, e.local_hardware_usd),
                         ("electricity", "hardware"), lambda parts: parts[0] + parts[1])


def sum_savings(entries: Iterable[LedgerEntry]) -> LedgerSum:
    """Cloud equivalent minus electricity and hardware share, answer by answer."""
    return _sum_combined(
        entries,
        lambda e: (e.cloud_equivalent_usd, e.local_energy_usd, e.local_hardware_usd),
        ("cloud_equivalent", "electricity", "hardware"),
        lambda parts: parts[0] - parts[1] - parts[2])


def _sum_combined(entries: Iterable[LedgerEntry],
                  amounts: Callable[[LedgerEntry], tuple[Decimal | None, ...]],
                  parts: tuple[str, ...],
                  combine: Callable[[tuple[Decimal, ...]], Decimal]) -> LedgerSum:
    known, known_answers, unknown_answers = Decimal(0), 0, 0
    reasons: Counter[str] = Counter()
    for entry in entries:
        values = amounts(entry)
        missing = [part for part, value in zip(parts, values, strict=True) if value is None]
        if missing:
            unknown_answers += 1
            # Each missing part with its reason: "electricity: energy not measured".
            for part in missing:
                reasons[f"{part.replace('_', ' ')}: {_part_reason(entry, part)}"] += 1
            continue
        known += combine(values)  # type: ignore[arg-type]
        known_answers += 1
    return LedgerSum(known, known_answers, unknown_answers, reasons)


@dataclass(frozen=True)
class EnergySum:
    """Joules over answers: the correctly rounded float sum (math.fsum) of the measured or
    estimated ones, and how many answers were measured, estimated or not measured."""

    joules: float
    by_kind: Counter[str]
    sources: Counter[str]

    @property
    def unmeasured(self) -> int:
        return self.by_kind.get("not measured", 0)

    @property
    def answers(self) -> int:
        return sum(self.by_kind.values())

    @property
    def is_known(self) -> bool:
        return self.answers > 0 and self.unmeasured == 0


def sum_energy(entries: Iterable[LedgerEntry]) -> EnergySum:
    joules: list[float] = []
    kinds: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    for entry in entries:
        if entry.energy_joules is None:
            kinds["not measured"] += 1
        else:
            joules.append(entry.energy_joules)
            kinds[entry.energy_kind or "measured"] += 1
        sources[entry.energy_source or "no source recorded"] += 1
    return EnergySum(math.fsum(joules), kinds, sources)
