"""One chat turn, the same for every surface: persist the question, route it, stream the
answer to disk and to the caller, meter its energy, and record its usage and cost. With
confidence escalation on, a local answer is scored and may be re-asked elsewhere
(``ChatService.escalate``), as a second answer in the same conversation."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from app.answer_cost import COST_PARTS, UNKNOWN_PREFIX, AnswerCost, AnswerPricer
from app.energy_meter import EnergyMeter
from app.store.audit_log import AuditLog
from app.store.conversations import AnswerWriter, ConversationSummary, UsageFigures
from app.store.ledger import cloud_spend, confidence_history
from inference.power import EnergyReport, EnergyWindow
from inference.types import (
    ChatMessage,
    Chunk,
    Engine,
    GenerationRequest,
    ModelInfo,
    Timings,
    TokenLogprob,
)
from routing.audit import AuditEvent, AuditRecord, record_for
from routing.confidence import ConfidenceVerdict, answer_score, assess
from routing.decision import RouteDecision, RouteRequest, RouteState
from routing.pricing import Money, PricingError

if TYPE_CHECKING:
    from app.services import Services
    from routing.router import Router

# Answers that stopped early still hold text the model should see in the next turn.
_HISTORY_STATUSES = {"complete", "cancelled", "interrupted"}


@dataclass(frozen=True, slots=True)
class ChatOptions:
    model: str | None = None
    system_prompt: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    seed: int | None = None
    logprobs: bool = False
    # This message only (`chat --route`): "auto", "local", "onprem", "cloud" or a provider.
    route: str = "auto"


class RouteRefusedError(ValueError):
    """The router refused to answer (sensitive text forced to the cloud, or failover off);
    the message is the decision's reason. The question stays saved."""


class TurnAudit:
    """The audit rows of one answer: one per decision (route or escalation, then any
    failover), written when the answer ends, with the tokens and bill of the decision that
    answered."""

    def __init__(self, log: AuditLog, conversation_id: str, first: RouteDecision,
                 first_event: AuditEvent = "route") -> None:
        self._log = log
        self._conversation_id = conversation_id
        self.decisions: list[tuple[AuditEvent, RouteDecision]] = [(first_event, first)]
        self._written = False

    def add(self, event: AuditEvent, decision: RouteDecision) -> None:
        self.decisions.append((event, decision))

    def write(self, *, prompt_tokens: int | None = None, completion_tokens: int | None = None,
              cost: Money | None = None) -> None:
        if self._written:
            return
        self._written = True
        last = len(self.decisions) - 1
        records: list[AuditRecord] = []
        for index, (event, decision) in enumerate(self.decisions):
            answered = index == last and not decision.refused
            records.append(record_for(
                decision, conversation_id=self._conversation_id, event=event,
                prompt_tokens=prompt_tokens if answered else None,
                completion_tokens=completion_tokens if answered else None,
                cost_usd=cost.usd if answered and cost is not None else None))
        self._log.append(records)


@dataclass(frozen=True, slots=True)
class EscalationCheck:
    """What a local answer needs to judge itself once it is done: the router (its policy's
    [escalation] section and ``escalate``), the message as routed, the state it was routed
    in, and the scores of earlier answers (read then, so this answer is not among them)."""

    router: Router
    request: RouteRequest
    state: RouteState
    past_scores: Callable[[], list[float]]


@dataclass(frozen=True, slots=True)
class TurnResult:
    message_id: int
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    timings: Timings
    # What the ledger recorded: energy (total_joules None = not measured) and money.
    energy: EnergyReport | None = None
    energy_source: str | None = None
    cost: AnswerCost | None = None


class ChatTurn:
    """A started turn; iterate it once to stream the answer."""

    def __init__(self, *, conversation: ConversationSummary, model: ModelInfo,
                 decision: RouteDecision, request: GenerationRequest, writer: AnswerWriter,
                 chunks: Iterator[Chunk], energy: EnergyMeter, pricer: AnswerPricer,
                 audit: TurnAudit, escalation_check: EscalationCheck | None = None) -> None:
        self.conversation = conversation
        self.model = model
        self.decision = decision
        self.request = request
        self.result: TurnResult | None = None
        # Set after a complete local answer when escalation is on: how sure the model was,
        # and the router's escalation decision (target "local": keep the answer; anything
        # else: ChatService.escalate re-asks there).
        self.confidence: ConfidenceVerdict | None = None
        self.escalation: RouteDecision | None = None
        self.escalation_check = escalation_check
        self._writer = writer
        self._chunks = chunks
        self._energy = energy
        self._pricer = pricer
        self._audit = audit
        # Set when the answer is recorded; TurnResult hands them to the surface.
        self._energy_report: EnergyReport | None = None
        self._energy_source: str | None = None
        self._cost: AnswerCost | None = None
        self._confidence_score: float | None = None

    @property
    def conversation_id(self) -> str:
        return self.conversation.id

    @property
    def message_id(self) -> int:
        """The answer's message (it exists from the start, even if the answer fails)."""
        return self._writer.message_id

    @property
    def text(self) -> str:
        """The answer's text so far (all of it once the turn is done)."""
        return self._writer.text

    def __iter__(self) -> Iterator[Chunk]:
        writer, last = self._writer, None
        # Only gathered when escalation will judge the answer (the engine sends logprobs only
        # then, too); one list append per token.
        scoring = self.escalation_check is not None
        token_logprobs: list[TokenLogprob] = []
        with self._energy.busy():
            # Read the sensors once here and once at the end; nothing runs between tokens
            # but the first-token mark.
            window = self._energy.open_window()
            try:
                for chunk in self._chunks:
                    if last is None:
                        window.mark_first_token()
                    writer.append(chunk.text)
                    if scoring and chunk.logprobs:
                        token_logprobs.extend(chunk.logprobs)
                    last = chunk
                    yield chunk
            except BaseException as exc:
                cancelled = isinstance(exc, GeneratorExit | KeyboardInterrupt)
                status = "cancelled" if cancelled else "error"
                writer.finish(status, self._usage(last, status, window),
                              error=None if cancelled else str(exc))
                self._write_audit(last)
                raise
            finally:
                self._chunks.close()  # stops the engine at its next token if we left early
        finish = last.finish_reason if last and last.finish_reason else "stop"
        status = "cancelled" if finish == "cancelled" else "complete"
        if status == "complete" and last is not None:
            # Before the usage row is written: it stores this answer's score.
            self._judge_confidence(token_logprobs)
        writer.finish(status, self._usage(last, finish, window))
        self._write_audit(last)
        if last is not None:
            self._set_result(last, finish)

    def _judge_confidence(self, token_logprobs: list[TokenLogprob]) -> None:
        """Score the finished local answer and ask the router whether to re-ask it."""
        check = self.escalation_check
        if check is None:
            return
        config = check.router.policy.escalation
        # The same score ``assess`` compares; stored, it is the next answers' history.
        self._confidence_score = answer_score(token_logprobs, q=config.quantile,
                                              min_tokens=config.min_tokens)
        self.confidence = assess(token_logprobs, check.past_scores(), config)
        self.escalation = check.router.escalate(check.request, self.confidence,
                                                answered=self.decision, state=check.state)

    @property
    def escalates(self) -> bool:
        """The router wants this answer re-asked elsewhere (``ChatService.escalate``)."""
        return self.escalation is not None and self.escalation.target != "local"

    def _set_result(self, last: Chunk, finish: str) -> None:
        writer = self._writer
        self.result = TurnResult(
            writer.message_id, writer.text, finish, last.prompt_tokens,
            last.completion_tokens, last.timings, energy=self._energy_report,
            energy_source=self._energy_source, cost=self._cost)

    @property
    def decisions(self) -> list[RouteDecision]:
        """Every decision of this turn, in order: the route, then any failover."""
        return [decision for _event, decision in self._audit.decisions]

    def _write_audit(self, last: Chunk | None) -> None:
        cost = self._cost.cloud_actual_usd if self._cost is not None else None
        self._audit.write(prompt_tokens=last.prompt_tokens if last else None,
                          completion_tokens=last.completion_tokens if last else None,
                          cost=cost)

    def _usage(self, last: Chunk | None, finish: str, window: EnergyWindow
               ) -> UsageFigures | None:
        if last is None:
            return None
        timings = last.timings
        report = window.stop(prompt_tokens=last.prompt_tokens,
                             generated_tokens=last.completion_tokens)
        self._energy_report = report
        self._energy_source = self._energy.source_label(report)
        try:
            cost = self._pricer.price_local(
                joules=report.total_joules, seconds=timings.total_s,
                prompt_tokens=last.prompt_tokens, completion_tokens=last.completion_tokens)
        except PricingError as exc:  # never lose the answer over its price
            cost = None
            notes = dict.fromkeys(COST_PARTS, f"{UNKNOWN_PREFIX}not priced: {exc}")
        else:
            notes = cost.notes
        self._cost = cost
        return UsageFigures(
            model_id=self.model.id, route_target=self.decision.target,
            route_rule=self.decision.rule, finish_reason=finish,
            prompt_tokens=last.prompt_tokens, completion_tokens=last.completion_tokens,
            ttft_s=timings.ttft_s, prefill_tps=timings.prefill_tps,
            decode_tps=timings.decode_tps, total_s=timings.total_s,
            energy_joules=report.total_joules, energy_kind=report.total_kind,
            energy_source=self._energy_source,
            local_energy_usd=cost.energy_usd.usd if cost else None,
            local_hardware_usd=cost.hardware_usd.usd if cost else None,
            cloud_equivalent_usd=cost.cloud_equivalent_usd.usd if cost else None,
            cloud_equivalent_model=cost.cloud_equivalent_model if cost else None,
            cloud_actual_usd=None,  # answered on this machine: nothing was billed
            price_as_of=cost.price_as_of if cost else None,
            cost_notes=notes, confidence=self._confidence_score)


class ChatService:
    def __init__(self, services: Services) -> None:
        self.services = services

    def resolve_model(self, requested: str | None,
                      conversation: ConversationSummary | None = None) -> ModelInfo:
        library = self.services.library
        wanted = requested or (conversation.model_id if conversation else None) \
            or self.services.settings.default_model
        return library.get(wanted) if wanted else library.list()[0]

    def start(self, prompt: str, *, conversation_id: str | None = None,
              options: ChatOptions | None = None,
              cancel: threading.Event | None = None) -> ChatTurn:
        """Save the question, then route, load and begin the answer.

        The question is committed before anything that can fail, so it is never lost; an
        error after that leaves it in the conversation to retry.
        """
        options = options or ChatOptions()
        if not prompt.strip():
            raise ValueError("The message is empty; type something to ask.")
        store, settings = self.services.store, self.services.settings
        if conversation_id:
            conversation = store.get(conversation_id)
            model = self.resolve_model(options.model, conversation)
            if options.model and model.id != conversation.model_id:
                store.update(conversation.id, model_id=model.id)
            if options.system_prompt is not None:
                store.update(conversation.id, system_prompt=options.system_prompt)
                conversation = store.get(conversation.id)
        else:
            model = self.resolve_model(options.model)
            conversation = store.create(
                model_id=model.id,
                system_prompt=options.system_prompt if options.system_prompt is not None
                else settings.system_prompt)
        store.add_user_message(conversation.id, prompt)
        router = self.services.router
        max_tokens = options.max_tokens or settings.max_tokens
        history = self.history(conversation)  # read once: the budget estimate and the request
        prompt_chars = sum(len(m.content) for m in history)
        state = RouteState(conversation_sensitive=conversation.sensitive,
                           offline=settings.offline,
                           local_queue_depth=self.services.engines.queue_depth(model.id),
                           spend=cloud_spend(store.engine, datetime.now(UTC)),
                           estimate_usd=lambda _provider, cloud_model: (
                               self.services.pricer.cloud_ceiling_usd(
                                   cloud_model, prompt_chars=prompt_chars,
                                   max_output_tokens=max_tokens)))
        route_request = RouteRequest(text=prompt, conversation_id=conversation.id,
                                     pinned_target=conversation.route_pin, route=options.route,
                                     context=(conversation.system_prompt or "",))
        decision = router.decide(route_request, state, local_model=model.id)
        if decision.sticky and not conversation.sensitive:
            store.mark_sensitive(conversation.id)
        audit = TurnAudit(self.services.audit, conversation.id, decision)
        if decision.refused:
            audit.write()
            raise RouteRefusedError(decision.reason)

        # Logprobs only when escalation will judge a local answer: they cost a
        # vocabulary-sized pass per token, which no other turn should pay.
        judged = router.policy.escalation.enabled and decision.target == "local"
        request = GenerationRequest(
            messages=history,
            max_tokens=max_tokens,
            temperature=settings.temperature if options.temperature is None
            else options.temperature,
            seed=options.seed, logprobs=options.logprobs or judged,
        )
        start_local = self._local_starter(model, request, cancel)
        # A local answer loads its model before the answer row exists (as it always did);
        # a cloud answer loads it only if it has to fail over.
        engine = self._load_local(model) if decision.target == "local" else None
        writer = store.start_answer(
            conversation.id, model_id=model.id if decision.target == "local"
            else decision.model or model.id, route_target=decision.target,
            route_rule=decision.rule, route_reason=decision.reason)
        chunks = engine.stream(request, cancel) if engine is not None else iter(())
        parts = {"conversation": conversation, "model": model, "decision": decision,
                 "request": request, "writer": writer, "chunks": chunks,
                 "energy": self.services.energy, "pricer": self.services.pricer,
                 "audit": audit}
        if decision.target == "local":
            check = None
            if judged:
                check = EscalationCheck(router, route_request, state, partial(
                    confidence_history, store.engine, model.id))
            return ChatTurn(**parts, escalation_check=check)  # type: ignore[arg-type]
        from app.routed_turn import RemoteTurn

        return RemoteTurn(**parts, router=router, state=state,  # type: ignore[arg-type]
                          keys=self.services.keys, start_local=start_local, cancel=cancel)

    def escalate(self, turn: ChatTurn, cancel: threading.Event | None = None
                 ) -> ChatTurn | None:
        """The second answer of an escalated turn, to iterate like the first; None when the
        router kept the local answer (or the turn was not judged).

        Call it after iterating ``turn``. The question is re-asked as the local model got it
        (the same history, without the local answer) and answered in a new assistant message
        labelled with the escalation's reason; audited as event "escalation" and billed in
        the ledger. Should that provider fail, the policy's failover may move it on-prem;
        it is never answered on this machine a second time.
        """
        decision, check = turn.escalation, turn.escalation_check
        if decision is None or decision.target == "local" or check is None:
            return None
        conversation = turn.conversation
        writer = self.services.store.start_answer(
            conversation.id, model_id=decision.model or "", route_target=decision.target,
            route_rule=decision.rule, route_reason=decision.reason)
        audit = TurnAudit(self.services.audit, conversation.id, decision,
                          first_event="escalation")
        from app.routed_turn import EscalatedTurn

        return EscalatedTurn(
            conversation=conversation, model=turn.model, decision=decision,
            request=turn.request, writer=writer, chunks=iter(()),
            energy=self.services.energy, pricer=self.services.pricer, audit=audit,
            router=check.router, state=check.state, keys=self.services.keys, cancel=cancel)

    def _load_local(self, model: ModelInfo) -> Engine:
        with self.services.energy.busy():  # a model load is not idle draw
            self.services.library.verify(model)
            return self.services.engines.engine_for(model)

    def _local_starter(self, model: ModelInfo, request: GenerationRequest,
                       cancel: threading.Event | None) -> Callable[[], Iterator[Chunk]]:
        """Starts a local answer on demand: the fallback of a cloud answer that failed."""
        return lambda: self._load_local(model).stream(request, cancel)

    def history(self, conversation: ConversationSummary) -> list[ChatMessage]:
        messages = []
        if conversation.system_prompt:
            messages.append(ChatMessage("system", conversation.system_prompt))
        for stored in self.services.store.messages(conversation.id):
            if stored.role == "user":
                messages.append(ChatMessage("user", stored.content))
            elif stored.role == "assistant" and stored.status in _HISTORY_STATUSES \
                    and stored.content:
                answer = ChatMessage("assistant", stored.content)
                if messages and messages[-1].role == "assistant":
                    # A second answer to one question (an escalation) supersedes the first:
                    # later turns see it alone, and roles keep alternating, which some
                    # chat templates require.
                    messages[-1] = answer
                else:
                    messages.append(answer)
        return messages


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
