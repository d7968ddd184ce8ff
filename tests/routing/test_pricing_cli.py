"""`stillroom cost ...` handlers end to end: argv in, stdout/stderr and exit code out."""

import argparse
import json
import subprocess
import sys
from datetime import date

import pytest

from routing.pricing import PriceCatalog, load_default_catalog
from routing.pricing.catalog import ModelPrice
from routing.pricing.cli import add_cost_commands, main
from routing.pricing.money import Price

ESTIMATE = ["cost", "estimate", "--cloud-model"]
LOCAL_FLAGS = ["--amortize-months", "36", "--watts", "350", "--hours-per-day", "24"]


def run(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys, argv):
    code, out, err = run(capsys, [*argv, "--json"])
    assert code == 0, err
    return json.loads(out)


def test_estimate_json_shape_and_values(capsys):
    # Seed 002's interaction: 5,600 input + 500 output tokens on Claude 3.5 Sonnet.
    document = run_json(
        capsys, [*ESTIMATE, "claude-3-5-sonnet", "--input-tokens", "5600", "--output-tokens", "500"]
    )
    assert set(document) == {
        "cloud_usd",
        "unknown_reason",
        "model",
        "provider",
        "input_tokens",
        "cached_input_tokens",
        "output_tokens",
        "batch",
        "uncached_input_usd",
        "cached_input_usd",
        "output_usd",
        "batch_discount",
        "price_as_of",
        "price_source",
    }
    assert document["cloud_usd"] == pytest.approx(0.0243)
    assert document["uncached_input_usd"] == pytest.approx(0.0168)
    assert document["output_usd"] == pytest.approx(0.0075)
    assert document["unknown_reason"] is None
    assert document["price_as_of"] == "2026-02-01"


def test_estimate_accepts_suffixes_cache_and_batch(capsys):
    document = run_json(
        capsys,
        [
            *ESTIMATE,
            "claude-haiku-4-5",
            "--input-tokens",
            "2M",
            "--cached-input-tokens",
            "1.5M",
            "--output-tokens",
            "500k",
            "--batch",
        ],
    )
    # (0.5M x $1.00 + 1.5M x $0.10 + 0.5M x $5.00) x 0.5
    assert document["cloud_usd"] == pytest.approx(1.575)
    assert document["batch"] is True
    assert document["batch_discount"] == 0.5


def test_estimate_readable_table(capsys):
    code, out, _ = run(
        capsys, [*ESTIMATE, "gpt-4o", "--input-tokens", "1M", "--output-tokens", "100k"]
    )
    assert code == 0
    assert "gpt-4o (openai), list prices as of 2026-03-01" in out
    assert "1,000,000 tokens x $2.50/1M = $2.50" in out
    assert "total" in out and "$3.50" in out


def test_estimate_with_an_unknown_price_prints_unknown_not_zero(capsys):
    argv = [
        *ESTIMATE,
        "gemini-2.5-flash",
        "--input-tokens",
        "10k",
        "--cached-input-tokens",
        "5k",
        "--output-tokens",
        "1k",
    ]
    code, out, _ = run(capsys, argv)
    assert code == 0
    total_line = next(line for line in out.splitlines() if line.strip().startswith("total"))
    assert "unknown (cached-input price of gemini-2.5-flash is unknown)" in total_line
    assert "$0" not in total_line
    document = run_json(capsys, argv)
    assert document["cloud_usd"] is None
    assert document["cached_input_usd"] is None
    assert document["unknown_reason"] == "cached-input price of gemini-2.5-flash is unknown"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            [*ESTIMATE, "gpt-4x", "--input-tokens", "5", "--output-tokens", "5"],
            "stillroom: unknown cloud model 'gpt-4x'; did you mean gpt-4o",
        ),
        (
            [*ESTIMATE, "gpt-4o", "--input-tokens", "5X", "--output-tokens", "5"],
            "stillroom: --input-tokens: unknown suffix 'X' in '5X'; use K, M or B",
        ),
        (
            [*ESTIMATE, "gpt-4o", "--input-tokens", "-5", "--output-tokens", "5"],
            "stillroom: --input-tokens must not be negative, got '-5'",
        ),
        (
            [
                *ESTIMATE,
                "gpt-4o",
                "--input-tokens",
                "5",
                "--output-tokens",
                "5",
                "--cached-input-tokens",
                "6",
            ],
            "stillroom: cached input tokens (6) cannot exceed input tokens (5)",
        ),
        (
            ["cost", "local", "--hardware-usd", "-1", *LOCAL_FLAGS, "--kwh-usd", "0.12"],
            "stillroom: --hardware-usd must not be negative, got -1",
        ),
        (
            ["cost", "local", "--hardware-usd", "1", *LOCAL_FLAGS, "--kwh-usd", "cheap"],
            "stillroom: --kwh-usd must be a number, got 'cheap'",
        ),
        (
            [
                "cost",
                "breakeven",
                "--cloud-model",
                "gpt-4o",
                "--input-tokens-per-month",
                "1M",
                "--output-tokens-per-month",
                "1M",
                "--hardware-usd",
                "100",
            ],
            "stillroom: give --local-monthly-usd, or --watts, --hours-per-day and --kwh-usd",
        ),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, argv)
    assert code == 2
    assert out == ""
    assert err.startswith(message)
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_local_json_has_exactly_the_four_keys(capsys):
    # Seed 003's RTX 4090 + 8B row: $1,800 over 36 months, $45 electricity, 330M tokens/day.
    document = run_json(
        capsys,
        [
            "cost",
            "local",
            "--hardware-usd",
            "$1,800",
            "--amortize-months",
            "36",
            "--watts",
            "390.625",
            "--hours-per-day",
            "24",
            "--kwh-usd",
            "0.16",
            "--tokens-per-day",
            "330M",
        ],
    )
    assert document == {
        "amortization_monthly_usd": 50.0,
        "energy_monthly_usd": 45.0,
        "monthly_usd": 95.0,
        "usd_per_million_tokens": pytest.approx(95 / 9900),
    }


def test_local_without_tokens_per_day_has_null_cost_per_token(capsys):
    document = run_json(
        capsys, ["cost", "local", "--hardware-usd", "400", *LOCAL_FLAGS, "--kwh-usd", "0.12"]
    )
    assert document["usd_per_million_tokens"] is None
    assert document["energy_monthly_usd"] == pytest.approx(30.24)  # seed 001: "$30/month"
    _code, out, _ = run(
        capsys, ["cost", "local", "--hardware-usd", "400", *LOCAL_FLAGS, "--kwh-usd", "0.12"]
    )
    assert "per 1M tokens" in out and "unknown (give --tokens-per-day)" in out


BREAKEVEN = [
    "cost",
    "breakeven",
    "--cloud-model",
    "claude-sonnet-4-5",
    "--input-tokens-per-month",
    "10M",
    "--output-tokens-per-month",
    "5M",
    "--hardware-usd",
    "2000",
]


def test_breakeven_json_has_exactly_the_five_keys(capsys):
    # Seed 001 scenario 2, second row: $105 vs $10/month -> about 21 months.
    document = run_json(capsys, [*BREAKEVEN, "--local-monthly-usd", "10"])
    assert document == {
        "cloud_monthly_usd": 105.0,
        "local_monthly_usd": 10.0,
        "savings_monthly_usd": 95.0,
        "breakeven_months": 21.05,
        "verdict": "hybrid",
    }


def test_breakeven_from_the_cost_local_flags_uses_electricity_as_running_cost(capsys):
    # Seed 001: RTX 4090 at 350 W, 30% utilization (7.2 h/day), $0.12/kWh = $9.07 a month.
    argv = [*BREAKEVEN, "--watts", "350", "--hours-per-day", "7.2", "--kwh-usd", "0.12"]
    document = run_json(capsys, [*argv, "--amortize-months", "36"])
    assert document["local_monthly_usd"] == pytest.approx(9.072)
    assert document["breakeven_months"] == pytest.approx(2000 / (105 - 9.072), abs=0.01)
    code, out, _ = run(capsys, [*argv, "--amortize-months", "12", "--tokens-per-day", "500k"])
    assert code == 0
    assert "350 W x 7.2 h/day x 30 days = 75.6 kWh at $0.12/kWh" in out
    assert "longer than the 12-month amortization period" in out


def test_breakeven_never_when_local_costs_more(capsys):
    # Seed 001 scenario 1, first row: GPT-5 nano at $0.13/month vs $5 electricity -> Never.
    document = run_json(
        capsys,
        [
            "cost",
            "breakeven",
            "--cloud-model",
            "gpt-5-nano",
            "--input-tokens-per-month",
            "1M",
            "--output-tokens-per-month",
            "200k",
            "--hardware-usd",
            "400",
            "--local-monthly-usd",
            "5",
        ],
    )
    assert document["breakeven_months"] == "never"
    assert document["verdict"] == "stay on cloud"
    assert document["savings_monthly_usd"] == pytest.approx(-4.87)


def test_breakeven_against_unknown_price_is_null_and_unknown(capsys):
    entries = load_default_catalog().entries()
    entries["mystery"] = ModelPrice(
        model_id="mystery",
        provider="acme",
        input=Price.unknown(),
        output=Price.unknown(),
        cached_input=Price.unknown(),
        batch_discount=None,
        as_of=date(2026, 11, 1),
        source="test",
    )
    parser = argparse.ArgumentParser(prog="stillroom")
    add_cost_commands(
        parser.add_subparsers(dest="command"), load_catalog=lambda: PriceCatalog(entries)
    )
    argv = [*BREAKEVEN, "--local-monthly-usd", "10", "--json"]
    argv[3] = "mystery"
    args = parser.parse_args(argv)
    assert args.func(args) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["cloud_monthly_usd"] is None
    assert document["savings_monthly_usd"] is None
    assert document["breakeven_months"] is None
    assert document["verdict"] == "unknown"


def test_breakeven_refuses_both_a_figure_and_the_local_flags(capsys):
    code, _, err = run(capsys, [*BREAKEVEN, "--local-monthly-usd", "10", "--watts", "350"])
    assert code == 2
    assert "not both (got --local-monthly-usd and --watts)" in err


def test_breakeven_names_the_missing_local_flag(capsys):
    code, _, err = run(capsys, [*BREAKEVEN, "--watts", "350", "--hours-per-day", "8"])
    assert code == 2
    assert err.startswith("stillroom: missing --kwh-usd")


def test_add_cost_commands_plugs_into_a_parent_cli(capsys):
    parser = argparse.ArgumentParser(prog="stillroom")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor")
    cost = add_cost_commands(commands)
    assert cost.prog == "stillroom cost"
    args = parser.parse_args(
        [
            "cost",
            "estimate",
            "--cloud-model",
            "o3",
            "--input-tokens",
            "1M",
            "--output-tokens",
            "1M",
            "--json",
        ]
    )
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)["cloud_usd"] == 10.0


def test_module_entry_point_runs_without_a_traceback():
    # A real process: proves the module runs as `python -m` and that bad input exits 2 cleanly.
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "routing.pricing.cli",
            *ESTIMATE,
            "nope",
            "--input-tokens",
            "1",
            "--output-tokens",
            "1",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.startswith("stillroom: unknown cloud model 'nope'")
    assert "Traceback" not in completed.stderr


def test_pricing_never_imports_qt_or_the_app():
    code = (
        "import sys, routing.pricing, routing.pricing.cli; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('app', 'PySide6')); "
        "print(bad)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == "[]"
