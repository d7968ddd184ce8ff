"""How busy a replica is, read from what each kind of server already publishes.

- Stillroom (`stillroom serve`): GET /health -> {"queue_depth": n, "slots": s, ...}
- llama.cpp's llama-server: GET /health (200 once the model is loaded, 503 while loading),
  GET /slots -> [{"id": 0, "is_processing": true, ...}, ...] (absent with --no-slots)
- vLLM: GET /health (200, empty body), GET /metrics -> the Prometheus gauges
  vllm:num_requests_running and vllm:num_requests_waiting

A probe never raises: a replica that cannot be read is reported unhealthy, with why. The
standard library's HTTP client, without proxies (replicas are on the office network), is
enough for three small GETs every few seconds."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass

PROBE_TIMEOUT_S = 2.0
_GAUGE = re.compile(r"^vllm:num_requests_(running|waiting)(?:\{[^}]*\})?\s+([0-9.eE+-]+)\s*$",
                    re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Probe:
    healthy: bool
    kind: str  # "stillroom", "llama-server", "vllm", or "openai" (load unknown)
    busy: int | None = None  # requests running or waiting there; None: it does not say
    slots: int | None = None  # requests it decodes at once, where it says
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    text: str

    def json(self) -> object:
        try:
            return json.loads(self.text)
        except ValueError:
            return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str, headers: dict[str, str]) -> _Reply:
    """GET; an HTTP error status is a reply, not an exception. Raises OSError when the
    replica cannot be reached (offline mode refuses anything but loopback the same way)."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with _OPENER.open(request, timeout=PROBE_TIMEOUT_S) as response:
            return _Reply(response.status, response.read(1 << 20).decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        with exc:
            return _Reply(exc.code, exc.read(1 << 16).decode("utf-8", "replace"))


def probe(base: str, key: str | None) -> Probe:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        health = _get(f"{base}/health", headers)
    except (OSError, ValueError) as exc:
        return Probe(False, "unknown", problem=f"unreachable ({_why(exc)})")
    if health.status != 200:
        return Probe(False, "unknown", problem=f"/health answered {health.status}")
    # /health is public on every kind; the models list is not where keys are asked, so a
    # key the replica refuses shows here, not on the next user's request.
    refused = _refuses_key(base, headers)
    if refused:
        return Probe(False, "unknown", problem=refused)
    body = health.json()
    if isinstance(body, dict) and "queue_depth" in body:
        if body.get("model_loaded") is False:
            return Probe(False, "stillroom", problem="its model is not loaded")
        return Probe(True, "stillroom", busy=_count(body.get("queue_depth")),
                     slots=_count(body.get("slots")))
    slots = _llama_slots(base, headers)
    if slots is not None:
        return Probe(True, "llama-server", busy=slots[0], slots=slots[1])
    running = _vllm_running(base, headers)
    if running is not None:
        return Probe(True, "vllm", busy=running)
    return Probe(True, "openai")


def _refuses_key(base: str, headers: dict[str, str]) -> str | None:
    try:
        response = _get(f"{base}/v1/models", headers)
    except (OSError, ValueError) as exc:
        return f"/v1/models unreachable ({_why(exc)})"
    if response.status in (401, 403):
        return ("it refused the front's key" if headers else
                "it asks for a key and the front holds none")
    return None


def _llama_slots(base: str, headers: dict[str, str]) -> tuple[int, int] | None:
    try:
        response = _get(f"{base}/slots", headers)
    except (OSError, ValueError):
        return None
    listed = response.json() if response.status == 200 else None
    if not isinstance(listed, list) or not all(isinstance(s, dict) for s in listed):
        return None
    return sum(1 for s in listed if s.get("is_processing")), len(listed)


def _vllm_running(base: str, headers: dict[str, str]) -> int | None:
    try:
        response = _get(f"{base}/metrics", headers)
    except (OSError, ValueError):
        return None
    if response.status != 200:
        return None
    found = _GAUGE.findall(response.text)
    if not found:
        return None
    # One line per model (label model_name); the replica's load is all of them.
    return int(sum(float(value) for _kind, value in found))


def _why(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)  # URLError wraps the socket's error
    return f"{type(reason or exc).__name__}: {reason or exc}"


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 \
        else None
