"""A cloud or on-prem answer as the chat path streams it: routing.cloud's chunks turned into
inference.engines.types.Chunk (so every surface reads one shape), with timings measured around the
iterator, token counts from the provider (or estimated where it reports none), and the
price of what it billed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inference.engines.types import ChatMessage, Chunk, FinishReason, Timings
from routing.cloud import CloudBadRequestError, CloudMissingKeyError, stream_chat
from routing.decision import RouteDecision
from routing.keys import KeyringUnavailableError, KeyStore
from routing.router import Router

# Without reported usage the tokens are estimated from characters (about 4 per token for
# English); the ledger says so in its note.
_CHARS_PER_TOKEN = 4
_FINISH_REASONS: dict[str, FinishReason] = {"stop": "stop", "length": "length",
                                            "cancelled": "cancelled",
                                            "content_filter": "error"}


@dataclass(frozen=True, slots=True)
class CloudTokens:
    prompt_tokens: int
    completion_tokens: int
    cached_prompt_tokens: int
    reported: bool  # False: estimated from characters


def estimate_tokens(text: str) -> int:
    return -(-len(text) // _CHARS_PER_TOKEN)


def stream_cloud_answer(router: Router, keys: KeyStore, decision: RouteDecision,
                        messages: Sequence[ChatMessage], *, temperature: float | None,
                        max_tokens: int | None, cancel: threading.Event | None,
                        tokens_out: list[CloudTokens],
                        json_schema: Mapping[str, Any] | None = None) -> Iterator[Chunk]:
    """Stream the decision's provider. Raises CloudError (retries already spent) for the
    caller to fail over; appends the final token counts to ``tokens_out``."""
    provider = router.provider(decision.provider)
    if provider is None:
        raise CloudBadRequestError(f"provider '{decision.provider}' is no longer configured",
                                   provider=decision.provider or decision.target)
    try:
        api_key = keys.get(provider.key_name) if provider.key_name else None
    except KeyringUnavailableError as exc:
        # Worded for the user (it names the environment override), never holds the key.
        raise CloudMissingKeyError(str(exc), provider=provider.name) from None
    failover = router.policy.failover
    started = time.perf_counter()
    chunks = stream_chat(provider, decision.model or "", messages, api_key=api_key,
                         timeout=failover.timeout_s, max_retries=failover.max_retries,
                         cancel=cancel, temperature=temperature, max_tokens=max_tokens,
                         custom_terms=router.policy.sensitivity.custom_terms,
                         json_schema=json_schema)
    first_at: float | None = None
    answer_chars = 0
    for piece in chunks:
        now = time.perf_counter()
        if piece.text and first_at is None:
            first_at = now
        answer_chars += len(piece.text)
        ttft = None if first_at is None else first_at - started
        if piece.finish_reason is None:
            yield Chunk(piece.text, 0, 0, Timings(ttft, None, None, now - started))
            continue
        if piece.usage is not None:
            counted = CloudTokens(piece.usage.prompt_tokens, piece.usage.completion_tokens,
                                  piece.usage.cached_prompt_tokens, reported=True)
        else:
            prompt = "".join(m.content for m in messages)
            counted = CloudTokens(estimate_tokens(prompt), -(-answer_chars // _CHARS_PER_TOKEN),
                                  0, reported=False)
        tokens_out.append(counted)
        total = now - started
        decode = None
        if first_at is not None and counted.completion_tokens > 1 and now > first_at:
            decode = (counted.completion_tokens - 1) / (now - first_at)
        yield Chunk(piece.text, counted.prompt_tokens, counted.completion_tokens,
                    Timings(ttft, None, decode, total),
                    _FINISH_REASONS.get(piece.finish_reason, "stop"))
