"""A routing decision: where one request runs, and the rule and reason that sent it there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Target = Literal["local", "onprem", "cloud"]


@dataclass(frozen=True, slots=True)
class RouteDecision:
    target: Target
    rule: str
    reason: str
    provider: str | None = None
    model: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"target": self.target, "rule": self.rule, "reason": self.reason,
                "provider": self.provider, "model": self.model}


@dataclass(frozen=True, slots=True)
class RouteRequest:
    """What the router may look at: the new message and the conversation's pinned state."""

    text: str
    conversation_id: str | None = None
    pinned_target: Target | None = None
