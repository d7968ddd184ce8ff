"""A real OpenAI-compatible HTTP server on 127.0.0.1 that stands in for a cloud provider.

It speaks the chat-completions streaming protocol (SSE over chunked HTTP/1.1), records every
request it receives (path, headers, JSON body), and plays a script of behaviours, one per
request: a normal answer, 429 with Retry-After, 5xx, 401 that echoes the key back (as some
providers do), a slow response, a stream cut mid-answer (dirty: connection dropped inside
the chunked body; clean: the body ends without a finish_reason), a server that rejects
``stream_options``, and one that ignores it.

    with FakeOpenAIServer() as server:
        server.script(RateLimited(retry_after="2"), Reply("Hello"))
        provider = make_provider("fake", base_url=server.base_url)
        ...
        server.requests[0].body["messages"]

Only loopback: it binds 127.0.0.1 and nothing else.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    text: str = "Hello from the fake cloud."
    pieces: int = 4              # how many deltas the text is split into
    finish_reason: str = "stop"
    honour_usage: bool = True    # send the usage chunk when stream_options asks for it


@dataclass(frozen=True)
class RateLimited:
    retry_after: str | None = "1"
    retry_after_ms: str | None = None


@dataclass(frozen=True)
class ServerError:
    status: int = 500


@dataclass(frozen=True)
class AuthFailed:
    status: int = 401
    echo_key: bool = True        # put the received key in the error message


@dataclass(frozen=True)
class Slow:
    """Wait before answering (longer than the client's timeout), then answer."""

    delay_s: float = 30.0
    then: Reply = field(default_factory=Reply)


@dataclass(frozen=True)
class CutMidAnswer:
    text_before: str = "The first half of an answer"
    dirty: bool = True           # True: drop the connection inside the chunked body


@dataclass(frozen=True)
class RejectStreamOptions:
    then: Reply = field(default_factory=Reply)


@dataclass(frozen=True)
class ErrorEvent:
    """An error object sent as an SSE event after some text (or before any)."""

    text_before: str = ""
    message: str = "The model is overloaded."


Plan = Reply | RateLimited | ServerError | AuthFailed | Slow | CutMidAnswer | \
    RejectStreamOptions | ErrorEvent


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes

    @property
    def user_texts(self) -> list[str]:
        if not isinstance(self.body, dict):
            return []
        return [m.get("content", "") for m in self.body.get("messages", [])]


class FakeOpenAIServer:
    def __init__(self, default: Plan | None = None) -> None:
        self.requests: list[RecordedRequest] = []
        self.default = default or Reply()
        self._plans: deque[Plan] = deque()
        self._lock = threading.Lock()
        self.release = threading.Event()  # ends every Slow wait (set on stop)
        self._server = _QuietServer(("127.0.0.1", 0), _Handler)
        self._server.fake = self  # type: ignore[attr-defined]
        # A short poll interval: shutdown() waits up to one interval.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True)

    # ------------------------------------------------------------------ control

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    def script(self, *plans: Plan) -> None:
        with self._lock:
            self._plans.extend(plans)

    def push_front(self, plan: Plan) -> None:
        with self._lock:
            self._plans.appendleft(plan)

    def next_plan(self) -> Plan:
        with self._lock:
            return self._plans.popleft() if self._plans else self.default

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def everything_received(self) -> str:
        """All request bytes as text, for leak checks."""
        with self._lock:
            return "\n".join(r.raw.decode("utf-8", "replace") + "\n" + json.dumps(r.headers)
                             for r in self.requests)

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, cancel) makes our writes fail; that is the test.
        pass


def _sse(data: Any) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    return f"data: {text}\n\n".encode()


def _delta_event(model: str, *, content: str | None = None, finish: str | None = None,
                 role: str | None = None) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if role:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1,
            "model": model, "choices": [{"index": 0, "delta": delta,
                                         "finish_reason": finish, "logprobs": None}]}


def _split(text: str, pieces: int) -> list[str]:
    size = max(1, -(-len(text) // max(1, pieces)))
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # chunked transfer, as real providers stream

    def setup(self) -> None:
        super().setup()
        # Small SSE writes would otherwise wait on Nagle's algorithm and delayed ACKs.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    @property
    def fake(self) -> FakeOpenAIServer:
        return self.server.fake  # type: ignore[attr-defined]

    def _record(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
        self.fake.record(RecordedRequest(self.command, self.path, dict(self.headers.items()),
                                         body, raw))
        return body

    def do_GET(self) -> None:
        self._record()
        self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    def do_POST(self) -> None:
        body = self._record()
        if not self.path.endswith("/chat/completions") or not isinstance(body, dict):
            self._json(404, {"error": {"message": f"no route {self.path}"}})
            return
        plan = self.fake.next_plan()
        model = body.get("model", "fake-model")
        wants_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        if isinstance(plan, RateLimited):
            headers = {}
            if plan.retry_after is not None:
                headers["Retry-After"] = plan.retry_after
            if plan.retry_after_ms is not None:
                headers["retry-after-ms"] = plan.retry_after_ms
            self._json(429, {"error": {"message": "Rate limit reached for requests",
                                       "type": "requests", "code": "rate_limit_exceeded"}},
                       headers)
        elif isinstance(plan, ServerError):
            self._json(plan.status, {"error": {"message": "The server had an error while "
                                               "processing your request."}})
        elif isinstance(plan, AuthFailed):
            key = self.headers.get("Authorization", "").removeprefix("Bearer ")
            shown = key if plan.echo_key else "***"
            self._json(plan.status, {"error": {"message": f"Incorrect API key provided: "
                                               f"{shown}.", "code": "invalid_api_key"}})
        elif isinstance(plan, Slow):
            self.fake.release.wait(plan.delay_s)
            self._stream_reply(plan.then, model, wants_usage)
        elif isinstance(plan, RejectStreamOptions):
            if "stream_options" in body:
                self.fake.push_front(plan)  # the same server answers the plain retry
                self._json(400, {"error": {"message": "Unrecognized request argument "
                                           "supplied: stream_options"}})
            else:
                self._stream_reply(plan.then, model, wants_usage)
        elif isinstance(plan, CutMidAnswer):
            self._start_stream()
            self._chunk(_sse(_delta_event(model, role="assistant", content="")))
            for piece in _split(plan.text_before, 3):
                self._chunk(_sse(_delta_event(model, content=piece)))
            if plan.dirty:
                self.wfile.flush()
                self.close_connection = True  # no terminating chunk: a truncated body
                return
            self._end_stream()
        elif isinstance(plan, ErrorEvent):
            self._start_stream()
            if plan.text_before:
                self._chunk(_sse(_delta_event(model, content=plan.text_before)))
            self._chunk(_sse({"error": {"message": plan.message, "type": "server_error"}}))
            self._end_stream()
        else:
            self._stream_reply(plan, model, wants_usage)

    # ------------------------------------------------------------------ writing

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _stream_reply(self, plan: Reply, model: str, wants_usage: bool) -> None:
        self._start_stream()
        self._chunk(_sse(_delta_event(model, role="assistant", content="")))
        pieces = _split(plan.text, plan.pieces)
        for piece in pieces:
            self._chunk(_sse(_delta_event(model, content=piece)))
        self._chunk(_sse(_delta_event(model, finish=plan.finish_reason)))
        if wants_usage and plan.honour_usage:
            self._chunk(_sse({"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                              "created": 1, "model": model, "choices": [],
                              "usage": {"prompt_tokens": 11, "completion_tokens": len(pieces),
                                        "total_tokens": 11 + len(pieces)}}))
        self._chunk(_sse("[DONE]"))
        self._end_stream()
