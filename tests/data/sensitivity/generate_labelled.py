"""Writes labelled.jsonl: the sensitivity gate's evaluation set.

Run once from the repository root and commit the output:

    python tests/data/sensitivity/generate_labelled.py

The prompts are hand-written to read like what people type or paste; the identifiers inside them
are fabricated with a fixed seed (see fabricate.py), so the output is reproducible. Labels are
written by hand next to each prompt, never computed by the gate.

Each line: {"text", "sensitive", "categories"} and, where the prompt depends on user-defined
terms, "custom_terms" (the terms a user would have configured for that conversation).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fabricate as fab
import ordinary_prompts
import sensitive_prompts

OUTPUT = Path(__file__).resolve().parent / "labelled.jsonl"
SEED = 20261122


def main() -> None:
    rng = random.Random(SEED)
    examples = sensitive_prompts.build(rng, fab) + ordinary_prompts.build(rng, fab)
    seen: set[str] = set()
    with OUTPUT.open("w", encoding="utf-8") as handle:
        for example in examples:
            if example["text"] in seen:
                raise SystemExit(f"duplicate prompt: {example['text'][:60]!r}")
            seen.add(example["text"])
            handle.write(json.dumps(example, ensure_ascii=False) + "\n")
    sensitive = sum(1 for e in examples if e["sensitive"])
    print(f"wrote {len(examples)} examples ({sensitive} sensitive) to {OUTPUT}")


if __name__ == "__main__":
    main()
