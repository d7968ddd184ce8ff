"""A loopback load run against `stillroom serve`: concurrent clients of the official `openai`
SDK (its asyncio client), each sending short chat requests, half of them streamed. Shared by
tests/server/test_load.py (bounded by a request count) and bench/server_load.py (bounded by
time, run by hand)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import openai
import psutil

ASK = [{"role": "user", "content": "Name a colour."}]


@dataclass
class LoadResult:
    statuses: Counter[int] = field(default_factory=Counter)
    # (user, prompt tokens, completion tokens) of each answered request, from its response.
    usage: list[tuple[str, int, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # anything neither 200 nor 429
    peak_rss: int = 0
    seconds: float = 0.0

    def tokens_by_user(self) -> dict[str, tuple[int, int]]:
        sums: dict[str, tuple[int, int]] = {}
        for user, prompt, completion in self.usage:
            before = sums.get(user, (0, 0))
            sums[user] = (before[0] + prompt, before[1] + completion)
        return sums


async def _one(client: openai.AsyncOpenAI, model: str, user: str, stream: bool,
               max_tokens: int, result: LoadResult) -> None:
    try:
        if stream:
            chunks = await client.chat.completions.create(
                model=model, messages=ASK, max_tokens=max_tokens, stream=True,
                stream_options={"include_usage": True})
            usage = None
            async for chunk in chunks:
                usage = chunk.usage or usage
        else:
            usage = (await client.chat.completions.create(
                model=model, messages=ASK, max_tokens=max_tokens)).usage
    except openai.RateLimitError:
        result.statuses[429] += 1
        return
    except openai.APIStatusError as exc:
        result.statuses[exc.status_code] += 1
        result.errors.append(f"{exc.status_code}: {exc.message}")
        return
    except openai.APIConnectionError as exc:
        result.statuses[0] += 1
        result.errors.append(f"connection: {exc}")
        return
    result.statuses[200] += 1
    if usage is None:
        result.errors.append("an answer without usage")
        return
    result.usage.append((user, usage.prompt_tokens, usage.completion_tokens))


async def _sample_rss(pid: int, result: LoadResult, done: asyncio.Event) -> None:
    process = psutil.Process(pid)
    while not done.is_set():
        result.peak_rss = max(result.peak_rss, process.memory_info().rss)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 0.2)


async def run_load(base_url: str, model: str, keys: dict[str, str], *, clients: int,
                   server_pid: int, max_tokens: int = 8, requests: int | None = None,
                   seconds: float | None = None) -> LoadResult:
    """``clients`` concurrent clients, shared round-robin among ``keys`` (user -> key),
    until ``requests`` were sent in all or ``seconds`` passed."""
    result = LoadResult()
    numbers = itertools.count()
    began = time.monotonic()
    more: Callable[[int], bool] = (
        (lambda n: n < requests) if requests is not None
        else (lambda _n: time.monotonic() - began < (seconds or 0)))
    users = list(keys)
    sdks = {user: openai.AsyncOpenAI(base_url=base_url, api_key=keys[user] or "none",
                                     max_retries=0, timeout=600) for user in users}

    async def client(index: int) -> None:
        user = users[index % len(users)]
        while more(n := next(numbers)):
            await _one(sdks[user], model, user, stream=n % 2 == 0, max_tokens=max_tokens,
                       result=result)

    done = asyncio.Event()
    sampler = asyncio.create_task(_sample_rss(server_pid, result, done))
    try:
        await asyncio.gather(*(client(i) for i in range(clients)))
    finally:
        done.set()
        await sampler
        for sdk in sdks.values():
            await sdk.close()
    result.seconds = time.monotonic() - began
    return result
