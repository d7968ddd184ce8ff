"""Concurrent streams: Stillroom's batched engine against llama.cpp's own server, one run.

    .venv/bin/python bench/server_concurrency.py [--tokens 64] [--reps 3] [--streams 1,2,4,8]

Engine level for now (the HTTP server comes with app/server/): `BatchedLlamaEngine.stream`
called from one thread per client, against llama.cpp's server loaded in-process by the
`xllamacpp` wheel (`Server.handle_chat_completions`, streaming callbacks, no HTTP on either
side), same GGUF (the embedded model), same threads, same slots, same max tokens, greedy.
Runs are interleaved (which side goes first alternates by repetition); medians reported.

Aggregate decode tok/s = completion tokens of all streams / wall time of the round.
TTFT = from a client's request to its first content token (p50 / p95 over every stream).
Targets (issue 14): ours at 4 streams >= 0.95x llama.cpp server's, and >= 1.3x our 1 stream.

Fairness: a heavy owner keeps `slots` requests in flight (a new one the moment one ends);
a light owner's TTFT then, against its TTFT on an idle engine. Target: <= 2x.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.engines.batching import BatchedLlamaEngine, BatchSettings
from inference.engines.types import ChatMessage, GenerationRequest
from inference.hardware import default_thread_counts
from inference.models.library import embedded_model

TOPICS = ["a lighthouse keeper", "a lost robot", "a desert caravan", "a mountain village",
          "a clockmaker", "a deep-sea diver", "an old library", "a winter market"]


def prompt(i: int) -> str:
    """Never the same prompt twice in a run: both sides keep finished prompts' KV, and a
    repeated prompt would measure the cache, not the batching."""
    return f"Write a long, detailed story about {TOPICS[i % len(TOPICS)]} (story {i})."


_numbers = itertools.count()


@dataclass
class Stream:
    ttft: float
    tokens: int


# A client: (prompt index, max tokens) -> Stream. Runs on its own thread.
Client = Callable[[int, int], Stream]


def ours_client(engine: BatchedLlamaEngine, owner: str | None = None) -> Client:
    """Streams from `owner`, or each prompt index its own owner when None."""
    def run(i: int, max_tokens: int) -> Stream:
        started = time.perf_counter()
        first = None
        tokens = 0
        request = GenerationRequest(messages=[ChatMessage("user", prompt(i))],
                                    temperature=0, max_tokens=max_tokens)
        for chunk in engine.stream(request, owner=owner or f"client{i % 8}"):
            if first is None and chunk.text:
                first = time.perf_counter()
            tokens = chunk.completion_tokens
        return Stream((first or time.perf_counter()) - started, tokens)
    return run


def server_client(server: object) -> Client:
    def run(i: int, max_tokens: int) -> Stream:
        started = time.perf_counter()
        seen: dict[str, float | int] = {"tokens": 0}

        def on_chunk(chunk: dict) -> bool:
            for choice in chunk.get("choices", ()):
                if choice.get("delta", {}).get("content"):
                    seen.setdefault("first", time.perf_counter())
            if chunk.get("usage"):
                seen["tokens"] = chunk["usage"]["completion_tokens"]
            return False  # keep streaming

        server.handle_chat_completions({  # type: ignore[attr-defined]
            "messages": [{"role": "user", "content": prompt(i)}], "max_tokens": max_tokens,
            "temperature": 0, "stream": True, "stream_options": {"include_usage": True},
        }, on_chunk)
        return Stream(float(seen.get("first", time.perf_counter())) - started,
                      int(seen["tokens"]))
    return run


def round_of(client: Client, streams: int, max_tokens: int) -> tuple[float, list[float]]:
    """`streams` clients at once; (aggregate tok/s, their TTFTs). Each stream is its own
    owner (see ours_client), as different people would be."""
    results: list[Stream] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        result = client(i, max_tokens)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=one, args=(next(_numbers),)) for _ in range(streams)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return sum(r.tokens for r in results) / wall, [r.ttft for r in results]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def fairness(engine: BatchedLlamaEngine, slots: int, max_tokens: int,
             reps: int) -> tuple[float, float]:
    """(light owner's median TTFT on an idle engine, the same while heavy keeps `slots` in
    flight)."""
    light = ours_client(engine, owner="light")
    idle = [light(next(_numbers), 8).ttft for _ in range(reps)]
    heavy = ours_client(engine, owner="heavy")
    stop = threading.Event()

    def keep_one_in_flight() -> None:
        while not stop.is_set():
            heavy(next(_numbers), max_tokens)

    workers = [threading.Thread(target=keep_one_in_flight) for _ in range(slots)]
    for worker in workers:
        worker.start()
    while engine.stats().running < min(slots, engine.settings.max_running_per_owner or slots):
        time.sleep(0.05)
    time.sleep(0.5)
    busy = []
    for _ in range(reps):
        busy.append(light(next(_numbers), 8).ttft)
        time.sleep(0.2)
    stop.set()
    for worker in workers:
        worker.join()
    return statistics.median(idle), statistics.median(busy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--streams", default="1,2,4,8")
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--context-per-slot", type=int, default=1024)
    args = parser.parse_args()
    counts = [int(s) for s in args.streams.split(",")]
    threads, batch_threads = default_thread_counts()
    model = embedded_model()
    print(f"model {Path(model.path).name}, threads {threads}/{batch_threads}, slots "
          f"{args.slots} x {args.context_per_slot} ctx, {args.tokens} tokens, "
          f"{args.reps} reps; load before: {os.getloadavg()[0]:.2f}")

    engine = BatchedLlamaEngine(model, BatchSettings(
        slots=args.slots, context_per_slot=args.context_per_slot, n_threads=threads,
        n_threads_batch=batch_threads, max_running_per_owner=args.slots - 1))
    engine.load()
    clients: dict[str, Client] = {"stillroom": ours_client(engine)}
    try:
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = model.path
        params.n_parallel = args.slots
        params.n_ctx = args.slots * args.context_per_slot
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = batch_threads
        clients["llama.cpp server"] = server_client(xllamacpp.Server(params))
    except ImportError:
        print("xllamacpp is not installed (pip install 'stillroom[bench]'): ours only")

    for client in clients.values():  # warm-up: first decode allocates and pages weights in
        round_of(client, 2, 8)
    agg: dict[tuple[str, int], list[float]] = {}
    ttfts: dict[tuple[str, int], list[float]] = {}
    for rep in range(args.reps):
        order = list(clients) if rep % 2 == 0 else list(reversed(clients))
        for streams in counts:
            for name in order:
                rate, firsts = round_of(clients[name], streams, args.tokens)
                agg.setdefault((name, streams), []).append(rate)
                ttfts.setdefault((name, streams), []).extend(firsts)

    print(f"\n{'engine':<18}{'streams':>8}{'agg tok/s':>11}{'TTFT p50':>10}{'TTFT p95':>10}"
          f"{'vs own 1':>9}")
    for name in clients:
        base = statistics.median(agg[(name, counts[0])])
        for streams in counts:
            rate = statistics.median(agg[(name, streams)])
            print(f"{name:<18}{streams:>8}{rate:>11.1f}"
                  f"{percentile(ttfts[(name, streams)], 0.5) * 1000:>8.0f}ms"
                  f"{percentile(ttfts[(name, streams)], 0.95) * 1000:>8.0f}ms"
                  f"{rate / base:>8.2f}x")
    if "llama.cpp server" in clients:
        print("\nstillroom / llama.cpp server, aggregate:")
        for streams in counts:
            ours = statistics.median(agg[("stillroom", streams)])
            theirs = statistics.median(agg[("llama.cpp server", streams)])
            print(f"  {streams} streams: {ours / theirs:.2f}x")

    idle, busy = fairness(engine, args.slots, args.tokens, args.reps)
    print(f"\nfairness: light owner's TTFT idle {idle * 1000:.0f} ms, while heavy keeps "
          f"{args.slots} in flight {busy * 1000:.0f} ms ({busy / idle:.2f}x; target <= 2x)")
    print(f"load after: {os.getloadavg()[0]:.2f}")
    engine.unload()


if __name__ == "__main__":
    main()
