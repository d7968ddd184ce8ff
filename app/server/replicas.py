"""More than one box: `stillroom serve --replica URL ...` answers every request on the
least-busy healthy replica (other Stillroom servers, llama.cpp's llama-server, or vLLM),
while the users, quotas, audit log and ledger stay in this, the front server's, store.

The replicas stand in for the local engine of the front's turn path (ChatService): the
sensitivity gate, policy, router, audit and ledger run here as for any local answer, and
only the decoding happens on a replica. Each replica is called with a key the front keeps
in the OS keyring under ``replica_key_name(url)`` (`stillroom keys set NAME`; the
environment variable STILLROOM_KEY_<NAME> overrides it); with none set, requests go without
a key, which a replica with users refuses (401), and the front then skips it."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from app.server.replica_health import Probe, probe

if TYPE_CHECKING:
    from routing.keys import KeyStore

# How often every replica's health and load are read; between reads, the front's own count
# of the requests it has open on each replica keeps the choice current.
PROBE_INTERVAL_S = 2.0
CONNECT_TIMEOUT_S = 5.0
ANSWER_TIMEOUT_S = 600.0  # between two bytes of an answer; a long prefill on a busy box


class ReplicaError(ValueError):
    """A replica URL or setting that cannot be used; the message names it and the fix."""


def normalize_url(text: str) -> str:
    """``http(s)://host[:port][/prefix]`` without a trailing ``/`` or ``/v1``."""
    url = text.strip().rstrip("/")
    url = url.removesuffix("/v1")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ReplicaError(f"--replica {text}: not an http(s) URL; give one like "
                           f"http://10.0.0.5:8080 (the replica's base, /v1 optional).")
    if parts.query or parts.fragment:
        raise ReplicaError(f"--replica {text}: a replica URL has no ?query or #fragment.")
    return url


def replica_key_name(url: str) -> str:
    """The keyring name of the key for this replica: ``replica-<host>-<port>``, in the
    characters a key name may hold (at most 32)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = re.sub(r"[^a-z0-9]+", "-", (parts.hostname or "").lower()).strip("-")
    return f"replica-{host[:17]}-{port}".replace("--", "-")


@dataclass
class Replica:
    url: str
    key: str | None
    kind: str = "unknown"
    healthy: bool = False
    busy: int = 0  # what it last reported (other fronts' requests included)
    slots: int = 1
    open: int = 0  # requests this front has open on it now
    sent: int = 0  # requests this front sent it in all (spreads ties)
    problem: str | None = "not probed yet"
    checked_at: float = field(default=0.0)
    sdk: Any = field(default=None, repr=False)  # its openai.OpenAI client (connection pool)

    @property
    def load(self) -> float:
        """Busy share of its slots; our own open requests count even before its next
        report shows them."""
        return max(self.busy, self.open) / max(self.slots, 1)

    def describe(self) -> str:
        state = f"{self.kind}, {self.open} open" if self.healthy \
            else f"unhealthy: {self.problem}"
        return f"{self.url} ({state})"


class ReplicaPool:
    """The replicas, their health (probed every PROBE_INTERVAL_S on a daemon thread, and
    marked down at once when a request to one fails) and the choice between them."""

    def __init__(self, urls: Sequence[str], keys: dict[str, str | None]) -> None:
        if not urls:
            raise ReplicaError("no replicas given.")
        self._lock = threading.Lock()
        import openai

        self.replicas = [Replica(url=url, key=keys.get(url)) for url in urls]
        for replica in self.replicas:
            # No retries: a failure moves the request to another replica instead.
            replica.sdk = openai.OpenAI(
                base_url=f"{replica.url}/v1", api_key=replica.key or "none", max_retries=0,
                timeout=openai.Timeout(ANSWER_TIMEOUT_S, connect=CONNECT_TIMEOUT_S))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Probe every replica once now (the first request should not guess), then keep
        probing in the background."""
        self.probe_all()
        self._thread = threading.Thread(target=self._probe_loop, name="replica-probe",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=PROBE_INTERVAL_S * 3)
        for replica in self.replicas:
            replica.sdk.close()

    def _probe_loop(self) -> None:
        while not self._stop.wait(PROBE_INTERVAL_S):
            self.probe_all()

    def probe_all(self) -> None:
        for replica in self.replicas:
            self._apply(replica, probe(replica.url, replica.key))

    def _apply(self, replica: Replica, found: Probe) -> None:
        with self._lock:
            replica.healthy, replica.problem = found.healthy, _hinted(replica, found.problem)
            replica.checked_at = time.monotonic()
            if found.healthy:
                replica.kind = found.kind
                replica.busy = found.busy if found.busy is not None else replica.open
                replica.slots = found.slots or replica.slots

    def candidates(self) -> list[Replica]:
        """Healthy replicas, least busy first (ties: the one sent fewest requests)."""
        with self._lock:
            healthy = [r for r in self.replicas if r.healthy]
            return sorted(healthy, key=lambda r: (r.load, r.sent))

    def begin(self, replica: Replica) -> None:
        with self._lock:
            replica.open += 1
            replica.sent += 1
            replica.busy += 1  # its report counts ours too, from the next probe on

    def end(self, replica: Replica) -> None:
        # The last report may have counted this request; it is gone now, so a stale report
        # must not keep the replica looking busier than an idle one until the next probe.
        with self._lock:
            replica.open -= 1
            replica.busy = max(0, replica.busy - 1)

    def mark_down(self, replica: Replica, problem: str) -> None:
        """A request to it failed: skip it until a probe finds it well again."""
        with self._lock:
            replica.healthy, replica.problem = False, _hinted(replica, problem)

    def any_healthy(self) -> bool:
        with self._lock:
            return any(r.healthy for r in self.replicas)

    def open_requests(self) -> int:
        with self._lock:
            return sum(r.open for r in self.replicas)

    def status(self) -> list[dict[str, object]]:
        """Each replica as GET /health shows it (admins, the GUI's Server tab)."""
        with self._lock:
            return [{"url": r.url, "kind": r.kind, "healthy": r.healthy, "busy": r.busy,
                     "slots": r.slots, "open": r.open, "problem": r.problem}
                    for r in self.replicas]

    def summary(self) -> str:
        with self._lock:
            return "; ".join(r.describe() for r in self.replicas)


def _hinted(replica: Replica, problem: str | None) -> str | None:
    if problem and "key" in problem:
        return f"{problem}; `stillroom keys set {replica_key_name(replica.url)}` stores it"
    return problem


def replica_keys(urls: Sequence[str], keys: KeyStore) -> dict[str, str | None]:
    """Each replica's key from the keyring (or its environment override); None where none
    is set or no keyring is usable."""
    from routing.keys import KeyringUnavailableError

    found: dict[str, str | None] = {}
    for url in urls:
        try:
            found[url] = keys.get(replica_key_name(url))
        except KeyringUnavailableError:
            found[url] = None
    return found


def describe_keys(urls: Sequence[str], keys: dict[str, str | None]) -> Iterator[str]:
    for url in urls:
        name = replica_key_name(url)
        yield (f"replica {url}: called with the key `{name}`" if keys.get(url) else
               f"replica {url}: no key set (a replica with users will refuse; "
               f"`stillroom keys set {name}` stores one)")
