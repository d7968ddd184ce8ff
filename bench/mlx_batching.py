"""MLX continuous batching: aggregate decode tok/s of 1 and N concurrent streams, one run.

    .venv/bin/python bench/mlx_batching.py [--reps 3] [--tokens 48] [--streams 4] [--keep DIR]

The model is the embedded SmolLM2-135M's weights as an MLX 4-bit model (derived and
converted as in bench/mlx_engine.py; `--keep DIR` keeps them for the next run). Three cases,
interleaved within each repetition (the first case alternates), a fresh prompt per stream so
a kept KV cache helps only with the chat template's shared beginning (both engines keep
one), greedy, every stream asked for --tokens tokens:

- single:   the single-stream MlxEngine answering N clients (they queue on the MLX thread)
- batched1: BatchedMlxEngine, one client
- batchedN: BatchedMlxEngine, N clients at once (one thread each, as the server's)

Aggregate tok/s = completion tokens of all streams / wall time of the round. Medians are
printed with the ratios batchedN / batched1 and batchedN / single. On Apple Silicon MLX runs
on the GPU; elsewhere on the CPU, where a small model gains less from batching.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

# The repo root instead of bench/ itself: no bench script may shadow a library that
# transformers (under mlx_lm) imports.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

TOPICS = ["a lighthouse keeper", "a lost robot", "a desert caravan", "a mountain village",
          "a clockmaker", "a deep-sea diver", "an old library", "a winter market"]
_numbers = itertools.count()


def fresh_request(tokens: int):
    from inference.engines.types import ChatMessage, GenerationRequest

    i = next(_numbers)
    text = f"Write a long, detailed story about {TOPICS[i % len(TOPICS)]} (story {i})."
    return GenerationRequest([ChatMessage("user", text)], max_tokens=tokens, temperature=0.0)


def round_tps(engine, clients: int, tokens: int) -> float:
    """Aggregate completion tok/s of `clients` concurrent streams, each on its own thread."""
    counts = [0] * clients

    def client(index: int) -> None:
        for chunk in engine.stream(fresh_request(tokens), owner=f"client{index}"):
            counts[index] = chunk.completion_tokens

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--keep", type=Path, help="keep the derived and converted models here")
    args = parser.parse_args()

    from inference.convert.mlx_convert import convert
    from inference.engines.batching import BatchSettings
    from inference.engines.mlx_batching import BatchedMlxEngine
    from inference.engines.mlx_engine import MlxEngine
    from inference.models.library import ModelLibrary, embedded_model
    from tests.inference.derive_hf_checkpoint import derive

    work = args.keep or Path(tempfile.mkdtemp(prefix="stillroom-mlx-batching-"))
    hf_dir, mlx_dir = work / "SmolLM2-135M-Instruct", work / "SmolLM2-135M-Instruct-mlx-4bit"
    if not hf_dir.exists():
        derive(embedded_model().path, hf_dir)
    if not mlx_dir.exists():
        convert(hf_dir, mlx_dir, "mlx-4bit")
    model = ModelLibrary(work / "home").register(mlx_dir)

    n = args.streams
    # Prefix reuse on, as served: like MlxEngine's kept cache, a client's kept cache saves
    # only the chat template's shared beginning, since every prompt is fresh.
    batched = BatchedMlxEngine(model, BatchSettings(slots=n, context_per_slot=1024))
    single = MlxEngine(model, context_length=1024)
    batched.load()
    single.load()
    cases = {"single": lambda: round_tps(single, n, args.tokens),
             "batched1": lambda: round_tps(batched, 1, args.tokens),
             f"batched{n}": lambda: round_tps(batched, n, args.tokens)}
    for measure in cases.values():  # warm-up: compile kernels, grow buffers
        measure()
    results: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for rep in range(args.reps):
        for name in names[rep % len(names):] + names[:rep % len(names)]:
            results[name].append(cases[name]())
    medians = {name: statistics.median(values) for name, values in results.items()}
    print(f"load average {os.getloadavg()[0]:.2f}; {args.reps} reps, {args.tokens} tokens "
          f"per stream; medians")
    for name, value in medians.items():
        clients = 1 if name == "batched1" else n
        print(f"{name:10} {clients} stream(s): {value:7.1f} tok/s aggregate")
    top = medians[f"batched{n}"]
    print(f"batched{n} / batched1: x{top / medians['batched1']:.2f}; "
          f"batched{n} / single: x{top / medians['single']:.2f}")
    batched.unload()
    single.unload()


if __name__ == "__main__":
    main()
