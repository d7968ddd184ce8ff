"""The cost report: its totals are the ledger's sums, exactly; unknown stays unknown."""

import json
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.config import Settings, save_settings
from app.reports.cost_report import build_cost_report, report_from_store
from app.reports.cost_report_html import render_html
from app.store.db import open_engine
from app.store.ledger import nanos_to_usd, read_ledger, usd_to_nanos
from app.store.schema import Usage
from routing.pricing import breakeven, load_default_catalog
from tests.conftest import run_cli

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
KNOWN_NOTES = json.dumps({"electricity": "energy x $0.15/kWh", "hardware": "settings",
                          "cloud_equivalent": "gpt-4o-mini list price as of 2026-02-01"})


def _row(days_ago: float, prompt: int, completion: int, *, joules: float | None,
         energy: str | None, hardware: str | None, cloud: str | None,
         notes: str = KNOWN_NOTES, seconds: float = 2.0) -> Usage:
    return Usage(
        conversation_id="c", created_at=NOW - timedelta(days=days_ago), model_id="m",
        route_target="local", route_rule="local-only", finish_reason="stop",
        prompt_tokens=prompt, completion_tokens=completion, total_s=seconds,
        energy_joules=joules, energy_kind="estimated" if joules is not None else "not measured",
        energy_source="estimated: estimate:cpu-tdp" if joules is not None
        else "not measured: no power sensor is live",
        local_energy_usd_nanos=usd_to_nanos(Decimal(energy)) if energy else None,
        local_hardware_usd_nanos=usd_to_nanos(Decimal(hardware)) if hardware else None,
        cloud_equivalent_usd_nanos=usd_to_nanos(Decimal(cloud)) if cloud else None,
        cloud_equivalent_model="gpt-4o-mini", price_as_of=date(2026, 2, 1), cost_notes=notes)


# Known amounts chosen to add up exactly in decimal and not in binary floating point.
KNOWN_ROWS = [
    dict(days_ago=9.5, prompt=120, completion=300, joules=41.3, energy="0.000001721",
         hardware="0.000128601", cloud="0.000198"),
    dict(days_ago=3.2, prompt=2000, completion=750, joules=0.1, energy="0.000000004",
         hardware="0.1", cloud="0.00075"),
    dict(days_ago=0.5, prompt=33, completion=7, joules=0.2, energy="0.000000008",
         hardware="0.2", cloud="0.000009"),
]


def _ledger(home: Path, rows: list[dict]):
    home.mkdir(parents=True, exist_ok=True)
    engine = open_engine(f"sqlite:///{home / 'stillroom.db'}")
    with Session(engine) as session, session.begin():
        session.add_all(_row(**row) for row in rows)
    return engine


def _sql_sum(engine, column: str):
    with engine.connect() as connection:
        return connection.execute(text(f"SELECT SUM({column}) FROM usage")).scalar()


def test_report_totals_equal_the_ledger_sums_exactly(stillroom_home: Path) -> None:
    engine = _ledger(stillroom_home, KNOWN_ROWS)
    report = build_cost_report(read_ledger(engine), Settings(kwh_usd=0.15, hardware_usd=2000),
                               load_default_catalog(), now=NOW, zone=UTC)
    electricity = nanos_to_usd(_sql_sum(engine, "local_energy_usd_nanos"))
    hardware = nanos_to_usd(_sql_sum(engine, "local_hardware_usd_nanos"))
    cloud = nanos_to_usd(_sql_sum(engine, "cloud_equivalent_usd_nanos"))
    assert report["electricity"].value == electricity == Decimal("0.000001733")
    assert report["hardware_share"].value == hardware == Decimal("0.300128601")
    assert report["cloud_equivalent"].value == cloud == Decimal("0.000957")
    assert report["local_cost"].value == electricity + hardware
    assert report["savings"].value == cloud - electricity - hardware
    tokens = _sql_sum(engine, "prompt_tokens") + _sql_sum(engine, "completion_tokens")
    assert report["tokens"].value == tokens == 3210
    with engine.connect() as connection:
        joules = [j for (j,) in connection.execute(text("SELECT energy_joules FROM usage"))]
    assert report["energy"].value == math.fsum(joules)
    assert report["local_usd_per_mtok"].value == (electricity + hardware) * 1_000_000 / tokens
    assert report["cloud_usd_per_mtok"].value == cloud * 1_000_000 / tokens
    assert report["answers"].value == 3
    # The day series adds up to the same totals.
    assert sum(day.tokens for day in report.daily) == tokens
    assert sum(day.cloud_equivalent_usd.known for day in report.daily) == cloud
    assert [day.day for day in report.daily] == [date(2026, 11, 11), date(2026, 11, 17),
                                                 date(2026, 11, 20)]
    # JSON keeps the exact decimal, as a string.
    assert report.to_dict()["figures"]["electricity"]["value"] == "0.000001733"


def test_unknown_amounts_stay_unknown_with_the_known_part_beside_them(
        stillroom_home: Path) -> None:
    unpriced = json.dumps({"electricity": "unknown: energy not measured; electricity price "
                                          "per kWh not set",
                           "hardware": "unknown: hardware price not set",
                           "cloud_equivalent": "unknown: output price of gpt-4o-mini is unknown"})
    engine = _ledger(stillroom_home, [
        *KNOWN_ROWS[:1],
        dict(days_ago=1, prompt=10, completion=10, joules=None, energy=None, hardware=None,
             cloud=None, notes=unpriced)])
    report = build_cost_report(read_ledger(engine), Settings(), load_default_catalog(), now=NOW,
                               zone=UTC)
    for key in ("electricity", "hardware_share", "local_cost", "cloud_equivalent", "savings",
                "local_usd_per_mtok", "cloud_usd_per_mtok", "energy", "monthly_electricity",
                "breakeven"):
        figure = report[key]
        assert figure.value is None and figure.text.startswith("unknown"), key
        assert report.to_dict()["figures"][key]["value"] is None
    assert report["electricity"].known_part == Decimal("0.000001721")
    assert report["electricity"].text == (
        "unknown (energy not measured; electricity price per kWh not set, for 1 of 2 answers; "
        "$0.000001721 known for the other 1)")
    assert report["savings"].text.startswith(
        "unknown (cloud equivalent: output price of gpt-4o-mini is unknown x1 / electricity: "
        "energy not measured; electricity price per kWh not set x1 / hardware: hardware "
        "price not set x1, for 1 of 2 answers; ")
    assert report["energy"].text.startswith("unknown (not measured for 1 of 2 answers; 41.3 J")
    assert report["verdict"].value == "unknown"
    # Tokens are always known.
    assert report["tokens"].value == 440


def test_since_limits_the_totals_but_not_the_projection(stillroom_home: Path) -> None:
    engine = _ledger(stillroom_home, KNOWN_ROWS)
    entries = read_ledger(engine)
    everything = build_cost_report(entries, Settings(), None, now=NOW, zone=UTC)
    recent = build_cost_report(entries, Settings(), None, since=date(2026, 11, 17), now=NOW,
                               zone=UTC)
    assert recent["tokens"].value == 2750 + 40 and recent["answers"].value == 2
    assert recent["cloud_equivalent"].value == Decimal("0.000759")
    assert recent["monthly_tokens"].value == everything["monthly_tokens"].value


HEAVY_ROWS = [dict(days_ago=days_ago, prompt=2_000_000, completion=1_000_000, joules=1.0e6,
                   energy="0.05", hardware="0.5", cloud="15") for days_ago in (10, 5, 1)]


def test_projection_break_even_and_verdict_follow_routing_pricing(stillroom_home: Path) -> None:
    engine = _ledger(stillroom_home, HEAVY_ROWS)
    settings = Settings(kwh_usd=0.15, hardware_usd=2000, reference_cloud_model="gpt-4o")
    report = build_cost_report(read_ledger(engine), settings, load_default_catalog(), now=NOW,
                               zone=UTC)
    # 10 days of answers, scaled to a 30-day month.
    assert report["monthly_tokens"].value == 27_000_000
    assert report["monthly_electricity"].value == Decimal("0.45")
    expected = breakeven("gpt-4o", 18_000_000, 9_000_000, 2000, Decimal("0.45"),
                         catalog=load_default_catalog())
    assert report["monthly_cloud_equivalent"].value == expected.cloud_monthly_usd.usd == 135
    assert report["verdict"].value == expected.verdict == "hybrid"
    assert report["verdict"].text.startswith("hybrid: 10-50M tokens/month")
    when = NOW - timedelta(days=10) + timedelta(days=float(expected.breakeven_months * 30))
    assert report["breakeven"].value == when.date().isoformat() == "2028-01-30"
    assert "14.9 months from the first answer on 2026-11-10" in report["breakeven"].text


def test_a_payback_beyond_a_hundred_years_is_never(stillroom_home: Path) -> None:
    engine = _ledger(stillroom_home, KNOWN_ROWS)
    report = build_cost_report(read_ledger(engine), Settings(kwh_usd=0.15, hardware_usd=2000),
                               load_default_catalog(), now=NOW, zone=UTC)
    assert report["breakeven"].value == "never"
    assert report["breakeven"].text.startswith("not within 100 years (")
    assert report["verdict"].text == "stay on cloud: under 10M tokens/month: cloud API"


def test_an_empty_ledger_reports_no_answers_rather_than_failing(stillroom_home: Path) -> None:
    engine = _ledger(stillroom_home, [])
    report = report_from_store(engine, Settings(), load_default_catalog)
    assert report["answers"].value == 0
    assert report["electricity"].text == "$0.00 (no local answers)"
    assert report["monthly_tokens"].value is None and report.daily == ()
    assert "<svg" not in render_html(report) and "No local answers" in render_html(report)


def test_a_broken_price_overrides_file_leaves_todays_prices_unknown(
        stillroom_home: Path) -> None:
    engine = _ledger(stillroom_home, KNOWN_ROWS)

    def broken():
        from routing.pricing import CatalogError
        raise CatalogError("price overrides file 'x': not valid JSON")

    report = report_from_store(engine, Settings(kwh_usd=0.15), broken)
    assert report["breakeven"].unknown_reason == "price overrides file 'x': not valid JSON"
    assert report["cloud_equivalent"].value == Decimal("0.000957")  # the ledger's, unchanged


def test_cli_text_json_and_html(stillroom_home: Path, tmp_path: Path) -> None:
    _ledger(stillroom_home, KNOWN_ROWS).dispose()
    save_settings(stillroom_home / "settings.json", Settings(kwh_usd=0.15))
    html = tmp_path / "report.html"
    result = run_cli("cost", "report", "--html", str(html), home=stillroom_home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Stillroom cost report (all answers; reference cloud "
                                    "model gpt-4o-mini)")
    assert "  savings to date" in result.stdout and "from: cloud equivalent - local cost" in (
        result.stdout)
    assert "hardware break-even     unknown (hardware price not set: hardware_usd)" in (
        result.stdout)
    assert "spent on cloud answers  $0.00 (no cloud answers)" in result.stdout
    assert f"HTML report written to {html}" in result.stderr
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page and "<svg" in page
    assert "<script" not in page and "src=" not in page and "<link" not in page
    assert "$0.000957" in page and "3,210 (2,153 prompt + 1,057 generated)" in page
    assert "unknown (hardware price not set: hardware_usd)" in page

    document = json.loads(run_cli("cost", "report", "--json", "--since", "2026-11-17",
                                  home=stillroom_home).stdout)
    assert document["since"] == "2026-11-17"
    assert document["figures"]["cloud_equivalent"]["value"] == "0.000759"
    assert document["figures"]["hardware_share"]["value"] == "0.3"
    assert document["figures"]["breakeven"]["value"] is None  # hardware_usd is not set

    bad = run_cli("cost", "report", "--since", "17/11/2026", home=stillroom_home)
    assert bad.returncode == 2 and "not a date written YYYY-MM-DD" in bad.stderr


@pytest.mark.slow
def test_chats_through_the_cli_show_up_in_the_report(stillroom_home: Path) -> None:
    answers = [json.loads(run_cli("chat", "--json", "-t", "0", "--max-tokens", "8", prompt,
                                  home=stillroom_home).stdout)
               for prompt in ("Say hi.", "Say bye.")]
    document = json.loads(run_cli("cost", "report", "--json", home=stillroom_home).stdout)
    figures = document["figures"]
    assert figures["answers"]["value"] == 2
    assert figures["tokens"]["value"] == sum(
        a["usage"]["prompt_tokens"] + a["usage"]["completion_tokens"] for a in answers)
    assert figures["electricity"]["value"] is None  # no tariff set: unknown, not $0
    assert all(a["cost"]["local_energy_usd"] is None for a in answers)
    # Each answer's cloud equivalent, as chat --json printed it, adds up to the report's.
    assert Decimal(figures["cloud_equivalent"]["value"]) == sum(
        Decimal(a["cost"]["cloud_equivalent_usd"]) for a in answers) > 0
    unmeasured = sum(a["energy"]["joules"] is None for a in answers)
    assert (figures["energy"]["value"] is None) == (unmeasured > 0)
