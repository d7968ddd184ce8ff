"""`stillroom route evaluate SET.jsonl`: the issue-16 set format, the figures, bad lines, and the
second-opinion hook the judge model plugs into."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from routing.sensitivity.context import DEFAULT_THRESHOLD
from routing.sensitivity.evaluation import SetError, evaluate, read_cases, render
from tests.conftest import REPO_ROOT

CASES = [
    {"text": "Please wire the retainer to DE89 3704 0044 0532 0130 00 today.",
     "sensitive": True, "category": "bank_account", "hard": True, "lang": "en"},
    {"text": "Card for the booking: 4539 1488 0343 6467, exp 09/28.",
     "sensitive": True, "category": "payment_card", "hard": True, "lang": "en"},
    # A hard case the gate cannot see: it must be listed as a hard miss.
    {"text": "The vault combination is left, right, left: nineteen, four, thirty-one.",
     "sensitive": True, "category": "secret", "hard": True, "lang": "en", "style": "note"},
    {"text": "Unser Mandant hat uns im Vertrauen gesagt, dass er die Zahlungen verschwiegen "
             "hat. Wie beraten wir ihn?", "sensitive": True, "category": "client_confidence",
     "hard": False, "lang": "de"},
    {"text": "Can you make this birthday message warmer?", "sensitive": False,
     "category": None, "hard": False, "lang": "en"},
    {"text": "Write a short story where a lawyer's client confesses in confidence that he hid "
             "the money.", "sensitive": False, "category": None, "hard": False, "lang": "en"},
    # A decoy the gate flags: counted as a false positive (a valid card in a lesson).
    {"text": "Explain the Luhn check using 4539 1488 0343 6467 as the example.",
     "sensitive": False, "category": None, "hard": False, "lang": "en"},
]


def write_set(path: Path, cases=CASES, extra: str = "") -> Path:
    path.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n" + extra,
                    encoding="utf-8")
    return path


def stillroom(home: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "STILLROOM_HOME": str(home), "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-m", "app.cli.main", *argv], capture_output=True,
                          text=True, env=env, cwd=REPO_ROOT, check=False)


def test_figures_on_a_small_set(tmp_path):
    result = evaluate(read_cases(write_set(tmp_path / "set.jsonl")))
    assert (result["sensitive"], result["ordinary"], result["caught"]) == (4, 3, 3)
    assert result["recall"] == pytest.approx(0.75)
    assert result["false_positive_rate"] == pytest.approx(1 / 3)
    assert result["hard"] == {"labelled": 3, "caught": 2, "recall": pytest.approx(2 / 3),
                              "missed": 1}
    assert [m["line"] for m in result["hard_misses"]] == [3]
    assert result["per_category"]["secret"]["recall"] == 0.0
    assert result["per_category"]["client_confidence"]["recall"] == 1.0
    assert result["per_language"]["de"]["recall"] == 1.0
    assert result["per_language"]["en"]["false_positive_rate"] == pytest.approx(1 / 3)
    timing = result["time_per_prompt_ms"]
    assert 0 < timing["median"] <= timing["p95"]
    assert [fp["line"] for fp in result["false_positives"]] == [7]
    assert "financial/payment_card" in result["false_positives"][0]["explanation"]


def test_the_older_categories_format_is_read(tmp_path):
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps({"text": "Card 4539 1488 0343 6467", "sensitive": True,
                                "categories": ["financial"]}) + "\n", encoding="utf-8")
    (case,) = read_cases(path)
    assert case.categories == ("financial",) and not case.hard


def test_second_opinion_is_asked_only_where_the_gate_said_no(tmp_path):
    asked: list[str] = []

    def judge(text: str) -> bool:
        asked.append(text)
        return "vault" in text

    result = evaluate(read_cases(write_set(tmp_path / "set.jsonl")), second_opinion=judge)
    gate_silent = {c["text"] for c in CASES[2:3] + CASES[4:6]}
    assert set(asked) == gate_silent
    assert result["hard"]["missed"] == 0 and result["recall"] == 1.0
    assert result["second_opinion"]["asked"] == 3
    assert result["second_opinion"]["said_sensitive"] == 1
    assert "second opinion       asked 3, said sensitive 1" in render(result)


@pytest.mark.parametrize(
    ("line", "message"),
    [("not json", "not JSON"),
     ('["a list"]', "must be a JSON object"),
     ('{"text": "x", "sensitive": "yes"}', "'sensitive' must be true or false"),
     ('{"text": "", "sensitive": true}', "'text' must be non-empty text"),
     ('{"text": "x", "sensitive": true, "hard": 1}', "'hard' must be true or false"),
     ('{"text": "x", "sensitive": true, "category": 3}', "'category' must be text")],
)
def test_a_bad_line_is_named_with_its_number(tmp_path, line, message):
    path = write_set(tmp_path / "set.jsonl", CASES[:2], extra=line + "\n")
    with pytest.raises(SetError, match=rf"line 3: {message}"):
        read_cases(path)


def test_command_end_to_end(tmp_path):
    path = write_set(tmp_path / "set.jsonl")
    done = stillroom(tmp_path / "home", "route", "evaluate", str(path))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "recall               75.0% (3/4)" in out
    assert "false positives      33.3% (1/3)" in out
    assert "hard misses          1 of 3" in out
    assert "HARD MISS line 3 ['secret']" in out
    assert "time per prompt      median" in out
    assert "FALSE POSITIVE" not in out  # only with --verbose

    verbose = stillroom(tmp_path / "home", "route", "evaluate", str(path), "--verbose").stdout
    assert "FALSE POSITIVE line 7" in verbose
    assert "gate: sensitive: financial/payment_card" in verbose

    as_json = json.loads(stillroom(tmp_path / "home", "route", "evaluate", str(path),
                                   "--json").stdout)
    assert as_json["hard"]["missed"] == 1 and as_json["context_threshold"] == DEFAULT_THRESHOLD


def test_command_uses_the_policy_threshold(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "policy.toml").write_text("[sensitivity]\ncontext_threshold = 2.5\n",
                                      encoding="utf-8")
    path = write_set(tmp_path / "set.jsonl")
    done = stillroom(home, "route", "evaluate", str(path), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["context_threshold"] == 2.5
    assert result["per_category"]["client_confidence"]["recall"] == 0.0


def test_command_bad_line_is_one_message(tmp_path):
    path = write_set(tmp_path / "set.jsonl", CASES[:2], extra='{"text": "x"}\n')
    done = stillroom(tmp_path / "home", "route", "evaluate", str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == f"stillroom: {path} line 3: 'sensitive' must be true or false"
    assert path.read_text(encoding="utf-8").count("\n") == 3  # the set is untouched


def test_command_with_a_judge_asks_the_embedded_model_where_the_gate_said_no(tmp_path):
    """The wiring, with the real embedded model: asked exactly for the cases the gate let
    through (the 135M model is no judge of quality: its verdicts are not asserted here)."""
    path = write_set(tmp_path / "set.jsonl")
    plain = json.loads(stillroom(tmp_path / "home", "route", "evaluate", str(path),
                                 "--json").stdout)
    let_through = plain["sensitive"] + plain["ordinary"] - plain["caught"] \
        - round(plain["false_positive_rate"] * plain["ordinary"])
    done = stillroom(tmp_path / "home", "route", "evaluate", str(path), "--json",
                     "--judge", "smollm2-135m-instruct-q4_1")
    assert done.returncode == 0, done.stderr
    judged = json.loads(done.stdout)
    assert judged["second_opinion"]["asked"] == let_through
    assert judged["caught"] >= plain["caught"]

    unknown = stillroom(tmp_path / "home", "route", "evaluate", str(path), "--judge",
                        "no-such-model")
    assert unknown.returncode != 0 and "no-such-model" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1
