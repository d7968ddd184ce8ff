"""`stillroom serve` with an MLX model: loaded batched (BatchedMlxEngine, mlx-lm's
BatchGenerator on MLX's CPU backend here) and answering the official `openai` SDK."""

from __future__ import annotations

import http.client
import json
import threading
import time
from pathlib import Path

from inference.models.library import ModelLibrary
from tests.conftest import requires_mlx
from tests.server.conftest import ServeProcess

pytestmark = requires_mlx
QUESTIONS = ["Say hello.", "What is the capital of France?", "List three fruits."]


def test_an_mlx_model_served_batched_answers_concurrent_sdk_clients(
        serve: type[ServeProcess], stillroom_home: Path, mlx_4bit_dir: Path) -> None:
    model = ModelLibrary(stillroom_home).register(mlx_4bit_dir).id
    # Three slots: serve keeps one open for other users, and without users every request is
    # the same owner's, so two of them run at once.
    server = serve("--model", model, "--slots", "3")
    client = server.client()
    assert model in [m.id for m in client.models.list()]

    streamed: dict[int, list] = {}
    errors: list[BaseException] = []

    def ask(index: int) -> None:
        try:
            streamed[index] = list(client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": QUESTIONS[index]}],
                max_tokens=8, temperature=0, stream=True,
                stream_options={"include_usage": True}))
        except BaseException as exc:
            errors.append(exc)

    # Three streams, two running at once: one waits for a slot, all are answered.
    threads = [threading.Thread(target=ask, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    texts = []
    for index in range(3):
        chunks = streamed[index]
        texts.append("".join(c.choices[0].delta.content or "" for c in chunks if c.choices))
        finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
        assert finishes[-1] in ("stop", "length") and all(f is None for f in finishes[:-1])
        usage = chunks[-1].usage
        assert usage is not None and 0 < usage.completion_tokens <= 8
    assert all(text.strip() for text in texts) and len(set(texts)) == 3

    # Greedy: the same question alone gives the answer it got beside the others.
    alone = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": QUESTIONS[1]}], max_tokens=8,
        temperature=0)
    assert alone.choices[0].message.content == texts[1]
    assert alone.usage is not None and alone.usage.completion_tokens <= 8

    connection = http.client.HTTPConnection("127.0.0.1", server.port)
    connection.request("GET", "/health")
    health = json.loads(connection.getresponse().read())
    assert (health["model"], health["model_loaded"], health["queue_depth"]) == (model, True, 0)

    # Decoded together: a short question is answered while a long answer goes on streaming
    # (one request at a time, as the single-stream MlxEngine answers, it would wait for the
    # long one to end: every chunk of that would have arrived before the short answer).
    long_stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Write a long story."}],
        max_tokens=400, temperature=0, stream=True)
    arrivals: list[float] = []
    short_done = threading.Event()

    def read_long() -> None:
        for _chunk in long_stream:
            arrivals.append(time.perf_counter())
            if short_done.is_set():
                break
        long_stream.close()  # the client leaves: the server cancels the answer

    reader = threading.Thread(target=read_long)
    reader.start()
    while len(arrivals) < 3 and reader.is_alive():
        time.sleep(0.05)
    short = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": QUESTIONS[0]}], max_tokens=2)
    answered_at = time.perf_counter()
    short_done.set()
    reader.join()
    assert short.usage is not None and short.usage.completion_tokens > 0
    assert arrivals[-1] > answered_at
