"""A long streamed answer held open on a raw socket: the server is decoding while a test
does something else (kills it, sends other requests, reads its load)."""

from __future__ import annotations

import json
import socket

from tests.server.conftest import MODEL

# Greedy, the embedded model writes this for well over 400 tokens (a counting prompt ends
# after about 120), so the answer is still running while a test looks.
LONG = "Write a long, detailed story about a lighthouse keeper, in ten chapters."


def open_long_stream(port: int, key: str | None, tokens: int) -> socket.socket:
    """Start a long streamed answer and return once ``tokens`` content events arrived; the
    socket stays open and the server goes on decoding (until max_tokens, or it is closed)."""
    body = json.dumps({"model": MODEL, "stream": True, "max_tokens": 400, "temperature": 0,
                       "messages": [{"role": "user", "content": LONG}]}).encode()
    sock = socket.create_connection(("127.0.0.1", port))
    auth = f"Authorization: Bearer {key}\r\n".encode() if key else b""
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Type: application/json\r\n" + auth
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    received = b""
    while received.count(b"data: ") < tokens + 1:  # the role chunk, then the tokens
        more = sock.recv(4096)
        if not more:
            sock.close()
            raise AssertionError(f"the server closed the stream early: {received!r}")
        received += more
    return sock
