"""`stillroom cost report`: savings to date, $/1M tokens, projection, break-even, verdict."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import TYPE_CHECKING

from app.cli.errors import print_error, run_guarded

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from app.reports.by_user import UserCosts
    from app.reports.cost_report import CostReport


def add_report_command(cost_commands: argparse._SubParsersAction) -> None:
    """Plugged into routing.pricing.cli.add_cost_commands beside estimate/local/breakeven."""
    report = cost_commands.add_parser(
        "report", help="what your answers cost and saved, from the usage ledger",
        description="Totals from the usage ledger (every figure with its source), the "
                    "projected monthly volume, the hardware's break-even date and the "
                    "decision-table verdict. Unknown prices and tariffs print 'unknown'.")
    report.add_argument("--json", action="store_true", help="print one JSON object")
    report.add_argument("--html", metavar="FILE",
                        help="also write a self-contained HTML report to FILE")
    report.add_argument("--since", type=_date, metavar="DATE",
                        help="only answers from this local date on (YYYY-MM-DD)")
    report.add_argument("--by-user", action="store_true",
                        help="also each office-server user's answers, tokens and costs")
    report.set_defaults(func=lambda args: run_guarded(run_cost_report, args))


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date written YYYY-MM-DD") from None


def run_cost_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.config import data_dir, database_url, ensure_writable, load_settings
    from app.metering.price_catalog import load_price_catalog
    from app.reports.cost_report import report_from_store
    from app.reports.cost_report_html import render_html
    from app.store.db import open_engine

    directory = ensure_writable(data_dir())
    settings, warnings = load_settings(directory / "settings.json")
    for warning in warnings:
        print_error(f"warning: {warning}")
    engine = open_engine(database_url(directory))
    try:
        report = report_from_store(engine, settings, lambda: load_price_catalog(directory),
                                   since=args.since)
        by_user = _by_user(engine, args.since) if args.by_user else None
    finally:
        engine.dispose()
    if args.html:
        try:
            Path(args.html).write_text(render_html(report), encoding="utf-8")
        except OSError as exc:
            print_error(f"cannot write the HTML report to {args.html}: "
                        f"{exc.strerror or exc}")
            return 2
    if args.json:
        body = report.to_dict()
        if by_user is not None:
            body["by_user"] = [row.to_dict() for row in by_user]
        print(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        print(render_text(report))
        if by_user is not None:
            from app.reports.by_user import render_by_user

            print(render_by_user(by_user))
    if args.html:
        print(f"HTML report written to {args.html}", file=sys.stderr)
    return 0


def _by_user(engine: Engine, since: date | None) -> list[UserCosts]:
    from app.reports.by_user import costs_by_user
    from app.reports.cost_report import local_timezone, start_of_day
    from app.store.ledger import read_ledger

    start = start_of_day(since, local_timezone()) if since else None
    return costs_by_user(read_ledger(engine, since=start))


def render_text(report: CostReport) -> str:
    """Label, value, and the source on the line under it."""
    period = f"since {report.since}" if report.since else "all answers"
    lines = [f"Stillroom cost report ({period}; reference cloud model "
             f"{report.reference_cloud_model or 'not set'})"]
    width = max(len(figure.label) for figure in report.figures)
    for figure in report.figures:
        lines.append(f"  {figure.label.ljust(width)}  {figure.text}")
        lines.append(f"  {' ' * width}  from: {figure.source}")
    return "\n".join(lines)
