"""Measures the gate on a labelled set a firm writes itself: `stillroom route evaluate SET.jsonl`.

One JSON object a line (blank lines are skipped):

    {"text": "...", "sensitive": true, "category": "litigation", "hard": false}

`category` is the set's own label (any word: "hr", "government_id"), used only to report
recall per category; a case counts as caught when the gate says sensitive, in any category.
`hard` marks what must never be missed (cards, accounts, keys, identifiers); every hard miss
is listed. Optional: `lang` (recall and false positives per language), `custom_terms`, and any
other key (style, why). The older format, `"categories": [...]` instead of `category`, is read
too. A bad line stops the run with one message naming its line; the file is not touched.

`evaluate(cases, second_opinion=...)` takes a second opinion (a local judge model) asked only
when the gate says "not sensitive", as the cloud path does; it returns a bool or anything with
a `sensitive` attribute.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from routing.sensitivity.context import DEFAULT_THRESHOLD
from routing.sensitivity.scanner import scan

UNLABELLED = "(no category)"


class SetError(ValueError):
    """A labelled set that cannot be read; says which file and line, and why."""


class Verdict(Protocol):
    """A second opinion's answer: at least whether the text is sensitive."""

    sensitive: bool


SecondOpinion = Callable[[str], "Verdict | bool"]


@dataclass(frozen=True, slots=True)
class Case:
    line: int
    text: str
    sensitive: bool
    categories: tuple[str, ...]
    hard: bool = False
    lang: str | None = None
    custom_terms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    case: Case
    gate_sensitive: bool
    explanation: str
    gate_s: float
    judged: bool | None = None  # the second opinion's answer, when it was asked
    judge_s: float | None = None

    @property
    def flagged(self) -> bool:
        return self.gate_sensitive or bool(self.judged)


@dataclass
class _Tally:
    labelled: int = 0
    caught: int = 0

    def to_json(self) -> dict:
        recall = self.caught / self.labelled if self.labelled else None
        return {"labelled": self.labelled, "caught": self.caught, "recall": recall}


@dataclass
class _Language:
    sensitive: _Tally = field(default_factory=_Tally)
    ordinary: int = 0
    flagged: int = 0


def read_cases(path: str | Path) -> list[Case]:
    """Every case in the set; SetError naming the line for the first bad one."""
    where = str(path)
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SetError(f"{where}: cannot read it ({exc})") from None
    cases = [_case(line, number, where) for number, line in enumerate(lines, start=1)
             if line.strip()]
    if not cases:
        raise SetError(f"{where}: no cases in it (one JSON object a line)")
    return cases


def _case(line: str, number: int, where: str) -> Case:
    def bad(message: str) -> SetError:
        return SetError(f"{where} line {number}: {message}")

    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise bad(f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(raw, dict):
        raise bad("must be a JSON object like {\"text\": ..., \"sensitive\": true}")
    text, sensitive = raw.get("text"), raw.get("sensitive")
    if not isinstance(text, str) or not text.strip():
        raise bad("'text' must be non-empty text")
    if not isinstance(sensitive, bool):
        raise bad("'sensitive' must be true or false")
    if "categories" in raw and "category" not in raw:
        categories = raw["categories"]
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            raise bad("'categories' must be a list of text")
    else:
        category = raw.get("category")
        if category is not None and not isinstance(category, str):
            raise bad("'category' must be text or null")
        categories = [category] if category else []
    hard = raw.get("hard", False)
    if not isinstance(hard, bool):
        raise bad("'hard' must be true or false")
    lang = raw.get("lang")
    if lang is not None and not isinstance(lang, str):
        raise bad("'lang' must be text")
    terms = raw.get("custom_terms", [])
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        raise bad("'custom_terms' must be a list of text")
    return Case(number, text, sensitive, tuple(categories), hard, lang, tuple(terms))


def _asks(second_opinion: SecondOpinion, text: str) -> bool:
    answer = second_opinion(text)
    return answer if isinstance(answer, bool) else bool(answer.sensitive)


def run_cases(cases: Sequence[Case], second_opinion: SecondOpinion | None = None, *,
              context_threshold: float = DEFAULT_THRESHOLD) -> list[Outcome]:
    """The gate's answer on each case, timed; the second opinion only where the gate said no."""
    outcomes = []
    # The first scan builds the gate's automaton (tens of milliseconds, once per process):
    # not a cost of any one prompt.
    scan("warm up the gate", context_threshold=context_threshold)
    for case in cases:
        started = time.perf_counter()
        report = scan(case.text, custom_terms=case.custom_terms,
                      context_threshold=context_threshold)
        gate_s = time.perf_counter() - started
        judged = judge_s = None
        if second_opinion is not None and not report.sensitive:
            started = time.perf_counter()
            judged = _asks(second_opinion, case.text)
            judge_s = time.perf_counter() - started
        outcomes.append(Outcome(case, report.sensitive, report.explain(), gate_s, judged, judge_s))
    return outcomes


def evaluate(cases: Sequence[Case], second_opinion: SecondOpinion | None = None, *,
             context_threshold: float = DEFAULT_THRESHOLD) -> dict:
    """Recall (overall, per category, per language), hard misses, false positives, timing."""
    outcomes = run_cases(cases, second_opinion, context_threshold=context_threshold)
    per_category: dict[str, _Tally] = {}
    per_language: dict[str, _Language] = {}
    overall, hard = _Tally(), _Tally()
    ordinary = flagged_ordinary = 0
    misses, hard_misses, false_positives = [], [], []
    for outcome in outcomes:
        case = outcome.case
        language = per_language.setdefault(case.lang, _Language()) if case.lang else None
        if case.sensitive:
            overall.labelled += 1
            overall.caught += outcome.flagged
            for category in case.categories or (UNLABELLED,):
                tally = per_category.setdefault(category, _Tally())
                tally.labelled += 1
                tally.caught += outcome.flagged
            if case.hard:
                hard.labelled += 1
                hard.caught += outcome.flagged
            if language:
                language.sensitive.labelled += 1
                language.sensitive.caught += outcome.flagged
            if not outcome.flagged:
                misses.append(_listing(outcome))
                if case.hard:
                    hard_misses.append(_listing(outcome))
        else:
            ordinary += 1
            flagged_ordinary += outcome.flagged
            if language:
                language.ordinary += 1
                language.flagged += outcome.flagged
            if outcome.flagged:
                false_positives.append(_listing(outcome))
    gate_ms = sorted(outcome.gate_s * 1000 for outcome in outcomes)
    judge_ms = sorted(o.judge_s * 1000 for o in outcomes if o.judge_s is not None)
    return {
        "cases": len(outcomes),
        "sensitive": overall.labelled,
        "ordinary": ordinary,
        "recall": overall.to_json()["recall"],
        "caught": overall.caught,
        "false_positive_rate": flagged_ordinary / ordinary if ordinary else None,
        "false_positives_count": flagged_ordinary,
        "per_category": {name: tally.to_json() for name, tally in sorted(per_category.items())},
        "hard": {**hard.to_json(), "missed": len(hard_misses)},
        "hard_misses": hard_misses,
        "per_language": {
            lang: {**stats.sensitive.to_json(), "ordinary": stats.ordinary,
                   "flagged": stats.flagged,
                   "false_positive_rate": stats.flagged / stats.ordinary if stats.ordinary
                   else None}
            for lang, stats in sorted(per_language.items())},
        "time_per_prompt_ms": _percentiles(gate_ms),
        "second_opinion": None if second_opinion is None else {
            "asked": len(judge_ms),
            "said_sensitive": sum(bool(o.judged) for o in outcomes),
            "time_per_prompt_ms": _percentiles(judge_ms),
        },
        "context_threshold": context_threshold,
        "misses": misses,
        "false_positives": false_positives,
    }


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p95": None}
    p95 = values[min(len(values) - 1, max(0, round(0.95 * len(values)) - 1))]
    return {"median": round(statistics.median(values), 4), "p95": round(p95, 4)}


def _listing(outcome: Outcome) -> dict:
    case = outcome.case
    entry = {"line": case.line, "text": case.text, "categories": list(case.categories),
             "hard": case.hard, "lang": case.lang, "explanation": outcome.explanation}
    if outcome.judged is not None:
        entry["second_opinion"] = outcome.judged
    return entry


def render(result: dict, *, verbose: bool = False) -> str:
    """The result as the terminal shows it."""
    def percent(value: float | None) -> str:
        return "-" if value is None else f"{value:.1%}"

    out = [f"{result['cases']} cases: {result['sensitive']} sensitive, "
           f"{result['ordinary']} ordinary (context threshold {result['context_threshold']:g})",
           f"recall               {percent(result['recall'])} "
           f"({result['caught']}/{result['sensitive']})",
           f"false positives      {percent(result['false_positive_rate'])} "
           f"({result['false_positives_count']}/{result['ordinary']})",
           f"hard misses          {result['hard']['missed']} of {result['hard']['labelled']}"]
    timing = result["time_per_prompt_ms"]
    if timing["median"] is not None:
        out.append(f"time per prompt      median {timing['median']:.3f} ms, "
                   f"p95 {timing['p95']:.3f} ms")
    judge = result["second_opinion"]
    if judge is not None:
        timing = judge["time_per_prompt_ms"]
        added = "" if timing["median"] is None else \
            f", median {timing['median']:.0f} ms, p95 {timing['p95']:.0f} ms"
        out.append(f"second opinion       asked {judge['asked']}, said sensitive "
                   f"{judge['said_sensitive']}{added}")
    out.append("")
    out.append(f"{'category':<24}{'labelled':>9}{'caught':>8}{'recall':>9}")
    for name, tally in result["per_category"].items():
        out.append(f"{name:<24}{tally['labelled']:>9}{tally['caught']:>8}"
                   f"{percent(tally['recall']):>9}")
    if result["per_language"]:
        out.append("")
        out.append(f"{'language':<10}{'sensitive':>10}{'recall':>9}{'ordinary':>10}{'FP rate':>9}")
        for lang, stats in result["per_language"].items():
            out.append(f"{lang:<10}{stats['labelled']:>10}{percent(stats['recall']):>9}"
                       f"{stats['ordinary']:>10}{percent(stats['false_positive_rate']):>9}")
    for miss in result["hard_misses"]:
        out.append(f"\nHARD MISS line {miss['line']} {miss['categories']}: {_clip(miss['text'])}"
                   f"\n  gate: {miss['explanation']}")
    if verbose:
        for miss in result["misses"]:
            if not miss["hard"]:
                out.append(f"\nMISS line {miss['line']} {miss['categories']}: "
                           f"{_clip(miss['text'])}\n  gate: {miss['explanation']}")
        for fp in result["false_positives"]:
            out.append(f"\nFALSE POSITIVE line {fp['line']}: {_clip(fp['text'])}\n"
                       f"  gate: {fp['explanation']}")
    return "\n".join(out)


def _clip(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= width else flat[: width - 1] + "…")
