"""One chat turn, the same for every surface: the answer streamed to disk and to the caller,
its energy metered, its usage, cost and audit rows recorded. ChatTurn is the local answer
(RemoteTurn in remote_turn.py adds the hops off this machine); with confidence escalation on,
a local answer is scored and may be re-asked elsewhere (``ChatService.escalate``, in
service.py), as a second answer in the same conversation."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.metering.answer_cost import COST_PARTS, UNKNOWN_PREFIX, AnswerCost, AnswerPricer
from app.metering.energy_meter import EnergyMeter
from app.store.audit_log import AuditLog
from app.store.conversations import AnswerWriter, ConversationSummary, UsageFigures
from inference.engines.types import (
    Chunk,
    GenerationRequest,
    ModelInfo,
    Timings,
    TokenLogprob,
)
from inference.power import EnergyReport, EnergyWindow
from routing.audit import AuditEvent, AuditRecord, record_for
from routing.confidence import ConfidenceVerdict, answer_score, assess
from routing.decision import RouteDecision, RouteRequest, RouteState
from routing.pricing import Money, PricingError

if TYPE_CHECKING:
    from routing.router import Router


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
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    # The office server's user who asked: recorded on the usage and audit rows.
    user: str | None = None
    # The targets this asker may use (an office user's routes); None: any. A decision for
    # another target is answered on this machine instead, or refused without "local".
    allowed_targets: frozenset[str] | None = None
    # The answer must be JSON following this schema (a structured document template); a
    # local llama.cpp model is constrained to it. None: free text.
    json_schema: Mapping[str, Any] | None = None
    # Whom a batched engine's scheduler counts this turn under when it is not an office
    # user's (a document job: "job:<id>"); None: the user, else the desktop.
    queue_owner: str | None = None


class RouteRefusedError(ValueError):
    """The router refused to answer (sensitive text forced to the cloud, or failover off);
    the message is the decision's reason. The question stays saved."""


class TurnAudit:
    """The audit rows of one answer: one per decision (route or escalation, then any
    failover), written when the answer ends, with the tokens and bill of the decision that
    answered."""

    def __init__(self, log: AuditLog, conversation_id: str, first: RouteDecision,
                 first_event: AuditEvent = "route", user: str | None = None) -> None:
        self._log = log
        self.user = user
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
                cost_usd=cost.usd if answered and cost is not None else None,
                user=self.user))
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
                 audit: TurnAudit, escalation_check: EscalationCheck | None = None,
                 window: EnergyWindow | None = None) -> None:
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
        # Opened by whoever started the engine, so the window spans the whole prompt.
        self._started_window = window
        # Set when the answer is recorded; TurnResult hands them to the surface.
        self._energy_report: EnergyReport | None = None
        self._energy_source: str | None = None
        self._cost: AnswerCost | None = None
        self._confidence_score: float | None = None

    @property
    def conversation_id(self) -> str:
        return self.conversation.id

    @property
    def user(self) -> str | None:
        """The office server's user who asked; None for the desktop and the CLI."""
        return self._audit.user

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
            # Read the sensors once at the start and once at the end; nothing runs between
            # tokens but the first-token mark.
            window = self._started_window or self._energy.open_window()
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
