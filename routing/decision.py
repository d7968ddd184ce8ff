"""A routing decision: where one request runs, and the rule and reason that sent it there.

Values only: the router (routing/router.py) makes them, the chat path acts on them, the
audit log records them (routing/audit.py). Nothing here holds prompt text: sensitivity
findings are categories, counts and character offsets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from routing.sensitivity.judge_outcome import JudgeOutcome

Target = Literal["local", "onprem", "cloud"]


@dataclass(frozen=True, slots=True)
class RouteDecision:
    target: Target
    rule: str
    reason: str
    provider: str | None = None     # None for local
    model: str | None = None
    # What the sensitivity gate found in this message (spans are [start, end) offsets).
    sensitive: bool = False         # this message, or the conversation before it
    categories: tuple[str, ...] = ()
    category_counts: tuple[tuple[str, int], ...] = ()
    spans: tuple[tuple[int, int, str], ...] = ()
    # True: the conversation is sensitive from now on; the caller stores this and passes it
    # back as RouteState.conversation_sensitive on every later message.
    sticky: bool = False
    # True: do not answer at all; `reason` says why (sensitive text forced to the cloud with
    # forced_cloud = "refuse", or failover = "none").
    refused: bool = False
    trace: tuple[str, ...] = ()     # each step the router took, for "why?" in the UI
    # The local judge's run (routing/sensitivity/judge.py), when text was about to leave for
    # the cloud; its clause is already in ``reason``. None: no judge ran.
    judge: JudgeOutcome | None = None

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.category_counts)

    @property
    def leaves_machine(self) -> bool:
        return self.target != "local"

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "rule": self.rule, "reason": self.reason,
                "provider": self.provider, "model": self.model, "sensitive": self.sensitive,
                "categories": list(self.categories), "category_counts": self.counts,
                "sticky": self.sticky, "refused": self.refused,
                "judge": self.judge.audit_json() if self.judge is not None else None}

    def explain_json(self) -> dict[str, Any]:
        """The `stillroom route explain --json` object."""
        return {"sensitive": self.sensitive, "categories": list(self.categories),
                "spans": [list(span) for span in self.spans], "target": self.target,
                "provider": self.provider, "rule": self.rule, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class RouteRequest:
    """What the router may look at about one message."""

    text: str
    conversation_id: str | None = None
    # The conversation's pin: "local", "onprem", "cloud" or a provider name.
    pinned_target: str | None = None
    # This message only (`chat --route`): "auto", "local", "onprem", "cloud" or a provider.
    route: str = "auto"
    task: str | None = None          # for [[rules]] task = [...]; the app's label, if any
    # Other text that would be sent along with this message: the system prompt, attached
    # documents. Scanned too (spans refer to ``text`` only). Earlier messages need not be
    # here: the conversation's sticky flag stands for them.
    context: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Spend:
    """Cloud spending so far, from the caller's usage ledger (US dollars)."""

    today_usd: Decimal = Decimal(0)
    month_usd: Decimal = Decimal(0)
    today_by_provider: Mapping[str, Decimal] = field(default_factory=dict)
    month_by_provider: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RouteState:
    """What the router may look at about the world when the message arrives."""

    conversation_sensitive: bool = False  # the sticky flag from earlier decisions
    offline: bool = False                 # offline mode (settings): loopback only
    local_queue_depth: int = 0            # messages waiting for the local model
    spend: Spend = Spend()
    # The most this message could cost at (provider, model): its prompt plus the longest
    # answer allowed, at list price. None, or a None result, when the price is unknown; a
    # budget cap then checks only what was already spent.
    estimate_usd: Callable[[str, str | None], Decimal | None] | None = None
