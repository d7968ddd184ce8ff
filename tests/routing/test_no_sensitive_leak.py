"""A scripted chat session over real HTTP proves that no sensitive prompt ever reaches the
recording "cloud" server, through any path: the default route, a forced --route, a pinned
conversation, failover after injected errors, confidence escalation, sticky follow-ups, and
history written before a custom term existed.

``ChatPathDriver`` does what the chat path will do with the routing API (decide, stream from
the provider, fail over, escalate, audit); docs/ROUTING.md shows the same sequence.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from routing.audit import JsonlAuditLog, record_for
from routing.cloud import CloudError, RetryPolicy, stream_chat
from routing.confidence import EscalationConfig, assess
from routing.decision import RouteDecision, RouteRequest, RouteState
from routing.policy import Defaults, Policy, SensitivityPolicy
from routing.providers import Provider, make_provider
from routing.router import Router
from routing.sensitivity import scan
from tests.routing.fake_openai_server import (
    AuthFailed,
    CutMidAnswer,
    FakeOpenAIServer,
    Plan,
    RateLimited,
    Reply,
    ServerError,
    Slow,
)

LABELLED = Path(__file__).resolve().parents[1] / "data/sensitivity/labelled.jsonl"
KEY = "sk-session-1a2b3c4d5e6f7a8b9c0d"
LOCAL_MODEL = "smollm2-135m-instruct-q4_1"
UNSURE = [-0.1, -6.5, -0.2, -7.0, -5.5, -0.3, -6.0, -0.1, -4.5, -0.2]  # logprobs of a guess


@dataclasses.dataclass
class Turn:
    conversation: str
    decisions: list[RouteDecision]
    answer: str
    refused: bool


class ChatPathDriver:
    """The chat path's use of routing, minus the store and the engine."""

    def __init__(self, router: Router, providers: list[Provider], audit: JsonlAuditLog) -> None:
        self.router = router
        self.providers = {p.name: p for p in providers}
        self.audit = audit
        self.sticky: dict[str, bool] = {}
        self.pins: dict[str, str] = {}
        self.history: dict[str, list[dict[str, str]]] = {}
        self.turns: list[Turn] = []

    def _cloud(self, decision: RouteDecision, messages: list[dict[str, str]]) -> str:
        provider = self.providers[decision.provider]  # type: ignore[index]
        return "".join(chunk.text for chunk in stream_chat(
            provider, decision.model or "", messages, api_key=KEY, timeout=0.3, max_retries=1,
            sensitivity=self.router.policy.sensitivity,
            retry=RetryPolicy(base_delay_s=0.0), sleep=lambda _seconds: None))

    def send(self, conversation: str, text: str, *, route: str = "auto",
             logprobs: list[float] | None = None) -> Turn:
        state = RouteState(conversation_sensitive=self.sticky.get(conversation, False))
        request = RouteRequest(text, conversation, pinned_target=self.pins.get(conversation),
                               route=route)
        decision = self.router.decide(request, state, local_model=LOCAL_MODEL)
        if decision.sticky:
            self.sticky[conversation] = True  # the app stores this on the conversation
        messages = [*self.history.setdefault(conversation, []),
                    {"role": "user", "content": text}]
        decisions, answer = [decision], None
        while answer is None:
            current = decisions[-1]
            if current.refused:
                answer = ""
            elif current.target == "local":
                answer = f"(local answer {len(self.turns)})"
            else:
                try:
                    answer = self._cloud(current, messages)
                except CloudError as error:
                    decisions.append(self.router.failover(current, error, state=state,
                                                          local_model=LOCAL_MODEL))
        if decisions[-1].target == "local" and not decisions[-1].refused and logprobs:
            verdict = assess(logprobs, [], self.router.policy.escalation)
            escalation = self.router.escalate(request, verdict, answered=decisions[-1],
                                              state=state)
            decisions.append(escalation)
            if escalation.target != "local":
                try:
                    answer = self._cloud(escalation, messages)
                except CloudError as error:
                    decisions.append(self.router.failover(escalation, error, state=state,
                                                          local_model=LOCAL_MODEL))
        for made in decisions:
            self.audit.append(record_for(made, conversation_id=conversation))
        self.history[conversation] = [*messages, {"role": "assistant", "content": answer}]
        turn = Turn(conversation, decisions, answer, decisions[-1].refused)
        self.turns.append(turn)
        return turn


def _sensitive_examples() -> list[dict]:
    lines = LABELLED.read_text(encoding="utf-8").splitlines()
    return [e for line in lines if line.strip() for e in [json.loads(line)] if e["sensitive"]]


def _fragments(text: str, terms: tuple[str, ...]) -> list[str]:
    """The exact sensitive substrings of a text, as the gate finds them."""
    return [text[s.start:s.end] for s in scan(text, custom_terms=list(terms)).spans]


@pytest.fixture
def servers(loopback_only):
    with FakeOpenAIServer() as cloud, FakeOpenAIServer() as onprem:
        yield cloud, onprem


def _driver(cloud: FakeOpenAIServer, onprem: FakeOpenAIServer, audit_dir: Path,
            **policy_changes) -> ChatPathDriver:
    providers = [
        make_provider("fakecloud", base_url=cloud.base_url, models=["cloud-model"]),
        make_provider("fakeonprem", base_url=onprem.base_url, tier="onprem",
                      models=["onprem-model"], key_name=None),
    ]
    policy = Policy(
        defaults=Defaults(target="cloud"),
        sensitivity=SensitivityPolicy(custom_terms=("Project Halyard", "Northwind Biologics")),
        escalation=EscalationConfig(enabled=True, target="fakecloud", min_history=50,
                                    fallback_threshold=-1.0, min_tokens=4))
    policy = dataclasses.replace(policy, **policy_changes)
    return ChatPathDriver(Router(policy, providers), providers,
                          JsonlAuditLog(audit_dir / "audit.jsonl"))


def test_scripted_session_never_sends_sensitive_text(servers, tmp_path) -> None:
    cloud, onprem = servers
    chat = _driver(cloud, onprem, tmp_path)
    script: Callable[..., None] = cloud.script

    # A plain conversation reaches the cloud: the path works, so the checks below mean something.
    turn = chat.send("a", "Explain the difference between TCP and UDP.")
    assert turn.decisions[0].target == "cloud" and turn.answer.startswith("Hello")
    # The provider fails twice (retry, then give up): failover answers locally.
    script(ServerError(500), ServerError(503))
    turn = chat.send("a", "And which one does DNS use?")
    assert [d.rule for d in turn.decisions] == ["default", "failover"]
    assert turn.decisions[-1].target == "local"
    # Sensitive text forced to the cloud: answered locally; the conversation turns sticky.
    turn = chat.send("a", "My SSN is 123-45-6789, fill in the W-9 for me.", route="cloud")
    assert turn.decisions[0].rule == "sensitivity" and chat.sticky["a"]
    # Every later message of that conversation stays local, even forced and even plain.
    for route in ("auto", "cloud", "fakecloud"):
        assert chat.send("a", "Thanks! Now explain QUIC.", route=route).decisions[0].target \
            == "local"

    # A conversation pinned to the cloud provider.
    chat.pins["b"] = "fakecloud"
    assert chat.send("b", "Write a haiku about autumn.").decisions[0].target == "cloud"
    assert chat.send("b", "PRIVILEGED & CONFIDENTIAL\nSummarise the memo for the partner."
                     ).decisions[0].target == "local"
    assert chat.send("b", "Another haiku, please.").decisions[0].rule == "sticky"

    # Confidence escalation: a plain local answer that was guessed is re-asked in the cloud...
    chat.pins["c"] = "local"
    turn = chat.send("c", "What year did the Treaty of Westphalia end?", logprobs=UNSURE)
    assert turn.decisions[-1].target == "cloud" and turn.decisions[-1].rule == "confidence"
    # ...but never a sensitive one, nor a plain follow-up in its conversation.
    chat.pins["d"] = "local"
    turn = chat.send("d", "Patient John Abernathy, MRN 00417352, was prescribed 20 mg "
                          "lisinopril; draft the discharge note.", logprobs=UNSURE)
    assert turn.decisions[-1].target == "local" and "sensitive" in turn.decisions[-1].reason
    turn = chat.send("d", "Make it shorter.", logprobs=UNSURE)
    assert turn.decisions[-1].target == "local"

    # Custom terms: a matter name is sensitive under any route.
    assert chat.send("e", "Status of Project Halyard?", route="fakecloud").decisions[0] \
        .target == "local"

    # History written before a term was added: the router sees only the new message, the
    # client checks the whole conversation and refuses; failover answers locally.
    # (A server of its own: the first message was legitimately sent, before the term existed.)
    with FakeOpenAIServer() as earlier_cloud:
        early = _driver(earlier_cloud, onprem, tmp_path / "early",
                        sensitivity=SensitivityPolicy())
        early.send("g", "Tell me about the Northwind Biologics share price history.")
        later = _driver(earlier_cloud, onprem, tmp_path / "later")
        later.history = early.history
        turn = later.send("g", "Summarise our chat so far.")
        assert turn.decisions[0].target == "cloud"  # the new message alone is plain...
        assert turn.decisions[-1].rule == "failover"  # ...the client refused the history
        assert "sensitive" in turn.decisions[-1].reason
        assert len(earlier_cloud.requests) == 1

    # Every sensitive example of the labelled set, each in its own conversation, under every
    # way of asking for the cloud, with the provider failing in every way meanwhile.
    failures: list[Plan] = [ServerError(500), RateLimited("0"), AuthFailed(401),
                            CutMidAnswer(), Reply("fine")]
    asks = [("auto", None), ("cloud", None), ("fakecloud", None), ("auto", "fakecloud"),
            ("onprem", None), ("auto", "cloud")]
    examples = _sensitive_examples()
    for index, example in enumerate(examples):
        terms = tuple(example.get("custom_terms", ()))
        if terms:
            chat.router = Router(dataclasses.replace(chat.router.policy, sensitivity=(
                SensitivityPolicy(custom_terms=terms))), list(chat.providers.values()))
        route, pin = asks[index % len(asks)]
        conversation = f"labelled-{index}"
        if pin:
            chat.pins[conversation] = pin
        # A plain opener goes out first, and meets this round's failure: the failover (or the
        # answer) is part of the history the sensitive message then joins.
        # (a few timeouts are enough: each costs the client's whole timeout in real time)
        script(Slow(delay_s=30) if index % 40 == 0 else failures[index % len(failures)])
        opener = chat.send(conversation, "Quick one first: what is 17 times 3?", route=route)
        assert opener.decisions[0].target != "local" and not opener.decisions[0].sticky
        turn = chat.send(conversation, example["text"], route=route, logprobs=UNSURE)
        assert all(d.target != "cloud" for d in turn.decisions), example["text"][:60]
        turn = chat.send(conversation, "Thanks, that's all.", route=route, logprobs=UNSURE)
        assert all(d.target != "cloud" for d in turn.decisions)
        if terms:
            chat.router = _driver(cloud, onprem, tmp_path / "spare").router

    # --------------------------------------------------------------- what the servers saw
    every_term = ("Project Halyard", "Northwind Biologics",
                  *{t for e in examples for t in e.get("custom_terms", ())})
    received = cloud.everything_received() + onprem.everything_received()
    sent_texts = [text for request in cloud.requests + onprem.requests
                  for text in request.user_texts]
    assert "Explain the difference between TCP and UDP." in sent_texts  # not vacuous
    assert "What year did the Treaty of Westphalia end?" in sent_texts  # escalation reached it
    for text in sent_texts:
        assert not scan(text, custom_terms=list(every_term)).sensitive, text[:80]
    sensitive_inputs = [e["text"] for e in examples] + [
        "My SSN is 123-45-6789, fill in the W-9 for me.", "Status of Project Halyard?"]
    for text in sensitive_inputs:
        for fragment in _fragments(text, every_term):
            assert fragment not in received, fragment
    assert onprem.requests  # plain openers routed on-prem; the scans above covered them
    assert all(r.headers.get("authorization") == f"Bearer {KEY}" for r in cloud.requests)

    # --------------------------------------------------------------- the audit trail
    assert chat.audit.verify() is None
    audit_text = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    for text in sensitive_inputs:
        for fragment in _fragments(text, every_term):
            assert fragment not in audit_text, fragment
    assert KEY not in audit_text


def test_sensitive_text_may_go_on_prem_when_the_policy_allows_but_never_to_the_cloud(
        servers, tmp_path) -> None:
    cloud, onprem = servers
    chat = _driver(cloud, onprem, tmp_path,
                   sensitivity=SensitivityPolicy(target="onprem", forced_cloud="refuse"))
    turn = chat.send("x", "ATTORNEY-CLIENT PRIVILEGED: summarise the settlement memo.")
    assert (turn.decisions[0].target, turn.decisions[0].provider) == ("onprem", "fakeonprem")
    assert len(onprem.requests) == 1 and cloud.requests == []
    # On-prem fails: failover is local, never the cloud.
    onprem.script(ServerError(500), ServerError(500))
    turn = chat.send("x", "Shorter, please.")
    assert [d.target for d in turn.decisions] == ["onprem", "local"]
    # Forcing the cloud is refused outright.
    turn = chat.send("x", "Send it to the cloud model.", route="cloud")
    assert turn.refused and "Nothing was sent" in turn.decisions[0].reason
    assert cloud.requests == []
