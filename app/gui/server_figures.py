"""Live figures of a running office server, read where they are kept (Qt-free: it runs on a
background thread of the Server tab).

- /health (open to all): model loaded, queue depth.
- /metrics (open while the server has no users; an admin key otherwise): requests and
  tokens counters, turned into requests per minute and tokens per second by comparing two
  readings. With users and no admin key at hand, the same figures come from the ledger's
  rows that name an office user (every served request with users is such a row).
- Per-user usage today from the ledger (UserStore.usage), like `stillroom users usage`.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import ssl
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.store.ledger import as_utc
from app.store.schema import Usage
from app.store.server_users import UserStore, UserUsage

WINDOW_S = 60.0
CHAT_PATH = "/v1/chat/completions"


@dataclass(frozen=True, slots=True)
class Counters:
    at: float  # time.monotonic() of the reading
    requests: float  # chat requests answered so far (any status)
    completion_tokens: float


@dataclass(frozen=True, slots=True)
class Figures:
    ready: bool
    queue_depth: int | None
    requests_per_min: float | None
    tokens_per_s: float | None
    source: str  # "metrics" or "ledger": where the two rates came from
    usage_today: dict[str, UserUsage] = field(default_factory=dict)
    problem: str = ""


class ServerProbe:
    """Reads a server at `root` (http[s]://127.0.0.1:PORT). For https the certificate is
    checked against the fingerprint the server printed, not against a CA (self-signed)."""

    def __init__(self, root: str, engine: Engine, *, fingerprint: str | None = None,
                 started: datetime | None = None) -> None:
        self.root = root
        self.engine = engine
        self.fingerprint = (fingerprint or "").replace(":", "").lower() or None
        self.started = started or datetime.now(UTC)
        self.readings: deque[Counters] = deque()

    def _get(self, path: str) -> tuple[int, str]:
        parts = urlsplit(self.root)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        if parts.scheme == "https":
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # pinned below instead
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                host, port, timeout=5, context=context)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=5)
        try:
            connection.request("GET", path)
            if isinstance(connection, http.client.HTTPSConnection) and self.fingerprint:
                der = connection.sock.getpeercert(binary_form=True)  # type: ignore[union-attr]
                if hashlib.sha256(der or b"").hexdigest() != self.fingerprint:
                    raise ValueError("the server's certificate is not the one it printed")
            response = connection.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            connection.close()

    def read(self) -> Figures:
        try:
            status, body = self._get("/health")
            health = json.loads(body) if status == 200 else {}
        except (OSError, ValueError) as exc:
            return Figures(False, None, None, None, "", self.usage_today(),
                           problem=f"The server does not answer: {exc}")
        metrics = self._metrics()
        if metrics is not None:
            self.readings.append(metrics)
            while len(self.readings) > 2 and metrics.at - self.readings[0].at > WINDOW_S:
                self.readings.popleft()
            requests, tokens = self._rates()
            source = "metrics"
        else:
            requests, tokens = self._ledger_rates()
            source = "ledger"
        return Figures(bool(health.get("model_loaded")), health.get("queue_depth"), requests,
                       tokens, source, self.usage_today())

    def _metrics(self) -> Counters | None:
        try:
            status, body = self._get("/metrics")
        except (OSError, ValueError):
            return None
        if status != 200:
            return None  # users exist and we hold no admin key: the ledger answers
        requests = tokens = 0.0
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                if sample.name == "stillroom_requests_total" \
                        and sample.labels.get("path") == CHAT_PATH:
                    requests += sample.value
                elif sample.name == "stillroom_tokens_total" \
                        and sample.labels.get("kind") == "completion":
                    tokens += sample.value
        return Counters(time.monotonic(), requests, tokens)

    def _rates(self) -> tuple[float | None, float | None]:
        if len(self.readings) < 2:
            return None, None
        first, last = self.readings[0], self.readings[-1]
        span = last.at - first.at
        if span <= 0:
            return None, None
        return ((last.requests - first.requests) * 60 / span,
                (last.completion_tokens - first.completion_tokens) / span)

    def _ledger_rates(self) -> tuple[float, float]:
        """Office users' answers in the last minute (since the start, if that is later):
        how many, and their tokens over the time they had."""
        since = max(self.started, datetime.now(UTC) - timedelta(seconds=WINDOW_S))
        span = max(1.0, (datetime.now(UTC) - since).total_seconds())
        with Session(self.engine) as session:
            count, tokens = session.execute(
                select(func.count(Usage.id), func.coalesce(func.sum(Usage.completion_tokens), 0))
                .where(Usage.user.is_not(None), Usage.created_at >= as_utc(since))).one()
        return float(count), int(tokens) / span

    def usage_today(self) -> dict[str, UserUsage]:
        users = UserStore(self.engine)
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return {user.name: users.usage(user.name, midnight) for user in users.list()}
