"""The router: a pure function from a request to a RouteDecision.

Until cloud providers exist (the routing issue), every request runs locally; the decision
still names its rule and reason so each surface shows and records the same explanation.
"""

from __future__ import annotations

from routing.decision import RouteDecision, RouteRequest


class Router:
    def decide(self, request: RouteRequest, *, local_model: str) -> RouteDecision:
        return RouteDecision(
            target="local",
            rule="local-only",
            reason="no cloud or on-premises provider is configured",
            model=local_model,
        )
