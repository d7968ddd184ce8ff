"""argparse glue for ``stillroom cost estimate | local | breakeven``.

The app's CLI calls ``add_cost_commands(subparsers)``; each sub-command stores its handler
in ``args.func``, which returns the process exit code: 0 on success (an unknown price is a
result, printed as "unknown" / null), 2 on bad input with one line on stderr. Handlers print
a readable table, or with ``--json`` exactly one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from routing.pricing.catalog import PriceCatalog, load_default_catalog
from routing.pricing.costs import (
    DAYS_PER_MONTH,
    Breakeven,
    CloudCost,
    LocalCost,
    breakeven,
    cloud_cost,
    energy_monthly_usd,
    local_cost,
)
from routing.pricing.errors import PricingError, PricingInputError
from routing.pricing.money import Money, format_price, format_usd, to_decimal
from routing.pricing.tokens import format_token_count, parse_token_count

EXIT_OK = 0
EXIT_BAD_INPUT = 2
NEVER = "never"

CatalogLoader = Callable[[], PriceCatalog]


@dataclass(frozen=True)
class SettingDefault:
    """A flag's value from the user's settings, when the flag is not given."""

    value: float | None  # None: the setting is not set either
    setting: str  # its name, e.g. "kwh_usd"
    note: str = ""  # e.g. "default 30% use"


# Flag dest -> its setting; the app reads the user's settings only when a command runs.
SettingsDefaults = Callable[[], dict[str, SettingDefault]]


@dataclass(frozen=True)
class _Defaults:
    read: SettingsDefaults
    where: str  # where the user sets them, for the "missing" line


def _fill_from_settings(args: argparse.Namespace, dests: Sequence[str],
                        defaults: _Defaults | None) -> list[str]:
    """Give each missing flag its setting's value; what was filled, one phrase each.
    A flag neither given nor set is one line naming both."""
    if defaults is None:
        return []
    settings = defaults.read()
    filled = []
    for dest in dests:
        if getattr(args, dest) is not None or dest not in settings:
            continue
        default = settings[dest]
        if default.value is None:
            raise PricingInputError(
                f"missing {_flag(dest)} (or set {default.setting} in {defaults.where})")
        value = format(Decimal(repr(default.value)).normalize(), "f")
        setattr(args, dest, value)
        note = f", {default.note}" if default.note else ""
        filled.append(f"{_flag(dest)} {value} ({default.setting}{note})")
    return filled


def _settings_row(filled: list[str]) -> list[tuple[str, str]]:
    return [("from your settings", ", ".join(filled))] if filled else []


def _amount(text: str, flag: str) -> Decimal:
    """A non-negative number from a flag; '$2,000' is accepted as 2000."""
    cleaned = text.strip().removeprefix("$").replace(",", "")
    return to_decimal(cleaned, flag)


def _json_money(amount: Money | Decimal) -> float | None:
    if isinstance(amount, Money):
        return amount.as_json_number()
    return float(amount)


def _print_json(document: dict[str, Any]) -> None:
    print(json.dumps(document, indent=2))


def _print_rows(title: str, rows: Sequence[tuple[str, str]]) -> None:
    print(title)
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label.ljust(width)}  {value}")


def _money_text(amount: Money) -> str:
    if amount.is_known:
        return format_usd(amount)
    return f"unknown ({amount.unknown_reason})"


def _guarded(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Turn a PricingError into one line on stderr and exit code 2, never a traceback."""
    try:
        return handler(args)
    except PricingError as exc:
        print(f"stillroom: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


# ------------------------------------------------------------------------- estimate


def estimate_document(result: CloudCost) -> dict[str, Any]:
    """The ``cost estimate --json`` object (also what a report embeds per answer)."""
    price = result.price
    return {
        "cloud_usd": result.cloud_usd.as_json_number(),
        "unknown_reason": result.cloud_usd.unknown_reason,
        "model": price.model_id,
        "provider": price.provider,
        "input_tokens": result.usage.input_tokens,
        "cached_input_tokens": result.usage.cached_input_tokens,
        "output_tokens": result.usage.output_tokens,
        "batch": result.batch,
        "uncached_input_usd": result.uncached_input_usd.as_json_number(),
        "cached_input_usd": result.cached_input_usd.as_json_number(),
        "output_usd": result.output_usd.as_json_number(),
        "batch_discount": None if price.batch_discount is None else float(price.batch_discount),
        "price_as_of": price.as_of.isoformat(),
        "price_source": price.source,
    }


def _print_estimate(result: CloudCost) -> None:
    price, usage = result.price, result.usage
    uncached_tokens = usage.input_tokens - usage.cached_input_tokens

    def line(tokens: int, rate: str, amount: Money) -> str:
        return f"{format_token_count(tokens)} tokens x {rate} = {_money_text(amount)}"

    if not result.batch:
        batch = "not applied"
    elif price.batch_discount is None:
        batch = "requested, but unknown for this model"
    else:
        batch = f"{_plain(price.batch_discount * 100)}% off every part"
    _print_rows(
        f"Cloud estimate: {price.model_id} ({price.provider}), list prices as of {price.as_of}",
        [
            ("input", line(uncached_tokens, format_price(price.input), result.uncached_input_usd)),
            (
                "cached input",
                line(
                    usage.cached_input_tokens,
                    format_price(price.cached_input),
                    result.cached_input_usd,
                ),
            ),
            ("output", line(usage.output_tokens, format_price(price.output), result.output_usd)),
            ("batch discount", batch),
            ("total", _money_text(result.cloud_usd)),
            ("source", price.source),
        ],
    )


def run_estimate(args: argparse.Namespace, *, load_catalog: CatalogLoader) -> int:
    result = cloud_cost(
        args.cloud_model,
        parse_token_count(args.input_tokens, "--input-tokens"),
        parse_token_count(args.output_tokens, "--output-tokens"),
        parse_token_count(args.cached_input_tokens, "--cached-input-tokens"),
        args.batch,
        catalog=load_catalog(),
    )
    if args.json:
        _print_json(estimate_document(result))
    else:
        _print_estimate(result)
    return EXIT_OK


# ---------------------------------------------------------------------------- local


def local_document(result: LocalCost) -> dict[str, Any]:
    """The ``cost local --json`` object: exactly these four keys."""
    return {
        "amortization_monthly_usd": _json_money(result.amortization_monthly_usd),
        "energy_monthly_usd": _json_money(result.energy_monthly_usd),
        "monthly_usd": _json_money(result.monthly_usd),
        "usd_per_million_tokens": result.usd_per_million_tokens.as_json_number(),
    }


def _local_inputs(args: argparse.Namespace) -> dict[str, Any]:
    tokens_per_day = None
    if args.tokens_per_day is not None:
        tokens_per_day = parse_token_count(args.tokens_per_day, "--tokens-per-day")
    return {
        "watts": _amount(args.watts, "--watts"),
        "hours_per_day": _amount(args.hours_per_day, "--hours-per-day"),
        "kwh_usd": _amount(args.kwh_usd, "--kwh-usd"),
        "tokens_per_day": tokens_per_day,
    }


def _plain(number: Decimal) -> str:
    """281.250000 -> '281.25', 280 -> '280' (Decimal keeps trailing zeros and exponents)."""
    return format(number.normalize(), "f")


def _energy_note(inputs: dict[str, Any]) -> str:
    kwh = inputs["watts"] / 1000 * inputs["hours_per_day"] * DAYS_PER_MONTH
    return (
        f"{_plain(inputs['watts'])} W x {_plain(inputs['hours_per_day'])} h/day x "
        f"{DAYS_PER_MONTH} days = {_plain(kwh)} kWh at {format_usd(inputs['kwh_usd'])}/kWh"
    )


def _per_million_text(result: LocalCost, inputs: dict[str, Any]) -> str:
    per_million = result.usd_per_million_tokens
    if not per_million.is_known:
        return "unknown (give --tokens-per-day)"
    volume = format_token_count(inputs["tokens_per_day"])
    return f"{format_usd(per_million)} (at {volume} tokens/day)"


def _amortization_text(result: LocalCost, hardware: Decimal, months: Decimal) -> str:
    return (
        f"{format_usd(result.amortization_monthly_usd)} / month "
        f"({format_usd(hardware)} over {_plain(months)} months)"
    )


def run_local(args: argparse.Namespace, *, defaults: _Defaults | None = None) -> int:
    filled = _fill_from_settings(args, ("hardware_usd", *LOCAL_FLAGS[:-1]), defaults)
    for dest in ("hardware_usd", *LOCAL_FLAGS[:-1]):  # argparse requires them without settings
        if getattr(args, dest) is None:
            raise PricingInputError(f"missing {_flag(dest)}")
    hardware = _amount(args.hardware_usd, "--hardware-usd")
    months = _amount(args.amortize_months, "--amortize-months")
    inputs = _local_inputs(args)
    result = local_cost(hardware, months, **inputs)
    if args.json:
        _print_json(local_document(result))
    else:
        _print_rows(
            f"Local cost per month ({DAYS_PER_MONTH}-day month)",
            [
                ("hardware amortization", _amortization_text(result, hardware, months)),
                (
                    "electricity",
                    f"{format_usd(result.energy_monthly_usd)} / month ({_energy_note(inputs)})",
                ),
                ("total", f"{format_usd(result.monthly_usd)} / month"),
                ("per 1M tokens", _per_million_text(result, inputs)),
                *_settings_row(filled),
            ],
        )
    return EXIT_OK


# ------------------------------------------------------------------------ breakeven


def breakeven_document(result: Breakeven) -> dict[str, Any]:
    """The ``cost breakeven --json`` object: exactly these five keys.

    ``breakeven_months`` is a number, "never" when local costs at least as much to run, or
    null when the cloud price is unknown.
    """
    if result.breakeven_months is not None:
        months: float | str | None = float(round(result.breakeven_months, 2))
    elif result.local_is_cheaper is False:
        months = NEVER
    else:
        months = None
    return {
        "cloud_monthly_usd": result.cloud_monthly_usd.as_json_number(),
        "local_monthly_usd": _json_money(result.local_monthly_usd),
        "savings_monthly_usd": result.savings_monthly_usd.as_json_number(),
        "breakeven_months": months,
        "verdict": result.verdict,
    }


LOCAL_FLAGS = ("amortize_months", "watts", "hours_per_day", "kwh_usd", "tokens_per_day")
REQUIRED_LOCAL_FLAGS = ("watts", "hours_per_day", "kwh_usd")


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _breakeven_local_rows(
    args: argparse.Namespace, result: Breakeven, hardware: Decimal
) -> list[tuple[str, str]]:
    """Rows describing the local side when it was computed from the `cost local` flags."""
    inputs = _local_inputs(args)
    rows = [("electricity", _energy_note(inputs))]
    if args.amortize_months is None:
        return rows
    months = _amount(args.amortize_months, "--amortize-months")
    full = local_cost(hardware, months, **inputs)
    rows.append(("hardware amortization", _amortization_text(full, hardware, months)))
    if full.usd_per_million_tokens.is_known:
        rows.append(("local per 1M tokens", _per_million_text(full, inputs)))
    if result.breakeven_months is not None and result.breakeven_months > months:
        rows.append(
            (
                "note",
                f"pays back after {result.breakeven_months:.1f} months, longer than the "
                f"{_plain(months)}-month amortization period",
            )
        )
    return rows


def run_breakeven(args: argparse.Namespace, *, load_catalog: CatalogLoader,
                  defaults: _Defaults | None = None) -> int:
    given_local_flags = [d for d in LOCAL_FLAGS if getattr(args, d) is not None]
    if args.local_monthly_usd is not None and given_local_flags:
        raise PricingInputError(
            f"give either --local-monthly-usd or the `cost local` flags, not both "
            f"(got --local-monthly-usd and {_flag(given_local_flags[0])})"
        )
    # The running cost from the settings only when no figure for it is given.
    local = LOCAL_FLAGS[:-1] if args.local_monthly_usd is None else ()
    filled = _fill_from_settings(args, ("hardware_usd", *local), defaults)
    if args.hardware_usd is None:
        raise PricingInputError("missing --hardware-usd")
    hardware = _amount(args.hardware_usd, "--hardware-usd")
    if args.local_monthly_usd is not None:
        running = _amount(args.local_monthly_usd, "--local-monthly-usd")
    else:
        missing = [d for d in REQUIRED_LOCAL_FLAGS if getattr(args, d) is None]
        if len(missing) == len(REQUIRED_LOCAL_FLAGS):
            raise PricingInputError(
                "give --local-monthly-usd, or --watts, --hours-per-day and --kwh-usd"
            )
        if missing:
            raise PricingInputError(
                f"missing {_flag(missing[0])} (needed with --watts/--hours-per-day/--kwh-usd)"
            )
        inputs = _local_inputs(args)
        running = energy_monthly_usd(inputs["watts"], inputs["hours_per_day"], inputs["kwh_usd"])
    result = breakeven(
        args.cloud_model,
        parse_token_count(args.input_tokens_per_month, "--input-tokens-per-month"),
        parse_token_count(args.output_tokens_per_month, "--output-tokens-per-month"),
        hardware,
        running,
        catalog=load_catalog(),
    )
    if args.json:
        _print_json(breakeven_document(result))
        return EXIT_OK
    usage = result.cloud.usage
    if result.breakeven_months is not None:
        months_text = f"{result.breakeven_months:.1f} months"
    elif result.local_is_cheaper is False:
        months_text = "never (local is not cheaper to run)"
    else:
        months_text = "unknown (cloud price unknown)"
    rows = [
        ("cloud bill", f"{_money_text(result.cloud_monthly_usd)} / month"),
        (
            "local running cost",
            f"{format_usd(result.local_monthly_usd)} / month (hardware excluded: it is what "
            "pays back)",
        ),
        ("saving", f"{_money_text(result.savings_monthly_usd)} / month"),
        ("hardware", format_usd(result.hardware_usd)),
    ]
    if args.local_monthly_usd is None:
        rows += _breakeven_local_rows(args, result, hardware)
    rows += [
        ("break-even", months_text),
        ("verdict", f"{result.verdict}: {result.verdict_reason}"),
        *_settings_row(filled),
    ]
    _print_rows(
        f"Break-even: {result.cloud.model_id}, {format_token_count(usage.input_tokens)} input + "
        f"{format_token_count(usage.output_tokens)} output tokens/month",
        rows,
    )
    return EXIT_OK


# ------------------------------------------------------------------------- wiring


def _add_local_flags(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """The `cost local` flags; `cost breakeven` reuses them as the alternative to a figure."""
    parser.add_argument(
        "--amortize-months",
        required=required,
        metavar="M",
        help="months to spread the hardware price over (e.g. 36)",
    )
    parser.add_argument("--watts", required=required, metavar="W", help="average draw while on")
    parser.add_argument(
        "--hours-per-day", required=required, metavar="H", help="hours a day it draws that power"
    )
    parser.add_argument("--kwh-usd", required=required, metavar="R", help="electricity $/kWh")
    parser.add_argument(
        "--tokens-per-day", metavar="N", help="tokens it generates a day (K/M/B suffixes)"
    )


def add_cost_commands(
    subparsers: argparse._SubParsersAction,
    *,
    load_catalog: CatalogLoader | None = None,
    add_more: Callable[[argparse._SubParsersAction], None] | None = None,
    settings_defaults: SettingsDefaults | None = None,
    settings_where: str = "your settings",
) -> argparse.ArgumentParser:
    """Add `cost estimate|local|breakeven` to an argparse sub-command set; returns `cost`.

    ``load_catalog`` supplies the price catalog (the app passes one with the user's overrides
    and LiteLLM import laid over the shipped catalog); by default the shipped one.
    ``add_more`` receives the `cost` sub-command set, for commands that need more than this
    package (the app's `cost report` reads the usage ledger). ``settings_defaults`` gives
    `cost local` and `cost breakeven` the user's own figures for the flags left out (a
    flag wins); ``settings_where`` says where to set one that is missing.
    """
    loader = load_catalog or load_default_catalog
    defaults = _Defaults(settings_defaults, settings_where) if settings_defaults else None
    flags_required = defaults is None
    cost = subparsers.add_parser(
        "cost", help="price answers: cloud estimate, local cost, break-even"
    )
    commands = cost.add_subparsers(dest="cost_command", metavar="COMMAND", required=True)

    estimate = commands.add_parser("estimate", help="what a cloud model charges for N tokens")
    estimate.add_argument("--cloud-model", required=True, metavar="ID", help="e.g. gpt-4o")
    estimate.add_argument("--input-tokens", required=True, metavar="N", help="e.g. 5600 or 2.5M")
    estimate.add_argument("--output-tokens", required=True, metavar="N")
    estimate.add_argument(
        "--cached-input-tokens", default="0", metavar="N", help="part of the input that is cached"
    )
    estimate.add_argument("--batch", action="store_true", help="apply the batch-API discount")
    estimate.add_argument("--json", action="store_true", help="print one JSON object")
    estimate.set_defaults(func=partial(_guarded, partial(run_estimate, load_catalog=loader)))

    local = commands.add_parser("local", help="monthly cost of owned hardware and $/1M tokens")
    local.add_argument("--hardware-usd", required=flags_required, metavar="X")
    _add_local_flags(local, required=flags_required)
    local.add_argument("--json", action="store_true", help="print one JSON object")
    local.set_defaults(func=partial(_guarded, partial(run_local, defaults=defaults)))

    payback = commands.add_parser(
        "breakeven", help="when local hardware pays for itself against a cloud model"
    )
    payback.add_argument("--cloud-model", required=True, metavar="ID")
    payback.add_argument("--input-tokens-per-month", required=True, metavar="N")
    payback.add_argument("--output-tokens-per-month", required=True, metavar="N")
    payback.add_argument("--hardware-usd", required=flags_required, metavar="X")
    payback.add_argument(
        "--local-monthly-usd",
        metavar="Y",
        help="local running cost a month, hardware excluded (or give the `cost local` flags)",
    )
    _add_local_flags(payback, required=False)
    payback.add_argument("--json", action="store_true", help="print one JSON object")
    payback.set_defaults(func=partial(_guarded, partial(run_breakeven, load_catalog=loader,
                                                        defaults=defaults)))
    if add_more is not None:
        add_more(commands)
    return cost


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m routing.pricing.cli cost ...`, for use before the app CLI wires it in."""
    parser = argparse.ArgumentParser(prog="stillroom")
    add_cost_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
