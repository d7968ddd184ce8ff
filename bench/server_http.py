"""Concurrent streams over HTTP: `stillroom serve` against llama.cpp's own server, one run.

    .venv/bin/python bench/server_http.py [--tokens 64] [--reps 3] [--streams 1,2,4,8]
                                          [--slots 8]

The HTTP-level version of bench/server_concurrency.py: both servers listen on loopback and
the clients are the official `openai` SDK's asyncio client, streaming with include_usage,
so the figures include everything a user's request goes through (HTTP, auth, the
sensitivity gate, policy, router, audit and ledger writes on our side). llama.cpp's server
is the `xllamacpp` wheel's (`pip install 'stillroom[bench]'`), its HTTP server on a free
port; same GGUF (the embedded model), same threads, same slots and context per slot, same
max tokens, greedy. Each client is its own user on our side (its own key), as different
people would be. Runs are interleaved (which server goes first alternates by repetition);
medians reported.

Aggregate decode tok/s = completion tokens (the usage chunk) of all streams / wall time of
the round. TTFT = from sending the request to the first content delta (p50 / p95)."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openai

from inference.engines.owned_engine import DEFAULT_CONTEXT
from inference.hardware import default_thread_counts
from inference.models.library import embedded_model
from tests.conftest import run_cli
from tests.server.conftest import MODEL, ServeProcess

TOPICS = ["a lighthouse keeper", "a lost robot", "a desert caravan", "a mountain village",
          "a clockmaker", "a deep-sea diver", "an old library", "a winter market"]
NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
_numbers = itertools.count()


def prompt(i: int) -> str:
    """Never the same prompt twice: both servers keep finished prompts' KV."""
    return f"Write a long, detailed story about {TOPICS[i % len(TOPICS)]} (story {i})."


async def one_stream(client: openai.AsyncOpenAI, model: str, tokens: int
                     ) -> tuple[float, int]:
    started = time.perf_counter()
    first = None
    used = 0
    stream = await client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": prompt(next(_numbers))}],
        max_tokens=tokens, temperature=0, stream=True,
        stream_options={"include_usage": True})
    async for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter()
        if chunk.usage is not None:
            used = chunk.usage.completion_tokens
    return (first or time.perf_counter()) - started, used


async def round_of(clients: list[openai.AsyncOpenAI], model: str, streams: int,
                   tokens: int) -> tuple[float, list[float]]:
    started = time.perf_counter()
    results = await asyncio.gather(*(one_stream(clients[i], model, tokens)
                                     for i in range(streams)))
    wall = time.perf_counter() - started
    return sum(used for _ttft, used in results) / wall, [ttft for ttft, _used in results]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start_llama_server(slots: int, threads: int, batch_threads: int) -> object:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = embedded_model().path
    params.n_parallel = slots
    params.n_ctx = slots * DEFAULT_CONTEXT
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = batch_threads
    params.port = 0  # a free one; listening_address says which
    return xllamacpp.Server(params)


def stillroom_keys(home: Path, count: int) -> list[str]:
    keys = []
    for index in range(count):
        added = run_cli("users", "add", f"client{index}", home=home, env=NO_KEYRING)
        if added.returncode != 0:
            raise SystemExit(added.stderr)
        keys.append(added.stdout.strip().splitlines()[-1])
    return keys


async def measure(sides: dict[str, tuple[list[openai.AsyncOpenAI], str]], counts: list[int],
                  tokens: int, reps: int
                  ) -> tuple[dict[tuple[str, int], list[float]],
                             dict[tuple[str, int], list[float]]]:
    for clients, model in sides.values():  # warm-up: first decode pages the weights in
        await round_of(clients, model, 2, 8)
    rates: dict[tuple[str, int], list[float]] = {}
    ttfts: dict[tuple[str, int], list[float]] = {}
    for rep in range(reps):
        order = list(sides) if rep % 2 == 0 else list(reversed(sides))
        for streams in counts:
            for name in order:
                clients, model = sides[name]
                rate, firsts = await round_of(clients, model, streams, tokens)
                rates.setdefault((name, streams), []).append(rate)
                ttfts.setdefault((name, streams), []).extend(firsts)
    return rates, ttfts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--streams", default="1,2,4,8")
    parser.add_argument("--slots", type=int, default=8)
    args = parser.parse_args()
    counts = [int(s) for s in args.streams.split(",")]
    threads, batch_threads = default_thread_counts()
    print(f"model {Path(embedded_model().path).name}, threads {threads}/{batch_threads}, "
          f"slots {args.slots} x {DEFAULT_CONTEXT} ctx, {args.tokens} tokens, {args.reps} "
          f"reps, {os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.2f}")

    with tempfile.TemporaryDirectory(prefix="stillroom-http-") as directory:
        home = Path(directory) / "home"
        keys = stillroom_keys(home, max(counts))
        ours = ServeProcess(home, "--slots", str(args.slots), "--max-waiting",
                            str(max(counts) * 2), env=NO_KEYRING)
        try:
            sides = {"stillroom serve": (
                [openai.AsyncOpenAI(base_url=ours.base_url, api_key=key, max_retries=0,
                                    timeout=600) for key in keys], MODEL)}
            try:
                server = start_llama_server(args.slots, threads, batch_threads)
            except ImportError:
                server = None
                print("xllamacpp is not installed (pip install 'stillroom[bench]'): ours only")
            if server is not None:
                url = f"{server.listening_address}/v1"  # type: ignore[attr-defined]
                sides["llama.cpp server"] = (
                    [openai.AsyncOpenAI(base_url=url, api_key="none", max_retries=0,
                                        timeout=600) for _ in keys], MODEL)
            rates, ttfts = asyncio.run(measure(sides, counts, args.tokens, args.reps))
        finally:
            ours.stop()

    print(f"\n{'server':<18}{'streams':>8}{'agg tok/s':>11}{'TTFT p50':>10}{'TTFT p95':>10}"
          f"{'vs own 1':>9}")
    for name in sides:
        base = statistics.median(rates[(name, counts[0])])
        for streams in counts:
            rate = statistics.median(rates[(name, streams)])
            print(f"{name:<18}{streams:>8}{rate:>11.1f}"
                  f"{percentile(ttfts[(name, streams)], 0.5) * 1000:>8.0f}ms"
                  f"{percentile(ttfts[(name, streams)], 0.95) * 1000:>8.0f}ms"
                  f"{rate / base:>8.2f}x")
    if "llama.cpp server" in sides:
        print("\nstillroom serve / llama.cpp server, aggregate:")
        for streams in counts:
            ours_rate = statistics.median(rates[("stillroom serve", streams)])
            theirs = statistics.median(rates[("llama.cpp server", streams)])
            print(f"  {streams} streams: {ours_rate / theirs:.2f}x")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
