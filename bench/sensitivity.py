"""Times the sensitivity gate against presidio-analyzer's pattern-only engine on the same texts.

    python bench/sensitivity.py [--repeats N] [--path labelled.jsonl]

Presidio runs with its predefined recognizers and a no-op NLP engine (no spaCy model, nothing
downloaded): the fair comparison for a gate that must decide offline, before any network code
runs. Both engines see every text of the labelled set in each repetition, and repetitions
alternate between the two so drift in machine load hits both. One pass of the gate takes a few
milliseconds against presidio's few hundred, so each repetition times as many passes of the
gate as fit in one presidio pass: a scheduler hiccup then weighs the same on both. Reported:
the ratio of the median times, and the median of the per-repetition ratios (each pairs two
adjacent measurements, so it is the figure least moved by load on a shared machine).

presidio-analyzer is a bench-only dependency: pip install presidio-analyzer
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from routing.sensitivity import scan  # noqa: E402

DEFAULT_SET = ROOT / "tests/data/sensitivity/labelled.jsonl"


def build_presidio():
    """Presidio's predefined recognizers behind a no-op NLP engine, fully offline."""
    # tldextract (used by presidio's e-mail and URL recognizers) otherwise tries to fetch the
    # public suffix list on first use; an empty URL list makes it use its bundled snapshot.
    os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
    try:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NoOpNlpEngine
    except ImportError:
        return None
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    nlp_engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    nlp_engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
    engine = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])
    return engine


def time_once(run, texts, passes: int = 1) -> float:
    """Seconds for one pass over texts (the mean over passes consecutive passes)."""
    start = time.perf_counter()
    for _ in range(passes):
        for text in texts:
            run(text)
    return (time.perf_counter() - start) / passes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--path", default=str(DEFAULT_SET))
    args = parser.parse_args(argv)

    engine = build_presidio()
    if engine is None:
        print("presidio-analyzer is not installed; it is a bench-only dependency:")
        print("    pip install presidio-analyzer")
        return 2

    with Path(args.path).open(encoding="utf-8") as handle:
        examples = [json.loads(line) for line in handle if line.strip()]
    texts = [example["text"] for example in examples]

    def run_presidio(text: str) -> object:
        return engine.analyze(text, language="en")

    scan("warm up")  # the automaton is built on the first scan
    _compare("every text of the set", texts, run_presidio, engine, args, target=25)
    # The fast path (issue 16): ordinary prompts, which most prompts are. The contextual
    # layer may cost time on text with cues; here it must stay >= 20x.
    plain = [example["text"] for example in examples if not example.get("sensitive")]
    print()
    _compare("plain prompts (the set's ordinary texts)", plain, run_presidio, engine, args,
             target=20)
    return 0


def _compare(title: str, texts: list[str], run_presidio, engine, args, *, target: int) -> None:
    kilobytes = sum(len(t.encode("utf-8")) for t in texts) / 1024

    # One untimed pass each: imports, regex compilation and caches are not what we compare.
    # The same passes size the gate's share of a repetition.
    ours_first = time_once(scan, texts)
    theirs_first = time_once(run_presidio, texts)
    passes = max(1, min(100, round(theirs_first / ours_first)))

    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(args.repeats):
        ours.append(time_once(scan, texts, passes))
        theirs.append(time_once(run_presidio, texts))

    ours_ms_kb = statistics.median(ours) * 1000 / kilobytes
    theirs_ms_kb = statistics.median(theirs) * 1000 / kilobytes
    paired = statistics.median(t / o for o, t in zip(ours, theirs, strict=True))
    recognizers = len(engine.registry.recognizers)
    print(f"{title}: {len(texts)} texts ({kilobytes:.1f} KB) from {args.path}")
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"repetitions: {args.repeats}, alternating, medians ({passes} gate passes each)")
    print(f"stillroom scan                        {ours_ms_kb:8.3f} ms/KB")
    print(f"presidio pattern-only ({recognizers} recognizers) {theirs_ms_kb:8.3f} ms/KB")
    ratio = theirs_ms_kb / ours_ms_kb
    print(f"speed ratio                           {ratio:8.1f}x (target >= {target}x)")
    print(f"median of per-repetition ratios       {paired:8.1f}x")


if __name__ == "__main__":
    raise SystemExit(main())
