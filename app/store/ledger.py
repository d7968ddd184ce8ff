"""The usage ledger's money representation and its read side (reports, the GUI's meters).

Money is stored as integer nano-dollars (1e-9 USD), None when unknown. Why integers:
- SQLite has no exact decimal type: a NUMERIC column keeps a non-integer as a binary float,
  so $0.000135 would come back as 0.00013499999999999999. Integers are exact in SQLite and
  in PostgreSQL (BIGINT), and so are SQL SUM and GROUP BY over them.
- A nano-dollar is small enough for per-answer amounts: an answer's cloud equivalent is
  often a few hundred micro-dollars, its electricity a few micro-dollars. Rounding each
  answer to the nearest nano-dollar moves it by at most $0.0000000005, far below any digit
  a report shows; a 64-bit integer still holds $9.2 billion.
- Text decimals would be exact too, but every sum would have to leave SQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.store.schema import Usage
from routing.decision import Spend

NANOS_PER_USD = 10**9


def usd_to_nanos(usd: Decimal | None) -> int | None:
    """An exact USD amount to whole nano-dollars (half to even), None kept as None."""
    if usd is None:
        return None
    return int((usd * NANOS_PER_USD).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def nanos_to_usd(nanos: int | None) -> Decimal | None:
    """Stored nano-dollars back to an exact Decimal USD amount."""
    if nanos is None:
        return None
    return Decimal(nanos).scaleb(-9)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; everything stored is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One answer as the ledger holds it; money in USD, None where unknown."""

    id: int
    created_at: datetime
    model_id: str
    route_target: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    total_s: float
    energy_joules: float | None
    energy_kind: str | None
    energy_source: str | None
    local_energy_usd: Decimal | None
    local_hardware_usd: Decimal | None
    cloud_equivalent_usd: Decimal | None
    cloud_equivalent_model: str | None
    cloud_actual_usd: Decimal | None
    price_as_of: date | None
    # Part ("electricity", "hardware", "cloud_equivalent") -> how it was priced or
    # "unknown: <why>"; empty when nothing was recorded.
    cost_notes: dict[str, str]
    user: str | None = None  # the office server's user; None for the desktop and the CLI

    @property
    def is_local(self) -> bool:
        return self.route_target == "local"

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def _entry(row: Usage) -> LedgerEntry:
    return LedgerEntry(
        id=row.id, created_at=as_utc(row.created_at), model_id=row.model_id,
        route_target=row.route_target, finish_reason=row.finish_reason,
        prompt_tokens=row.prompt_tokens, completion_tokens=row.completion_tokens,
        total_s=row.total_s, energy_joules=row.energy_joules, energy_kind=row.energy_kind,
        energy_source=row.energy_source,
        local_energy_usd=nanos_to_usd(row.local_energy_usd_nanos),
        local_hardware_usd=nanos_to_usd(row.local_hardware_usd_nanos),
        cloud_equivalent_usd=nanos_to_usd(row.cloud_equivalent_usd_nanos),
        cloud_equivalent_model=row.cloud_equivalent_model,
        cloud_actual_usd=nanos_to_usd(row.cloud_actual_usd_nanos),
        price_as_of=row.price_as_of, cost_notes=_notes(row.cost_notes), user=row.user)


def _notes(stored: str | None) -> dict[str, str]:
    if not stored:
        return {}
    try:
        notes = json.loads(stored)
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in notes.items()} if isinstance(notes, dict) else {}


def read_ledger(engine: Engine, since: datetime | None = None,
                until: datetime | None = None) -> list[LedgerEntry]:
    """Rows in [since, until), oldest first; both bounds are aware datetimes."""
    query = select(Usage).order_by(Usage.created_at, Usage.id)
    if since is not None:
        query = query.where(Usage.created_at >= as_utc(since))
    if until is not None:
        query = query.where(Usage.created_at < as_utc(until))
    with Session(engine) as session:
        return [_entry(row) for row in session.scalars(query)]


def cloud_spend(engine: Engine, now: datetime) -> Spend:
    """What cloud answers cost today and this month (UTC), in total and per provider, for
    the router's budget caps. Unknown amounts count as nothing: the cap cannot see them."""
    now = as_utc(now)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    query = (select(Usage.provider, Usage.created_at, Usage.cloud_actual_usd_nanos)
             .where(Usage.created_at >= month, Usage.cloud_actual_usd_nanos.is_not(None)))
    today: dict[str, Decimal] = {}
    this_month: dict[str, Decimal] = {}
    with engine.connect() as connection:
        for provider, created_at, nanos in connection.execute(query):
            amount = nanos_to_usd(nanos) or Decimal(0)
            name = provider or "unknown"
            this_month[name] = this_month.get(name, Decimal(0)) + amount
            if as_utc(created_at) >= day:
                today[name] = today.get(name, Decimal(0)) + amount
    return Spend(today_usd=sum(today.values(), Decimal(0)),
                 month_usd=sum(this_month.values(), Decimal(0)),
                 today_by_provider=today, month_by_provider=this_month)


# How many past scores calibrate the escalation threshold: enough for a stable low
# percentile, few enough that the threshold follows the user's recent questions.
CONFIDENCE_HISTORY_SIZE = 500


def confidence_history(engine: Engine, model_id: str, *,
                       limit: int = CONFIDENCE_HISTORY_SIZE) -> list[float]:
    """The confidence scores of this model's latest scored answers, newest first.

    Per model, because a score only compares with scores from the same model: a small model
    is less sure of every token than a large one, whatever it is asked."""
    query = (select(Usage.confidence)
             .where(Usage.model_id == model_id, Usage.route_target == "local",
                    Usage.confidence.is_not(None))
             .order_by(Usage.id.desc()).limit(limit))
    with engine.connect() as connection:
        return [float(score) for score in connection.scalars(query)]
