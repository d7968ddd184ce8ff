"""The server's Prometheus metrics (GET /metrics), in a registry of its own so that two
servers in one process (tests) do not share counters."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("stillroom_requests", "HTTP requests by path and status",
                                ["path", "status"], registry=self.registry)
        self.answers = Counter("stillroom_answers", "Chat answers by route target",
                               ["target"], registry=self.registry)
        self.tokens = Counter("stillroom_tokens", "Tokens by kind (prompt, completion)",
                              ["kind"], registry=self.registry)
        self.queue_wait = Histogram("stillroom_queue_wait_seconds",
                                    "Time a request waited for a place to be answered",
                                    buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.ttft = Histogram("stillroom_time_to_first_token_seconds",
                              "From the request's arrival to the first token",
                              buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.decode = Histogram("stillroom_decode_seconds",
                                "From the first token to the last",
                                buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.queue_depth = Gauge("stillroom_queue_depth",
                                 "Requests answering or waiting to be answered",
                                 registry=self.registry)

    def text(self) -> bytes:
        return generate_latest(self.registry)
