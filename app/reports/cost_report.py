"""The savings report: every figure computed once, from the ledger, with where it comes from.

`build_cost_report` is the one function behind `stillroom cost report` (text, JSON, HTML)
and the GUI's charts. Totals are exact sums of the ledger's amounts; an amount unknown for
any answer leaves the total unknown, with the known part and the reasons beside it.
Projections and the break-even use routing.pricing (docs/COST_MATH.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from app.config import Settings
from app.metering.answer_cost import DEFAULT_BUSY_HOURS_PER_DAY
from app.reports.ledger_sums import (
    EnergySum,
    LedgerSum,
    sum_energy,
    sum_local_cost,
    sum_money,
    sum_savings,
)
from app.store.ledger import LedgerEntry, read_ledger
from routing.pricing import (
    DAYS_PER_MONTH,
    VERDICT_UNKNOWN,
    Breakeven,
    Money,
    PriceCatalog,
    PricingError,
    breakeven,
    format_usd,
)

# Projections use the ledger's rate over this many recent days.
PROJECTION_DAYS = 30
_TOKENS_PER_MILLION = Decimal(1_000_000)
_SECONDS_PER_DAY = Decimal(86_400)
JOULES_PER_KWH = 3_600_000
# A payback later than this outlives any hardware; the report calls it "never".
BREAKEVEN_HORIZON_MONTHS = 1200


@dataclass(frozen=True)
class Figure:
    """One number of the report. `value` is None when unknown; `text` is what a person
    reads ("unknown (...)" included); `source` says where the number comes from."""

    key: str
    label: str
    value: Decimal | int | float | str | None
    unit: str
    text: str
    source: str
    unknown_reason: str | None = None
    known_part: Decimal | float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "value": _json_value(self.value), "unit": self.unit,
                "text": self.text, "source": self.source,
                "unknown_reason": self.unknown_reason,
                "known_part": _json_value(self.known_part)}


@dataclass(frozen=True)
class DailyUsage:
    """One local day: answers, tokens, and the known parts of its local and cloud costs."""

    day: date
    answers: int
    tokens: int
    local_usd: LedgerSum
    cloud_equivalent_usd: LedgerSum


@dataclass(frozen=True)
class CostReport:
    generated_at: datetime
    since: date | None
    reference_cloud_model: str | None
    figures: tuple[Figure, ...]
    daily: tuple[DailyUsage, ...]
    energy_sources: Counter[str] = field(default_factory=Counter)

    def __getitem__(self, key: str) -> Figure:
        for figure in self.figures:
            if figure.key == key:
                return figure
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(),
            "since": self.since.isoformat() if self.since else None,
            "reference_cloud_model": self.reference_cloud_model,
            "figures": {figure.key: figure.to_dict() for figure in self.figures},
            "daily": [{"day": d.day.isoformat(), "answers": d.answers, "tokens": d.tokens,
                       "local_usd": _json_value(d.local_usd.money.usd),
                       "local_usd_known_part": _json_value(d.local_usd.known),
                       "cloud_equivalent_usd": _json_value(d.cloud_equivalent_usd.money.usd),
                       "cloud_equivalent_usd_known_part":
                           _json_value(d.cloud_equivalent_usd.known)}
                      for d in self.daily],
            "energy_sources": dict(self.energy_sources.most_common()),
        }


def _json_value(value: object) -> object:
    # Decimals go out as strings so that JSON readers see the ledger's exact amounts.
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 0.000759000 -> "0.000759", 1E+2 -> "100"
    if isinstance(value, date):
        return value.isoformat()
    return value


def local_timezone() -> tzinfo:
    return datetime.now().astimezone().tzinfo or UTC


def start_of_day(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


# ----------------------------------------------------------------------------- builder


def report_from_store(engine: Engine, settings: Settings,
                      load_catalog: Callable[[], PriceCatalog], *,
                      since: date | None = None) -> CostReport:
    """The report over a store's whole ledger, with today's prices where they load."""
    try:
        catalog, error = load_catalog(), None
    except PricingError as exc:  # a broken overrides file leaves today's prices unknown
        catalog, error = None, str(exc)
    return build_cost_report(read_ledger(engine), settings, catalog, since=since,
                             catalog_error=error)


def build_cost_report(entries: list[LedgerEntry], settings: Settings,
                      catalog: PriceCatalog | None, *, since: date | None = None,
                      now: datetime | None = None, zone: tzinfo | None = None,
                      catalog_error: str | None = None) -> CostReport:
    """Every figure of the report.

    `entries` is the whole ledger (read_ledger), oldest first: the period's totals use the
    answers from `since` (a local date) on, while the projection always uses the last
    PROJECTION_DAYS and the break-even counts from the first answer ever. `catalog` None
    (with `catalog_error`) leaves today's cloud prices unknown.
    """
    zone = zone or local_timezone()
    now = now or datetime.now(UTC)
    start = start_of_day(since, zone) if since else None
    period = [e for e in entries if start is None or e.created_at >= start]
    local = [e for e in period if e.is_local]
    cloud = [e for e in period if not e.is_local]
    figures = _period_figures(period, local, cloud, settings, zone)
    figures += _projection_figures(entries, settings, catalog, catalog_error, now)
    return CostReport(generated_at=now, since=since,
                      reference_cloud_model=settings.reference_cloud_model,
                      figures=tuple(figures), daily=tuple(_daily(period, zone)),
                      energy_sources=sum_energy(local).sources)


def _span(entries: list[LedgerEntry], zone: tzinfo) -> str:
    if not entries:
        return "no answers"
    first = entries[0].created_at.astimezone(zone).date()
    last = entries[-1].created_at.astimezone(zone).date()
    count = f"{len(entries):,} answer{'s' if len(entries) != 1 else ''}"
    return f"{count}, {first} to {last}" if first != last else f"{count} on {first}"


def _money_figure(key: str, label: str, total: LedgerSum, source: str,
                  scope: str = "local") -> Figure:
    money = total.money
    if not total.answers:
        return Figure(key, label, Decimal(0), "usd", f"$0.00 (no {scope} answers)", source)
    if money.usd is not None:
        return Figure(key, label, money.usd, "usd", format_usd(money.usd), source)
    known = ""
    if total.known_answers:
        known = f"; {format_usd(total.known)} known for the other {total.known_answers}"
    text = f"unknown ({money.unknown_reason}{known})"
    return Figure(key, label, None, "usd", text, source, unknown_reason=money.unknown_reason,
                  known_part=total.known)


def _period_figures(period: list[LedgerEntry], local: list[LedgerEntry],
                    cloud: list[LedgerEntry], settings: Settings, zone: tzinfo
                    ) -> list[Figure]:
    ledger = f"ledger: {_span(period, zone)}"
    prompt = sum(e.prompt_tokens for e in local)
    generated = sum(e.completion_tokens for e in local)
    tokens = prompt + generated
    energy = sum_energy(local)
    electricity = sum_money(local, "electricity", lambda e: e.local_energy_usd)
    hardware = sum_money(local, "hardware", lambda e: e.local_hardware_usd)
    local_cost = sum_local_cost(local)
    cloud_equivalent = sum_money(local, "cloud_equivalent", lambda e: e.cloud_equivalent_usd)
    savings = sum_savings(local)
    cloud_spent = sum_money(cloud, "cloud_actual", lambda e: e.cloud_actual_usd)
    return [
        Figure("answers", "answers", len(local), "answers",
               f"{len(local):,} local, {len(cloud):,} cloud", ledger),
        Figure("tokens", "tokens (local)", tokens, "tokens",
               f"{tokens:,} ({prompt:,} prompt + {generated:,} generated)", ledger),
        _energy_figure(energy),
        _money_figure("electricity", "electricity (local)", electricity,
                      f"ledger: each answer's energy x the tariff when it ran "
                      f"(now: kwh_usd {_setting_usd(settings.kwh_usd)})"),
        _money_figure("hardware_share", "hardware share (local)", hardware,
                      f"ledger: price / (expected life x busy hours a day) x each answer's "
                      f"busy time (now: hardware_usd {_setting_usd(settings.hardware_usd)}, "
                      f"amortize_months {settings.amortize_months:g}, busy_hours_per_day "
                      f"{_busy_hours(settings)})"),
        _money_figure("local_cost", "local cost", local_cost,
                      "electricity + hardware share, answer by answer"),
        _money_figure("cloud_equivalent", "cloud equivalent", cloud_equivalent,
                      f"ledger: {_cloud_prices(local)}"),
        _money_figure("cloud_spent", "spent on cloud answers", cloud_spent,
                      "ledger: billed or estimated cost of answers routed to the cloud",
                      scope="cloud"),
        _money_figure("savings", "savings to date", savings,
                      "cloud equivalent - local cost, answer by answer"),
        _rate_figure("local_usd_per_mtok", "local $/1M tokens", local_cost, tokens,
                     "local cost / local tokens"),
        _rate_figure("cloud_usd_per_mtok", "cloud $/1M tokens", cloud_equivalent, tokens,
                     f"cloud equivalent / local tokens ({_cloud_prices(local)})"),
    ]


def _setting_usd(value: float | None) -> str:
    return "not set" if value is None else format_usd(Decimal(repr(value)))


def _cloud_prices(entries: list[LedgerEntry]) -> str:
    priced = Counter((e.cloud_equivalent_model, e.price_as_of) for e in entries
                     if e.cloud_equivalent_usd is not None)
    if not priced:
        return "no answer has a cloud-equivalent price"
    return ", ".join(f"{model} list price as of {as_of} ({count})"
                     for (model, as_of), count in priced.most_common())


def _energy_figure(energy: EnergySum) -> Figure:
    kinds = ", ".join(f"{kind} {count}" for kind, count in energy.by_kind.most_common())
    source = f"ledger, answers by how their energy was obtained: {kinds or 'none'}"
    if energy.sources:
        (usual, count), = energy.sources.most_common(1)
        source += f"; most common source ({count}): {usual}"
    measured = energy.answers - energy.unmeasured
    amount = f"{energy.joules:,.1f} J ({energy.joules / JOULES_PER_KWH:.6f} kWh)"
    if not energy.answers:
        return Figure("energy", "energy (local)", 0.0, "joules", "0 J (no answers)", source)
    if energy.is_known:
        return Figure("energy", "energy (local)", energy.joules, "joules", amount, source)
    known = f"; {amount} for {measured}" if measured else ""
    reason = f"not measured for {energy.unmeasured} of {energy.answers} answers"
    return Figure("energy", "energy (local)", None, "joules", f"unknown ({reason}{known})",
                  source, unknown_reason=reason, known_part=energy.joules if measured else None)


def _rate_figure(key: str, label: str, total: LedgerSum, tokens: int, source: str) -> Figure:
    if tokens == 0:
        reason = "no local tokens"
        return Figure(key, label, None, "usd_per_mtok", f"unknown ({reason})", source, reason)
    money = total.money
    if money.usd is None:
        reason = money.unknown_reason
        return Figure(key, label, None, "usd_per_mtok", f"unknown ({reason})", source, reason)
    rate = money.usd * _TOKENS_PER_MILLION / tokens
    return Figure(key, label, rate, "usd_per_mtok", f"{format_usd(rate)}/1M", source)


def _daily(period: list[LedgerEntry], zone: tzinfo) -> list[DailyUsage]:
    days: dict[date, list[LedgerEntry]] = {}
    for entry in period:
        if entry.is_local:
            days.setdefault(entry.created_at.astimezone(zone).date(), []).append(entry)
    return [DailyUsage(day, len(rows), sum(e.tokens for e in rows), sum_local_cost(rows),
                       sum_money(rows, "cloud_equivalent", lambda e: e.cloud_equivalent_usd))
            for day, rows in sorted(days.items())]


# ------------------------------------------------------------------------- projection


@dataclass(frozen=True)
class _Projection:
    days: Decimal
    input_tokens: int
    output_tokens: int
    electricity: Money
    source: str

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def _project(entries: list[LedgerEntry], now: datetime) -> _Projection | None:
    """The last PROJECTION_DAYS of local answers, scaled to a 30-day month.

    Days count from the first answer in that window (at least one day), so a new install
    is not averaged over days before it existed.
    """
    window_start = now - timedelta(days=PROJECTION_DAYS)
    recent = [e for e in entries if e.is_local and e.created_at >= window_start]
    if not recent:
        return None
    elapsed = Decimal(repr((now - recent[0].created_at).total_seconds())) / _SECONDS_PER_DAY
    days = min(max(elapsed, Decimal(1)), Decimal(PROJECTION_DAYS))
    scale = DAYS_PER_MONTH / days
    electricity = sum_money(recent, "electricity", lambda e: e.local_energy_usd).money
    return _Projection(
        days=days,
        input_tokens=int((sum(e.prompt_tokens for e in recent) * scale).to_integral_value()),
        output_tokens=int((sum(e.completion_tokens for e in recent) * scale)
                          .to_integral_value()),
        electricity=electricity.scaled(scale),
        source=f"ledger: {len(recent):,} local answers over the last {days:.1f} days, "
               f"scaled to {DAYS_PER_MONTH} days")


def _projection_figures(entries: list[LedgerEntry], settings: Settings,
                        catalog: PriceCatalog | None, catalog_error: str | None,
                        now: datetime) -> list[Figure]:
    projection = _project(entries, now)
    if projection is None:
        reason = f"no local answers in the last {PROJECTION_DAYS} days"
        text = f"unknown ({reason})"
        return [Figure("monthly_tokens", "projected volume", None, "tokens_per_month", text,
                       "ledger", reason),
                Figure("monthly_electricity", "projected electricity", None, "usd_per_month",
                       text, "ledger", reason),
                *_unknown_outlook(reason, "ledger")]
    volume = Figure(
        "monthly_tokens", "projected volume", projection.tokens, "tokens_per_month",
        f"{projection.tokens:,} tokens/month ({projection.input_tokens:,} input + "
        f"{projection.output_tokens:,} output)", projection.source)
    electricity = projection.electricity
    monthly_electricity = Figure(
        "monthly_electricity", "projected electricity", electricity.usd, "usd_per_month",
        f"{format_usd(electricity)}/month" if electricity.usd is not None
        else f"unknown ({electricity.unknown_reason})", projection.source,
        electricity.unknown_reason)
    return [volume, monthly_electricity,
            *_breakeven_figures(entries, projection, settings, catalog, catalog_error)]


def _breakeven_figures(entries: list[LedgerEntry], projection: _Projection,
                       settings: Settings, catalog: PriceCatalog | None,
                       catalog_error: str | None) -> list[Figure]:
    model = settings.reference_cloud_model
    source = (f"routing.pricing.breakeven: {model or 'no reference model'} at today's list "
              f"price vs the projected electricity; hardware_usd "
              f"{_setting_usd(settings.hardware_usd)}")
    if model is None:
        return _unknown_outlook("no reference cloud model set (reference_cloud_model)", source)
    if catalog is None:
        return _unknown_outlook(catalog_error or "no price catalog", source)
    running = projection.electricity.usd
    try:
        # The cloud bill needs only prices, so it is computed even when the electricity is
        # unknown; the saving, break-even and verdict are not.
        result = breakeven(model, projection.input_tokens, projection.output_tokens,
                           Decimal(repr(settings.hardware_usd or 0)),
                           running if running is not None else 0, catalog=catalog)
    except PricingError as exc:
        return _unknown_outlook(str(exc), source)
    bill = result.cloud_monthly_usd
    cloud_bill = Figure(
        "monthly_cloud_equivalent", "projected cloud bill", bill.usd, "usd_per_month",
        f"{format_usd(bill)}/month" if bill.usd is not None
        else f"unknown ({bill.unknown_reason})",
        f"{model} list price as of {result.cloud.price.as_of} x the projected volume",
        bill.unknown_reason)
    if running is None:
        reason = f"projected electricity unknown: {projection.electricity.unknown_reason}"
        return [cloud_bill, *_unknown_outlook(reason, source)[1:]]
    verdict = Figure("verdict", "verdict", result.verdict, "text",
                     f"{result.verdict}: {result.verdict_reason}", _VERDICT_SOURCE,
                     result.verdict_reason if result.verdict == VERDICT_UNKNOWN else None)
    return [cloud_bill, _breakeven_date(entries, result, settings, source), verdict]


_VERDICT_SOURCE = "seed 001's decision table on the projected volume (docs/COST_MATH.md)"


def _unknown_outlook(reason: str, source: str) -> list[Figure]:
    """The projected cloud bill, break-even and verdict, all unknown for one reason."""
    text = f"unknown ({reason})"
    return [Figure("monthly_cloud_equivalent", "projected cloud bill", None, "usd_per_month",
                   text, source, reason),
            Figure("breakeven", "hardware break-even", None, "date", text, source, reason),
            Figure("verdict", "verdict", VERDICT_UNKNOWN, "text", text, _VERDICT_SOURCE,
                   reason)]


def _breakeven_date(entries: list[LedgerEntry], result: Breakeven, settings: Settings,
                    source: str) -> Figure:
    key, label = "breakeven", "hardware break-even"
    if settings.hardware_usd is None:
        reason = "hardware price not set: hardware_usd"
        return Figure(key, label, None, "date", f"unknown ({reason})", source, reason)
    saving = result.savings_monthly_usd
    if result.breakeven_months is None:
        if result.local_is_cheaper is False:
            return Figure(key, label, "never", "date",
                          "never (running locally costs at least the cloud bill)", source)
        reason = saving.unknown_reason or "cloud price unknown"
        return Figure(key, label, None, "date", f"unknown ({reason})", source, reason)
    months = result.breakeven_months
    if months > BREAKEVEN_HORIZON_MONTHS:
        return Figure(key, label, "never", "date",
                      f"not within {BREAKEVEN_HORIZON_MONTHS // 12} years ({months:,.0f} months "
                      f"at {format_usd(saving)}/month saved)", source)
    # Counted from the first local answer: the rate is assumed to have held since then.
    first = next(e.created_at for e in entries if e.is_local)
    when = (first + timedelta(days=float(months * DAYS_PER_MONTH))).date()
    text = (f"{when} ({months:.1f} months from the first answer on {first.date()}, at "
            f"{format_usd(saving)}/month saved)")
    return Figure(key, label, when.isoformat(), "date", text,
                  f"{source}; months = hardware / (cloud bill - electricity)")


def _busy_hours(settings: Settings) -> str:
    if settings.busy_hours_per_day is None:
        return f"{DEFAULT_BUSY_HOURS_PER_DAY:g} (default, 30%)"
    return f"{settings.busy_hours_per_day:g}"
