"""Answer confidence from token logprobs, and the threshold calibrated on the user's history."""

from __future__ import annotations

import math

import pytest

from inference.engines.types import TokenLogprob
from routing.confidence import (
    EscalationConfig,
    answer_score,
    assess,
    calibrate_threshold,
    quantile,
)

CONFIG = EscalationConfig(enabled=True, quantile=0.10, history_percentile=10, min_history=5,
                          min_tokens=4)


def test_quantile_interpolates_like_numpy() -> None:
    assert quantile([1.0], 0.1) == 1.0
    assert quantile([0.0, 10.0], 0.1) == pytest.approx(1.0)
    assert quantile([3.0, 1.0, 2.0, 4.0, 5.0], 0.5) == 3.0
    assert quantile(list(range(11)), 0.1) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        quantile([], 0.5)


def test_a_low_quantile_sees_the_few_guessed_tokens_a_mean_hides() -> None:
    confident = [-0.01] * 18 + [-0.2, -0.3]
    guessing = [-0.01] * 17 + [-6.0, -7.5, -5.0]
    assert sum(confident) / 20 > -0.1 and sum(guessing) / 20 < -0.8
    assert answer_score(confident) > -0.05
    assert answer_score(guessing) < -4.0


def test_engine_token_logprobs_and_odd_values_are_accepted() -> None:
    tokens = [TokenLogprob("a", -0.1), TokenLogprob("b", float("-inf")),
              TokenLogprob("c", float("nan")), TokenLogprob("d", 0.3)]
    score = answer_score(tokens, q=0.0)
    assert score == -100.0  # -inf is floored, NaN skipped, >0 clamped to 0
    assert answer_score([], min_tokens=1) is None
    assert answer_score([-1.0, -2.0], min_tokens=3) is None


def test_threshold_is_a_percentile_of_history_once_there_is_enough() -> None:
    history = [-1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -9.0, -10.0, -11.0]
    threshold = calibrate_threshold(history, CONFIG)
    assert threshold.basis == "history" and threshold.history_size == 11
    assert threshold.value == pytest.approx(-10.0)
    short = calibrate_threshold(history[:3], CONFIG)
    assert short.value is None and short.basis == "uncalibrated"
    fallback = calibrate_threshold(history[:3], EscalationConfig(min_history=5,
                                                                 fallback_threshold=-4.0))
    assert (fallback.value, fallback.basis) == (-4.0, "fallback")
    assert calibrate_threshold([math.nan] * 10, CONFIG).history_size == 0


def test_assess_escalates_the_least_confident_answers_and_says_why() -> None:
    history = [-0.5, -0.8, -1.0, -1.2, -1.5, -2.0, -2.5, -3.0, -3.5, -4.0]
    unsure = assess([-0.1, -0.2, -6.0, -7.0, -0.3, -0.1], history, CONFIG)
    assert unsure.escalate and unsure.score < unsure.threshold
    assert unsure.reason.startswith("low confidence: p10 token logprob")
    assert "your 10th percentile" in unsure.reason and "over 10 answers" in unsure.reason
    sure = assess([-0.1] * 10, history, CONFIG)
    assert not sure.escalate and sure.reason.startswith("confident enough")
    assert set(sure.to_json()) == {"escalate", "score", "threshold", "tokens", "reason"}


def test_assess_never_escalates_uncalibrated_or_short_answers() -> None:
    uncalibrated = assess([-9.0] * 10, [-1.0, -1.0], CONFIG)
    assert not uncalibrated.escalate and "not calibrated yet (2 of 5" in uncalibrated.reason
    short = assess([-9.0, -9.0], [-1.0] * 10, CONFIG)
    assert not short.escalate and short.score is None and "too short" in short.reason


def test_a_fixed_fallback_threshold_is_named_as_such() -> None:
    config = EscalationConfig(min_history=100, fallback_threshold=-3.0, min_tokens=1)
    verdict = assess([-5.0] * 5, [], config)
    assert verdict.escalate and "the fixed threshold -3.00" in verdict.reason
