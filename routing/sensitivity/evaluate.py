"""Measures the gate against a labelled JSONL set.

    python -m routing.sensitivity.evaluate [PATH] [--misses]

Each line: {"text", "sensitive": bool, "categories": [...], optional "custom_terms": [...]}.
Recall for a category counts the examples labelled with it whose report also names it; the
false-positive rate counts non-sensitive examples the gate would have kept local.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from routing.sensitivity.report import CATEGORIES
from routing.sensitivity.scanner import scan

DEFAULT_SET = Path(__file__).resolve().parents[2] / "tests/data/sensitivity/labelled.jsonl"


def load(path: str | Path) -> list[dict]:
    examples = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            example = json.loads(line)
            unknown = set(example["categories"]) - set(CATEGORIES)
            if unknown:
                raise ValueError(f"{path}:{number}: unknown categories {sorted(unknown)}")
            if bool(example["categories"]) != example["sensitive"]:
                raise ValueError(f"{path}:{number}: 'sensitive' disagrees with 'categories'")
            examples.append(example)
    return examples


def evaluate(path: str | Path = DEFAULT_SET) -> dict:
    """Per-category recall, overall recall and false-positive rate, plus the misses."""
    examples = load(path)
    per_category = {c: {"labelled": 0, "detected": 0, "spurious": 0} for c in CATEGORIES}
    sensitive_total = sensitive_caught = ordinary_total = ordinary_flagged = 0
    misses: list[dict] = []
    false_positives: list[dict] = []

    for example in examples:
        report = scan(example["text"], custom_terms=example.get("custom_terms", ()))
        expected, found = set(example["categories"]), set(report.categories)
        for category in expected:
            per_category[category]["labelled"] += 1
            per_category[category]["detected"] += category in found
        for category in found - expected:
            per_category[category]["spurious"] += 1
        if example["sensitive"]:
            sensitive_total += 1
            sensitive_caught += report.sensitive
            if expected - found:
                misses.append({"text": example["text"], "missing": sorted(expected - found)})
        else:
            ordinary_total += 1
            ordinary_flagged += report.sensitive
            if report.sensitive:
                false_positives.append({"text": example["text"], "spans": _quote(example, report)})

    for counts in per_category.values():
        counts["recall"] = counts["detected"] / counts["labelled"] if counts["labelled"] else None
    return {
        "examples": len(examples),
        "sensitive_examples": sensitive_total,
        "ordinary_examples": ordinary_total,
        "recall": sensitive_caught / sensitive_total if sensitive_total else None,
        "false_positive_rate": ordinary_flagged / ordinary_total if ordinary_total else None,
        "per_category": per_category,
        "misses": misses,
        "false_positives": false_positives,
    }


def _quote(example: dict, report: object) -> list[str]:
    text = example["text"]
    return [f"{s.category}/{s.kind}: {text[s.start : s.end]!r}" for s in report.spans]


def _print_summary(result: dict, *, show_misses: bool) -> None:
    print(
        f"{result['examples']} examples ({result['sensitive_examples']} sensitive, "
        f"{result['ordinary_examples']} ordinary)"
    )
    print(f"overall recall        {result['recall']:.1%}")
    print(f"false-positive rate   {result['false_positive_rate']:.1%}")
    print(f"{'category':<12}{'labelled':>9}{'detected':>9}{'recall':>9}{'spurious':>9}")
    for category, counts in result["per_category"].items():
        recall = "-" if counts["recall"] is None else f"{counts['recall']:.1%}"
        print(
            f"{category:<12}{counts['labelled']:>9}{counts['detected']:>9}{recall:>9}"
            f"{counts['spurious']:>9}"
        )
    if show_misses:
        for miss in result["misses"]:
            print(f"\nMISSED {miss['missing']}: {miss['text'][:160]!r}")
        for fp in result["false_positives"]:
            print(f"\nFALSE POSITIVE {fp['spans']}: {fp['text'][:160]!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=str(DEFAULT_SET))
    parser.add_argument("--misses", action="store_true", help="print every miss and FP")
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    args = parser.parse_args(argv)
    result = evaluate(args.path)
    if args.json:
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        _print_summary(result, show_misses=args.misses)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
