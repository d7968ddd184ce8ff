"""What one run of the local judge decided (routing/sensitivity/judge.py runs the logic).

A module of its own so that routing.decision can name the type without importing the judge
(which itself works on decisions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["not-sensitive", "sensitive", "timeout", "error", "unparsable", "cancelled"]


@dataclass(frozen=True, slots=True)
class JudgeOutcome:
    """What one judge run decided, how long it took, and with which model."""

    model: str
    status: Status
    latency_s: float
    timeout_s: float
    category: str | None = None
    reason: str = ""          # redacted and capped (redact_reason); for errors, what failed
    windows: int = 1
    load_s: float = 0.0       # loading the judge's model, when this run had to

    @property
    def keeps_local(self) -> bool:
        return self.status != "not-sensitive"

    def explain(self) -> str:
        """One clause for the route's reason and badge: 'judge: not sensitive, 0.4 s'."""
        seconds = f"{self.latency_s:.1f} s"
        loading = f" (+{self.load_s:.1f} s loading {self.model})" if self.load_s >= 0.05 else ""
        if self.status == "not-sensitive":
            return f"judge: not sensitive, {seconds}{loading}"
        if self.status == "sensitive":
            why = f": {self.reason}" if self.reason else ""
            return f"judge: sensitive ({self.category}{why}), {seconds}{loading}: kept local"
        if self.status == "timeout":
            return f"judge timed out after {self.timeout_s:g} s{loading}: kept local"
        if self.status == "cancelled":
            return "judge was stopped before it decided: kept local"
        if self.status == "unparsable":
            return f"judge's answer could not be read ({self.reason}): kept local"
        return f"judge failed ({self.reason}): kept local"

    def audit_json(self) -> dict[str, Any]:
        """The audit record's ``judge`` field: content-free (the reason is redacted)."""
        return {"model": self.model, "verdict": self.status, "category": self.category,
                "reason": self.reason, "latency_s": round(self.latency_s, 3),
                "windows": self.windows}
