"""The front server's turn parts: the opened Services with the replicas standing in for
the local engines (app/server/replicas.py says why)."""

from __future__ import annotations

from typing import Any

from app.server.replica_engine import ReplicaEngine
from app.server.replicas import ReplicaPool
from inference.engines.types import ModelInfo


class ReplicaEngines:
    """What the turn path asks of the engine manager, answered by the pool: every model is
    "loaded" (on the replicas), and the local queue is the requests open on them."""

    def __init__(self, pool: ReplicaPool) -> None:
        self.pool = pool

    def engine_for(self, model: ModelInfo) -> ReplicaEngine:
        return ReplicaEngine(model, self.pool)

    def queue_depth(self, _model_id: str | None = None) -> int:
        return self.pool.open_requests()

    def loaded(self) -> list[ModelInfo]:
        return []


class FrontParts:
    """The front server's turn parts: the opened Services in every way but the engines."""

    def __init__(self, services: object, pool: ReplicaPool) -> None:
        self._services = services
        self.engines = ReplicaEngines(pool)

    def __getattr__(self, name: str) -> Any:
        # Read through at each turn, as ChatService expects (a reloaded router applies).
        return getattr(self._services, name)
