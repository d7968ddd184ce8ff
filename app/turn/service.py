"""ChatService: starts turns. Saves the question, asks the router where to answer, loads the
local model or hands the turn to a remote answer, and re-asks an escalated answer elsewhere.

It is given what it needs as a TurnParts (the composition root, app.services.Services,
is one) and never imports the surfaces or the root itself."""

from __future__ import annotations

import dataclasses
import getpass
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Protocol

from app.store.ledger import cloud_spend, confidence_history
from app.turn.chat_turn import (
    ChatOptions,
    ChatTurn,
    EscalationCheck,
    RouteRefusedError,
    TurnAudit,
)
from app.turn.judge_step import judge_decision
from app.turn.remote_turn import EscalatedTurn, RemoteTurn
from inference.engines.types import ChatMessage, Chunk, Engine, GenerationRequest, ModelInfo
from routing.decision import RouteDecision, RouteRequest, RouteState, Spend

if TYPE_CHECKING:
    from app.config import Settings
    from app.metering.answer_cost import AnswerPricer
    from app.metering.energy_meter import EnergyMeter
    from app.store.audit_log import AuditLog
    from app.store.conversations import ConversationStore, ConversationSummary, StoredMessage
    from inference.engines.manager import EngineManager
    from inference.models.library import ModelLibrary
    from routing.keys import KeyStore
    from routing.router import Router

# Answers that stopped early still hold text the model should see in the next turn.
_HISTORY_STATUSES = {"complete", "cancelled", "interrupted"}


def _desktop_owner() -> str:
    try:
        return f"desktop:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in the environment or the password database
        return "desktop:local"


# The desktop's own turns in a batched engine's fairness (its chat, beside the office users).
DESKTOP_OWNER = _desktop_owner()


class TurnParts(Protocol):
    """What a turn is made from. Read at each turn, so a reloaded router (the policy
    editor) or changed settings apply to the next question."""

    settings: Settings
    store: ConversationStore
    library: ModelLibrary
    engines: EngineManager
    router: Router
    energy: EnergyMeter
    pricer: AnswerPricer
    keys: KeyStore
    audit: AuditLog


class ChatService:
    def __init__(self, parts: TurnParts) -> None:
        self.parts = parts

    def resolve_model(self, requested: str | None,
                      conversation: ConversationSummary | None = None) -> ModelInfo:
        library = self.parts.library
        wanted = requested or (conversation.model_id if conversation else None) \
            or self.parts.settings.default_model
        return library.get(wanted) if wanted else library.list()[0]

    def start(self, prompt: str, *, conversation_id: str | None = None,
              options: ChatOptions | None = None,
              cancel: threading.Event | None = None,
              earlier: Sequence[ChatMessage] = ()) -> ChatTurn:
        """Save the question, then route, load and begin the answer.

        The question is committed before anything that can fail, so it is never lost; an
        error after that leaves it in the conversation to retry.

        ``earlier``: the user and assistant messages before this one, as a client that keeps
        its own history sends them (the office server); they start a new conversation and
        are scanned by the sensitivity gate with this message, since no earlier decision of
        ours saw them.
        """
        options = options or ChatOptions()
        if not prompt.strip():
            raise ValueError("The message is empty; type something to ask.")
        store, settings = self.parts.store, self.parts.settings
        if conversation_id:
            conversation = store.get(conversation_id)
            model = self.resolve_model(options.model, conversation)
            if options.model and model.id != conversation.model_id:
                store.update(conversation.id, model_id=model.id)
            if options.system_prompt is not None:
                store.update(conversation.id, system_prompt=options.system_prompt)
                conversation = store.get(conversation.id)
            stored = store.add_question(conversation.id, prompt)
        else:
            model = self.resolve_model(options.model)
            conversation, stored = store.start_conversation(
                model_id=model.id,
                system_prompt=options.system_prompt if options.system_prompt is not None
                else settings.system_prompt, question=prompt,
                earlier=[(message.role, message.content) for message in earlier])
        router = self.parts.router
        max_tokens = options.max_tokens or settings.max_tokens
        # Read with the question's commit: the budget estimate and the request use it.
        history = _history_of(conversation, stored)
        prompt_chars = sum(len(m.content) for m in history)
        state = RouteState(conversation_sensitive=conversation.sensitive,
                           offline=settings.offline,
                           local_queue_depth=self.parts.engines.queue_depth(model.id),
                           spend=cloud_spend(store.engine, datetime.now(UTC))
                           if _budget_can_block(router) else Spend(),
                           estimate_usd=lambda _provider, cloud_model: (
                               self.parts.pricer.cloud_ceiling_usd(
                                   cloud_model, prompt_chars=prompt_chars,
                                   max_output_tokens=max_tokens)))
        route_request = RouteRequest(text=prompt, conversation_id=conversation.id,
                                     pinned_target=conversation.route_pin, route=options.route,
                                     context=(conversation.system_prompt or "",
                                              *(m.content for m in earlier)))
        decision = _within_allowed(router.decide(route_request, state, local_model=model.id),
                                   options.allowed_targets)
        # Text about to leave for the cloud that the gate let through: the local judge has
        # a second look at everything that would be sent (this history), and may keep it
        # here. Any other decision returns unchanged, without running a model.
        decision, _judge = judge_decision(self.parts, decision,
                                          [m.content for m in history], cancel)
        if decision.sticky and not conversation.sensitive:
            store.mark_sensitive(conversation.id)
        audit = TurnAudit(self.parts.audit, conversation.id, decision, user=options.user)
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
            stop=options.stop,
            **({"top_p": options.top_p} if options.top_p is not None else {}),
            json_schema=options.json_schema,
        )
        # The asker is the owner a batched engine is fair between: an office user, a job, or
        # the desktop (no user name holds ":", so neither of the others can be one).
        owner = options.queue_owner or options.user or DESKTOP_OWNER
        start_local = self._local_starter(model, request, cancel, owner)
        window, chunks = None, None
        if decision.target == "local":
            # A local answer loads its model before the answer row exists (as it always
            # did); a cloud answer loads it only if it has to fail over.
            engine = self._load_local(model)
            # Metering starts before the prompt is evaluated, and the prompt is evaluated
            # on the model's owner thread while the answer row is written here.
            window = self.parts.energy.open_window()
            chunks = engine.stream(request, cancel, owner)
        try:
            writer = store.start_answer(
                conversation.id, model_id=model.id if decision.target == "local"
                else decision.model or model.id, route_target=decision.target,
                route_rule=decision.rule, route_reason=decision.reason, user=options.user)
        except BaseException:
            if chunks is not None:
                chunks.close()  # nobody will read this answer: free the model
            raise
        parts = {"conversation": conversation, "model": model, "decision": decision,
                 "request": request, "writer": writer,
                 "chunks": chunks if chunks is not None else iter(()),
                 "energy": self.parts.energy, "pricer": self.parts.pricer,
                 "audit": audit}
        if decision.target == "local":
            check = None
            if judged:
                check = EscalationCheck(router, route_request, state, partial(
                    confidence_history, store.engine, model.id))
            return ChatTurn(**parts, escalation_check=check,  # type: ignore[arg-type]
                            window=window)
        return RemoteTurn(**parts, router=router, state=state,  # type: ignore[arg-type]
                          keys=self.parts.keys, start_local=start_local, cancel=cancel)

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
        # Re-asking in the cloud sends the question off the machine: the judge looks first.
        decision, _judge = judge_decision(self.parts, decision,
                                          [m.content for m in turn.request.messages], cancel)
        if decision.target == "local":
            turn.escalation = decision  # the local answer stands; the reason says why
            if decision.sticky and not conversation.sensitive:
                self.parts.store.mark_sensitive(conversation.id)
            TurnAudit(self.parts.audit, conversation.id, decision, first_event="escalation",
                      user=turn.user).write()
            return None
        writer = self.parts.store.start_answer(
            conversation.id, model_id=decision.model or "", route_target=decision.target,
            route_rule=decision.rule, route_reason=decision.reason, user=turn.user)
        audit = TurnAudit(self.parts.audit, conversation.id, decision,
                          first_event="escalation", user=turn.user)
        return EscalatedTurn(
            conversation=conversation, model=turn.model, decision=decision,
            request=turn.request, writer=writer, chunks=iter(()),
            energy=self.parts.energy, pricer=self.parts.pricer, audit=audit,
            router=check.router, state=check.state, keys=self.parts.keys, cancel=cancel)

    def _load_local(self, model: ModelInfo) -> Engine:
        with self.parts.energy.busy():  # a model load is not idle draw
            self.parts.library.verify(model)
            return self.parts.engines.engine_for(model)

    def _local_starter(self, model: ModelInfo, request: GenerationRequest,
                       cancel: threading.Event | None,
                       owner: str) -> Callable[[], Iterator[Chunk]]:
        """Starts a local answer on demand: the fallback of a cloud answer that failed."""
        return lambda: self._load_local(model).stream(request, cancel, owner)

    def history(self, conversation: ConversationSummary) -> list[ChatMessage]:
        return _history_of(conversation, self.parts.store.messages(conversation.id))


def _history_of(conversation: ConversationSummary,
                stored: Sequence[StoredMessage]) -> list[ChatMessage]:
    """The messages the model sees: the system prompt, the questions and the answers that
    hold text."""
    messages = []
    if conversation.system_prompt:
        messages.append(ChatMessage("system", conversation.system_prompt))
    for message in stored:
        if message.role == "user":
            messages.append(ChatMessage("user", message.content))
        elif message.role == "assistant" and message.status in _HISTORY_STATUSES \
                and message.content:
            answer = ChatMessage("assistant", message.content)
            if messages and messages[-1].role == "assistant":
                # A second answer to one question (an escalation) supersedes the first:
                # later turns see it alone, and roles keep alternating, which some
                # chat templates require.
                messages[-1] = answer
            else:
                messages.append(answer)
    return messages


def _budget_can_block(router: Router) -> bool:
    """Whether a budget cap could stop a cloud answer, so the router needs this month's
    cloud spending (a ledger query a purely local setup should not pay for each turn)."""
    budget = router.policy.budget
    capped = any(cap is not None for cap in (budget.total.daily_usd,
                                             budget.total.monthly_usd)) or any(
        cap.daily_usd is not None or cap.monthly_usd is not None
        for cap in budget.providers.values())
    return capped and any(provider.tier == "cloud" for provider in router.providers)


def _within_allowed(decision: RouteDecision,
                    allowed: frozenset[str] | None) -> RouteDecision:
    """Keep a decision inside the asker's routes: a target they may not use is answered on
    this machine instead (the most private place), or refused when local is not theirs
    either. The gate's findings (sensitive, sticky) stay as the router made them."""
    if allowed is None or decision.refused or decision.target in allowed:
        return decision
    if "local" in allowed:
        return dataclasses.replace(
            decision, target="local", provider=None, model=None, rule="user-routes",
            reason=f"{decision.target} is not among this user's routes "
                   f"({', '.join(sorted(allowed))}); answered on this machine")
    return dataclasses.replace(
        decision, refused=True, rule="user-routes",
        reason=f"the policy chose {decision.target}, which is not among this user's routes "
               f"({', '.join(sorted(allowed))}); ask an admin to allow it")
