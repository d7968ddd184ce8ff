"""A turn the router sent off this machine (cloud or on-prem), with failover.

Streams from the provider; when it gives up (its retries are spent), the router picks where
to answer instead (routing.Router.failover: on-prem or this machine, never another cloud),
the answer's message is re-labelled with that decision and its reason, and the answer goes
on there. Text already shown from a provider that was cut off stays in the message, marked.
The local per-token path is ChatTurn's; this class only adds the hops around it.

EscalatedTurn is the second answer of a local turn that confidence escalation re-asks
elsewhere: the same remote path, except that a failure never ends in a second answer from
this machine (the first one is already there).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from app.store.conversations import UsageFigures
from app.turn.chat_turn import ChatTurn, RouteRefusedError
from app.turn.cloud_answer import CloudTokens, estimate_tokens, stream_cloud_answer
from inference.engines.types import Chunk
from inference.power import EnergyWindow
from routing.cloud import CloudError
from routing.decision import RouteDecision, RouteState
from routing.keys import KeyStore
from routing.router import Router, describe_failure


class RemoteTurn(ChatTurn):
    def __init__(self, *, router: Router, state: RouteState, keys: KeyStore,
                 start_local: Callable[[], Iterator[Chunk]],
                 cancel: threading.Event | None, **parts: Any) -> None:
        super().__init__(**parts)
        self._router = router
        self._state = state
        self._keys = keys
        self._start_local = start_local
        self._cancel = cancel
        self._tokens: list[CloudTokens] = []
        self._window: EnergyWindow | None = None  # set once the answer falls back to local
        self.failover_note: str | None = None     # what the user was told, if anything

    def __iter__(self) -> Iterator[Chunk]:
        writer, last = self._writer, None
        try:
            while True:
                try:
                    for chunk in self._segment():
                        writer.append(chunk.text)
                        last = chunk
                        yield chunk
                    break
                except CloudError as error:
                    last = None  # the provider's partial counts are not this answer's
                    self._fail_over(error)
        except BaseException as exc:
            cancelled = isinstance(exc, GeneratorExit | KeyboardInterrupt)
            status = "cancelled" if cancelled else "error"
            writer.finish(status, self._figures(last, status),
                          error=None if cancelled else str(exc))
            self._write_audit(last)
            raise
        finish = last.finish_reason if last and last.finish_reason else "stop"
        status = "cancelled" if finish == "cancelled" else "complete"
        writer.finish(status, self._figures(last, finish))
        self._write_audit(last)
        if last is not None:
            self._set_result(last, finish)

    def _segment(self) -> Iterator[Chunk]:
        """The answer from wherever the current decision says."""
        decision = self.decision
        if decision.target != "local":
            yield from stream_cloud_answer(
                self._router, self._keys, decision, self.request.messages,
                temperature=self.request.temperature, max_tokens=self.request.max_tokens,
                cancel=self._cancel, tokens_out=self._tokens,
                json_schema=self.request.json_schema)
            return
        with self._energy.busy():
            chunks = self._start_local()
            self._window = self._energy.open_window()
            try:
                first = True
                for chunk in chunks:
                    if first:
                        self._window.mark_first_token()
                        first = False
                    yield chunk
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()

    def _failover_decision(self, error: CloudError) -> RouteDecision:
        return self._router.failover(self.decision, error, state=self._state,
                                     local_model=self.model.id)

    def _fail_over(self, error: CloudError) -> None:
        decision = self._failover_decision(error)
        self._audit.add("failover", decision)
        self.decision = decision
        self._tokens.clear()
        self.failover_note = decision.reason
        self._writer.reroute(
            model_id=self.model.id if decision.target == "local" else decision.model,
            route_target=decision.target, route_rule=decision.rule,
            route_reason=decision.reason)
        if error.partial_chars:
            # The cut answer stays in the message (the user saw it); mark where it broke.
            self._writer.append(f"\n\n[{decision.reason}]\n\n")
        if decision.refused:
            raise RouteRefusedError(decision.reason)

    def _figures(self, last: Chunk | None, finish: str) -> UsageFigures | None:
        if self.decision.target == "local":
            if self._window is None:
                return None
            return self._usage(last, finish, self._window)
        if last is None or not self._tokens:
            # Ended without a final chunk (cancelled or failed): count what was streamed.
            if last is None:
                return None
            prompt = "".join(m.content for m in self.request.messages)
            self._tokens.append(CloudTokens(estimate_tokens(prompt),
                                            estimate_tokens(self._writer.text), 0,
                                            reported=False))
        return self._cloud_usage(last, finish, self._tokens[-1])

    def _cloud_usage(self, last: Chunk, finish: str, tokens: CloudTokens) -> UsageFigures:
        decision = self.decision
        provider = decision.provider or decision.target
        cost = self._pricer.price_cloud(
            decision.model or "", prompt_tokens=tokens.prompt_tokens,
            completion_tokens=tokens.completion_tokens,
            cached_prompt_tokens=tokens.cached_prompt_tokens, reported=tokens.reported,
            provider=provider)
        self._cost = cost
        self._energy_report = None
        self._energy_source = f"not measured: answered by {provider}"
        timings = last.timings
        billed = cost.cloud_actual_usd
        return UsageFigures(
            model_id=decision.model or "", route_target=decision.target,
            route_rule=decision.rule, finish_reason=finish,
            prompt_tokens=tokens.prompt_tokens, completion_tokens=tokens.completion_tokens,
            ttft_s=timings.ttft_s, prefill_tps=None, decode_tps=timings.decode_tps,
            total_s=timings.total_s, energy_joules=None, energy_kind="not measured",
            energy_source=self._energy_source, cloud_actual_usd=billed.usd if billed else None,
            cost_notes=cost.notes, provider=provider)


class EscalatedTurn(RemoteTurn):
    """The re-asked answer of a confidence escalation (ChatService.escalate)."""

    def __init__(self, **parts: Any) -> None:
        super().__init__(start_local=self._never_local, **parts)

    @staticmethod
    def _never_local() -> Iterator[Chunk]:
        raise AssertionError("an escalated answer is never answered on this machine again")

    def _failover_decision(self, error: CloudError) -> RouteDecision:
        decision = super()._failover_decision(error)
        if decision.target != "local" or decision.refused:
            return decision  # on-prem takes it over, or the policy's own refusal
        # Failing over to this machine would repeat the answer it already gave.
        return replace(decision, refused=True, reason=(
            f"{describe_failure(self.decision, error)}; the escalation was dropped and the "
            f"answer from this machine stands"))
