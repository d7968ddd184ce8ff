"""Batch jobs over documents, measured: documents per minute and what prefix KV reuse buys.

    .venv/bin/python bench/document_jobs.py [--docs 200] [--max-tokens 32] [--ttft-docs 12]
                                            [--parallel 4] [--rounds 1]

1. Documents per minute: a mixed corpus (TXT / Markdown / HTML, English, German, Polish,
   Japanese, 1-40 lines each) written to a temporary folder, run as a real job (JobRunner
   with the `summary` template, greedy, the embedded model, a fresh data directory: the
   sensitivity gate, the store, the meters and the audit log included), wall clock over
   the whole job. Once one document at a time (the single-stream engine, `docs run`'s
   default) and once `--parallel N` at once (the batched engine with N slots, as
   `docs run --parallel N`), in the same run; with `--rounds R` the two alternate which
   goes first and the medians are compared (paired: same machine, same moment).
2. Prefix reuse: per-document TTFT with the template's fixed prefix already in the KV cache
   (documents one after another, as a job runs them) against a cold prefix (the request
   before it had another system message, so only the chat template's first tokens are
   shared). Pairs are interleaved; medians reported. Target: reuse <= 0.5x cold.

The parse-time and peak-memory part (the readers against raw pypdfium2) is
bench/documents.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SENTENCES = [
    "The supplier confirmed delivery of the steel beams on {day} May.",
    "Counsel reviewed the indemnity clause and proposed changes to section {day}.",
    "Die Lieferung verzögert sich um {day} Tage wegen des Streiks.",
    "Spółka zapłaci karę umowną w wysokości {day} 000 zł.",
    "会議は{day}日に延期されました。",
    "The board approved a budget of USD {day},400 for the new office.",
]


def make_mixed_corpus(folder: Path, count: int) -> Path:
    """`count` small documents of varied length, format and language."""
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        lines = [SENTENCES[(index + k) % len(SENTENCES)].format(day=(index + k) % 28 + 1)
                 for k in range(1 + (index * 7) % 40)]
        kind = index % 3
        if kind == 0:
            (folder / f"doc-{index:04d}.txt").write_text("\n".join(lines), encoding="utf-8")
        elif kind == 1:
            (folder / f"doc-{index:04d}.md").write_text(
                f"# Note {index}\n\n" + "\n".join(f"- {line}" for line in lines),
                encoding="utf-8")
        else:
            body = "".join(f"<p>{line}</p>" for line in lines)
            (folder / f"doc-{index:04d}.html").write_text(
                f"<html><head><style>p{{margin:0}}</style></head><body>{body}</body></html>",
                encoding="utf-8")
    return folder


def documents_per_minute(count: int, max_tokens: int, template_name: str = "summary",
                         parallel: int = 1) -> dict[str, float]:
    from app.documents.jobs.runner import JobRunner
    from app.documents.templates import load_templates
    from app.services import Services
    from app.store.jobs import JobLedger
    from inference.engines.batching import BatchSettings

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        os.environ["STILLROOM_HOME"] = str(root / "home")
        folder = make_mixed_corpus(root / "corpus", count)
        services = Services.open(batch=BatchSettings(slots=parallel) if parallel > 1 else None)
        try:
            template = load_templates(services.data_dir).get(template_name)
            chat = services.chat()
            model = chat.resolve_model(None)
            services.engines.engine_for(model)  # loaded outside the timed part
            ledger = JobLedger(services.store.engine)
            job = ledger.create(folder=str(folder), template=template.name, model_id=model.id,
                                route="local", options={"max_tokens": max_tokens, "seed": 0,
                                                        "temperature": 0.0})
            started = time.perf_counter()
            status = JobRunner(chat, ledger, template, job).run(parallel=parallel)
            elapsed = time.perf_counter() - started
            finished = ledger.get(job.id)
            items = ledger.items(job.id)
        finally:
            services.close()
    assert status == "done", status
    generated = sum(i.completion_tokens or 0 for i in items)
    return {"documents": finished.done + finished.failed, "failed": finished.failed,
            "seconds": elapsed, "per_minute": 60 * len(items) / elapsed,
            "tokens_per_s": generated / elapsed}


def prefix_reuse_ttft(count: int, template_name: str = "privilege-log",
                      document_chars: int = 160) -> dict[str, float]:
    """Short documents (the first `document_chars` characters of each): the case the
    reuse is for, where the fixed prefix is most of the prompt. A long document's own
    tokens dominate its prefill whatever is reused."""
    from app.documents.templates import load_templates
    from inference.engines.llama_engine import LlamaCppEngine
    from inference.engines.types import ChatMessage, GenerationRequest
    from inference.models.library import embedded_model

    template = load_templates(None).get(template_name)
    engine = LlamaCppEngine(embedded_model())
    engine.load()

    engine_prompt_tokens: list[int] = []

    def ttft(system: str, document: str) -> tuple[float, int]:
        request = GenerationRequest([ChatMessage("system", system),
                                     ChatMessage("user", document)],
                                    max_tokens=1, temperature=0.0, seed=0)
        last = list(engine.stream(request))[-1]
        assert last.timings.ttft_s is not None
        if system == template.prefix:
            engine_prompt_tokens.append(last.prompt_tokens)
        return last.timings.ttft_s, last.timings.prompt_tokens_reused

    warm, cold, reused = [], [], []
    try:
        with tempfile.TemporaryDirectory() as scratch:
            folder = make_mixed_corpus(Path(scratch), count * 2)
            texts = [p.read_text(encoding="utf-8")[:document_chars]
                     for p in sorted(folder.iterdir())]
        ttft(template.prefix, template.prompt_for("first", texts[0], {}))
        for index in range(count):
            document = template.prompt_for(f"doc {index}", texts[2 * index + 1], {})
            if index % 2:  # alternate which is measured first
                seconds, shared = ttft(template.prefix, document)
                warm.append(seconds)
                reused.append(shared)
            ttft("You are a helpful assistant.", "Say hello.")  # evicts the template prefix
            seconds, _ = ttft(template.prefix, template.prompt_for(f"cold {index}",
                                                                   texts[2 * index], {}))
            cold.append(seconds)
            if not index % 2:
                seconds, shared = ttft(template.prefix, document)
                warm.append(seconds)
                reused.append(shared)
    finally:
        engine.unload()
    prompt_tokens = engine_prompt_tokens
    return {"warm_ttft_s": statistics.median(warm), "cold_ttft_s": statistics.median(cold),
            "prompt_tokens": statistics.median(prompt_tokens),
            "ratio": statistics.median(warm) / statistics.median(cold),
            "prefix_tokens_reused": statistics.median(reused)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--ttft-docs", type=int, default=12)
    parser.add_argument("--parallel", type=int, default=4,
                        help="documents at once in the batched run (default: 4)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="pairs of runs (1 and N at once), alternating which goes first")
    parser.add_argument("--only", choices=("ttft", "rate"), help="run one part")
    args = parser.parse_args()
    if args.only != "rate":
        reuse = prefix_reuse_ttft(args.ttft_docs)
        print(f"prefix reuse (privilege-log prefix, {args.ttft_docs} short documents, median "
              f"TTFT): reused {reuse['warm_ttft_s'] * 1000:.0f} ms vs cold "
              f"{reuse['cold_ttft_s'] * 1000:.0f} ms = {reuse['ratio']:.2f}x (target <= 0.5x;"
              f" {reuse['prefix_tokens_reused']:.0f} of {reuse['prompt_tokens']:.0f} prompt "
              f"tokens reused)", flush=True)
    if args.only == "ttft":
        return
    runs: dict[int, list[dict[str, float]]] = {1: [], args.parallel: []}
    for round_index in range(args.rounds):
        order = [1, args.parallel] if round_index % 2 == 0 else [args.parallel, 1]
        for parallel in order:
            rate = documents_per_minute(args.docs, args.max_tokens, parallel=parallel)
            runs[parallel].append(rate)
            print(f"job over {rate['documents']:.0f} mixed documents (summary, max "
                  f"{args.max_tokens} tokens, {parallel} at once): {rate['seconds']:.1f} s, "
                  f"{rate['per_minute']:.1f} documents/minute, {rate['tokens_per_s']:.1f} "
                  f"generated tok/s, {rate['failed']:.0f} failed", flush=True)
    single = statistics.median(r["per_minute"] for r in runs[1])
    batched = statistics.median(r["per_minute"] for r in runs[args.parallel])
    print(f"documents/minute, median of {args.rounds}: 1 at once {single:.1f}, "
          f"{args.parallel} at once {batched:.1f} = {batched / single:.2f}x "
          f"(load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
