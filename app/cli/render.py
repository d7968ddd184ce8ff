"""Small formatting helpers for terminal output."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.turn.chat_turn import ChatTurn


def human_bytes(size: int | None) -> str:
    if size is None:
        return "unknown"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def rate(value: float | None, unit: str) -> str:
    return "n/a" if value is None else f"{value:.1f} {unit}"


def prompt_split(evaluated: int | None, reused: int) -> str:
    """How the prompt was read: "412 evaluated + 3,100 reused from the KV cache" (reused
    tokens cost no prefill time); "" when the engine did not say."""
    if evaluated is None:
        return ""
    if not reused:
        return f"{evaluated:,} evaluated"
    return f"{evaluated:,} evaluated + {reused:,} reused from the KV cache"


def describe_turn(turn: ChatTurn) -> str:
    """One line under an answer: where it ran, why, and how fast (measured by our clock)."""
    result = turn.result
    decision = turn.decision
    where = turn.model.name if decision.target == "local" else \
        f"{decision.provider} {decision.model or ''}".strip()
    parts = [f"{decision.target} · {where} · {decision.reason}"]
    if result is not None:
        t = result.timings
        parts.append(f"{result.prompt_tokens} in / {result.completion_tokens} out")
        parts.append(f"TTFT {t.ttft_s:.2f} s" if t.ttft_s is not None else "TTFT n/a")
        parts.append(f"decode {rate(t.decode_tps, 'tok/s')}")
        if t.prompt_tokens_reused:
            split = prompt_split(t.prompt_tokens_evaluated, t.prompt_tokens_reused)
            parts.append(f"prompt {split}")
        energy = result.energy
        if energy is not None:
            parts.append("energy not measured" if energy.total_joules is None
                         else f"{energy.total_joules:.1f} J {energy.total_kind}")
        if result.finish_reason in ("length", "context"):
            parts.append("cut at the token limit" if result.finish_reason == "length"
                         else "stopped: context full")
    parts.append(f"conversation {turn.conversation_id}")
    return "[" + " · ".join(parts) + "]"
