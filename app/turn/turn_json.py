"""A finished turn as JSON for the CLI's --json output and the server: exact decimal
strings for money, null where a figure is unknown (never 0)."""

from __future__ import annotations

from app.turn.chat_turn import ChatTurn, TurnResult
from routing.pricing import Money


def energy_json(result: TurnResult | None) -> dict[str, object] | None:
    """The answer's energy as the ledger recorded it; joules null means not measured."""
    if result is None or result.energy is None:
        return None
    return {"joules": result.energy.total_joules, "kind": result.energy.total_kind,
            "source": result.energy_source}


def cost_json(result: TurnResult | None) -> dict[str, object] | None:
    """Exact decimal strings, null where unknown (never 0)."""
    if result is None or result.cost is None:
        return None
    cost = result.cost

    def exact(amount: Money) -> str | None:
        return None if amount.usd is None else format(amount.usd.normalize(), "f")

    return {"local_energy_usd": exact(cost.energy_usd),
            "local_hardware_usd": exact(cost.hardware_usd),
            "cloud_equivalent_usd": exact(cost.cloud_equivalent_usd),
            "cloud_equivalent_model": cost.cloud_equivalent_model,
            "price_as_of": cost.price_as_of.isoformat() if cost.price_as_of else None,
            "cloud_actual_usd": exact(cost.cloud_actual_usd) if cost.cloud_actual_usd
            else None,
            "notes": cost.notes}


def escalation_json(turn: ChatTurn, escalated: ChatTurn | None,
                    error: str | None = None) -> dict[str, object] | None:
    """The second answer of an escalated turn and why it was asked; None when there was
    none (escalation off, or the router kept the local answer: see ``confidence_json``)."""
    decision = turn.escalation
    if escalated is None or decision is None:
        return None
    result = escalated.result
    final = escalated.decision  # after any failover of the escalation itself
    return {"reason": decision.reason, "target": final.target, "provider": final.provider,
            "model": final.model, "rule": final.rule, "route_reason": final.reason,
            "confidence": turn.confidence.to_json() if turn.confidence else None,
            "message_id": escalated.message_id, "text": escalated.text,
            "usage": {"prompt_tokens": result.prompt_tokens if result else None,
                      "completion_tokens": result.completion_tokens if result else None},
            "finish_reason": result.finish_reason if result else "error",
            "cost": cost_json(result), "error": error}


def confidence_json(turn: ChatTurn) -> dict[str, object] | None:
    """How sure the local model was, when escalation judged the answer; else None."""
    return turn.confidence.to_json() if turn.confidence is not None else None
