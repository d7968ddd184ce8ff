"""ASGI middleware: the request-body size limit (413) and the per-path request counter.

Plain ASGI rather than Starlette's BaseHTTPMiddleware, which would sit between a streamed
answer and the client and hide a disconnect from the route."""

from __future__ import annotations

import json
from typing import Any

from app.server.metrics import ServerMetrics

Scope = dict[str, Any]
Message = dict[str, Any]


class BodyTooLargeError(Exception):
    pass


class LimitsMiddleware:
    def __init__(self, app: Any, *, max_body_bytes: int, metrics: ServerMetrics,
                 known_paths: frozenset[str]) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics
        self.known_paths = known_paths

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"] if scope["path"] in self.known_paths else "other"
        status = {"code": 500}

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        declared = dict(scope.get("headers") or []).get(b"content-length")
        try:
            if declared is not None and int(declared) > self.max_body_bytes:
                await self._too_large(counting_send)
            else:
                await self.app(scope, self._limited(receive), counting_send)
        except BodyTooLargeError:
            await self._too_large(counting_send)
        finally:
            self.metrics.requests.labels(path, str(status["code"])).inc()

    def _limited(self, receive: Any) -> Any:
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLargeError
            return message

        return limited_receive

    async def _too_large(self, send: Any) -> None:
        body = json.dumps({"error": {
            "message": f"The request body is larger than {self.max_body_bytes} bytes; send "
                       f"less history or a shorter message.",
            "type": "invalid_request_error", "param": None,
            "code": "request_too_large"}}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
