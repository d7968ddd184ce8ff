"""The bounded queue: while one answer streams and another waits, a third request beyond
`--max-waiting` is told 429 queue_full with Retry-After instead of piling up; the waiting
one is answered once the first client leaves."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import time

import openai
import pytest

from tests.server.conftest import MODEL, ServeProcess

HELLO = [{"role": "user", "content": "Say hello."}]


def _queue_depth(server: ServeProcess) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", server.port)
    connection.request("GET", "/health")
    return json.loads(connection.getresponse().read())["queue_depth"]


def test_a_full_queue_answers_429_and_the_waiting_request_is_served(
        serve: type[ServeProcess]) -> None:
    server = serve("--max-waiting", "1", "--slots", "1")  # one answers, one waits
    body = json.dumps({"model": MODEL, "stream": True, "max_tokens": 400, "temperature": 0,
                       "messages": [{"role": "user", "content":
                                     "Count from 1 to 300, one number per line."}]}).encode()
    streaming = socket.create_connection(("127.0.0.1", server.port))
    streaming.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\n"
                      + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    received = b""
    while b"data: " not in received:
        received += streaming.recv(4096)

    waited: dict[str, object] = {}

    def ask() -> None:
        waited["answer"] = server.client().chat.completions.create(
            model=MODEL, messages=HELLO, max_tokens=2)

    waiter = threading.Thread(target=ask)
    waiter.start()
    while _queue_depth(server) < 2:  # one answering, one waiting
        time.sleep(0.02)  # a pause between polls, not a limit
    with pytest.raises(openai.RateLimitError) as caught:
        server.client().chat.completions.create(model=MODEL, messages=HELLO, max_tokens=2)
    assert caught.value.body["code"] == "queue_full"  # type: ignore[index]
    assert int(caught.value.response.headers["retry-after"]) > 0

    streaming.close()  # the first client leaves: its answer stops, the waiting one runs
    waiter.join()
    assert waited["answer"].usage.completion_tokens > 0  # type: ignore[union-attr]


def test_with_slots_a_second_request_is_answered_while_the_first_streams(
        serve: type[ServeProcess]) -> None:
    """Continuous batching: both are decoded together on one copy of the model, so a short
    question does not wait behind a long answer (with --slots 1 it would)."""
    server = serve("--slots", "2")
    # A long answer (the story runs to max_tokens), cut off by the client below.
    body = json.dumps({"model": MODEL, "stream": True, "max_tokens": 1500, "temperature": 0,
                       "messages": [{"role": "user", "content": "Write a long, detailed "
                                     "story about a lighthouse keeper."}]}).encode()
    streaming = socket.create_connection(("127.0.0.1", server.port))
    streaming.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\n"
                      + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    received = b""
    while received.count(b"data: ") < 3:
        received += streaming.recv(4096)
    short = server.client().chat.completions.create(model=MODEL, messages=HELLO,
                                                    max_tokens=2)
    assert short.usage is not None and short.usage.completion_tokens > 0
    # The long answer is still streaming: the short one did not wait for it to end.
    streaming.settimeout(0)
    with contextlib.suppress(BlockingIOError):
        received += streaming.recv(65536)
    assert b"[DONE]" not in received
    streaming.close()
