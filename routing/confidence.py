"""How sure was the local model? A per-answer score from token log-probabilities, and a
threshold calibrated on the user's own past answers.

The score is a low quantile (p10 by default) of the answer's per-token log-probabilities:
a mean hides the few tokens where the model was guessing, a minimum is one token's noise,
and a low quantile says "a tenth of this answer was written with at most this much
confidence". The engine supplies the values when asked (``GenerationRequest(logprobs=True)``
gives ``Chunk.logprobs``).

What counts as "low" depends on the model and on what the user asks, so the threshold is a
percentile of the scores of the user's own history (the caller keeps those scores, for
example in the usage table): with the default 10th percentile, the least confident tenth of
answers escalate. Until there is enough history there is no threshold, unless the policy sets
a fixed fallback, and nothing escalates: no surprise cloud bills from an uncalibrated guess.

Pure functions; nothing here stores anything.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

# A token the model thought impossible (-inf) still has to fit in a quantile.
LOGPROB_FLOOR = -100.0


class HasLogprob(Protocol):
    logprob: float


@dataclass(frozen=True, slots=True)
class EscalationConfig:
    """The [escalation] section of the policy."""

    enabled: bool = False
    target: str = "cloud"             # "cloud", "onprem" or a provider name
    model: str | None = None          # None: the target provider's default model
    quantile: float = 0.10            # which low quantile of token logprobs scores an answer
    history_percentile: float = 10.0  # threshold = this percentile of past answers' scores
    min_history: int = 20             # scores needed before the threshold exists
    fallback_threshold: float | None = None  # used until then; None: no escalation yet
    min_tokens: int = 8               # shorter answers are not scored (too few to judge)

    def __post_init__(self) -> None:
        if not 0 < self.quantile < 1:
            raise ValueError("escalation.quantile must be between 0 and 1 (e.g. 0.1)")
        if not 0 < self.history_percentile < 100:
            raise ValueError("escalation.history_percentile must be between 0 and 100")
        if self.min_history < 1 or self.min_tokens < 1:
            raise ValueError("escalation.min_history and min_tokens must be at least 1")


@dataclass(frozen=True, slots=True)
class Threshold:
    value: float | None   # None: not calibrated yet (and no fallback)
    basis: str            # "history", "fallback" or "uncalibrated"
    history_size: int


@dataclass(frozen=True, slots=True)
class ConfidenceVerdict:
    escalate: bool
    score: float | None       # the answer's low-quantile logprob; None when not scored
    threshold: float | None
    tokens: int
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"escalate": self.escalate, "score": self.score, "threshold": self.threshold,
                "tokens": self.tokens, "reason": self.reason}


def _values(logprobs: Iterable[float | HasLogprob]) -> list[float]:
    values = []
    for item in logprobs:
        value = float(item if isinstance(item, int | float) else item.logprob)
        if math.isnan(value):
            continue
        values.append(max(LOGPROB_FLOOR, min(0.0, value)))
    return values


def quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 1]."""
    if not values:
        raise ValueError("quantile of no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def answer_score(logprobs: Iterable[float | HasLogprob], *, q: float = 0.10,
                 min_tokens: int = 1) -> float | None:
    """The answer's confidence: the q-quantile of its token logprobs (None if too short)."""
    values = _values(logprobs)
    if len(values) < min_tokens:
        return None
    return quantile(values, q)


def calibrate_threshold(history: Iterable[float], config: EscalationConfig) -> Threshold:
    """The history's ``history_percentile``-th percentile, once there is enough history."""
    scores = [float(s) for s in history if s is not None and not math.isnan(float(s))]
    if len(scores) >= config.min_history:
        return Threshold(quantile(scores, config.history_percentile / 100), "history",
                         len(scores))
    if config.fallback_threshold is not None:
        return Threshold(config.fallback_threshold, "fallback", len(scores))
    return Threshold(None, "uncalibrated", len(scores))


def assess(logprobs: Iterable[float | HasLogprob], history: Iterable[float],
           config: EscalationConfig) -> ConfidenceVerdict:
    """Should this local answer be re-asked elsewhere? Always says why.

    ``history`` holds the scores (``answer_score``) of the user's earlier answers, without
    this one. Store this answer's score afterwards so the threshold follows the user.
    """
    values = _values(logprobs)
    tokens = len(values)
    if tokens < config.min_tokens:
        return ConfidenceVerdict(False, None, None, tokens,
                                 f"too short to judge ({tokens} tokens, fewer than "
                                 f"{config.min_tokens})")
    score = quantile(values, config.quantile)
    threshold = calibrate_threshold(history, config)
    label = f"p{round(config.quantile * 100):d} token logprob {score:.2f}"
    if threshold.value is None:
        return ConfidenceVerdict(False, score, None, tokens,
                                 f"{label}; not calibrated yet ({threshold.history_size} of "
                                 f"{config.min_history} past answers)")
    if threshold.basis == "history":
        against = (f"your {config.history_percentile:g}th percentile {threshold.value:.2f} "
                   f"over {threshold.history_size} answers")
    else:
        against = f"the fixed threshold {threshold.value:.2f}"
    if score < threshold.value:
        return ConfidenceVerdict(True, score, threshold.value, tokens,
                                 f"low confidence: {label} is below {against}")
    return ConfidenceVerdict(False, score, threshold.value, tokens,
                             f"confident enough: {label} is not below {against}")
