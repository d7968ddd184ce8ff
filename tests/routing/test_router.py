"""The router's decisions, table-driven, and the invariants no policy can break."""

from __future__ import annotations

import dataclasses
import itertools
import json
from decimal import Decimal
from pathlib import Path

import pytest

from routing.cloud import CloudRateLimitedError, CloudStreamCutError
from routing.confidence import ConfidenceVerdict
from routing.decision import RouteDecision, RouteRequest, RouteState, Spend
from routing.policy import (
    BudgetCap,
    BudgetPolicy,
    CapacityPolicy,
    Defaults,
    FailoverPolicy,
    Policy,
    Rule,
    RuleCondition,
    SensitivityPolicy,
    parse_policy_text,
)
from routing.providers import make_provider
from routing.router import Router

LABELLED = Path(__file__).resolve().parents[1] / "data/sensitivity/labelled.jsonl"

PROVIDERS = (
    make_provider("openai"),
    make_provider("groq"),
    make_provider("office", preset="vllm", base_url="http://10.0.0.7:8000/v1",
                  models=["qwen-32b"]),
    make_provider("loopvllm", preset="vllm", models=["llama-8b"]),
)
PLAIN = "Explain the difference between TCP and UDP in two sentences."
SENSITIVE = "My SSN is 123-45-6789, can you fill in the form?"


def policy(**sections) -> Policy:
    return Policy(**sections)


def decide(text=PLAIN, *, route="auto", pin=None, task=None, state=None, providers=PROVIDERS,
           **sections) -> RouteDecision:
    router = Router(policy(**sections), providers)
    return router.decide(RouteRequest(text, "c1", pinned_target=pin, route=route, task=task),
                         state or RouteState(), local_model="smollm2-135m")


CASES = [
    # id, decide() kwargs, expected (target, provider, rule)
    ("no providers: local-only", dict(providers=()), ("local", None, "local-only")),
    ("default local", {}, ("local", None, "default")),
    ("default cloud", dict(defaults=Defaults(target="cloud")), ("cloud", "openai", "default")),
    ("default cloud provider", dict(defaults=Defaults(target="cloud", cloud_provider="groq")),
     ("cloud", "groq", "default")),
    ("default onprem", dict(defaults=Defaults(target="onprem")), ("onprem", "office", "default")),
    ("default cloud, none configured",
     dict(defaults=Defaults(target="cloud"), providers=PROVIDERS[2:]), ("local", None, "default")),
    ("forced cloud", dict(route="cloud"), ("cloud", "openai", "forced")),
    ("forced provider", dict(route="groq"), ("cloud", "groq", "forced")),
    ("forced onprem provider", dict(route="office"), ("onprem", "office", "forced")),
    ("forced onprem word", dict(route="onprem"), ("onprem", "office", "forced")),
    ("forced unknown", dict(route="nope"), ("local", None, "forced")),
    ("pin cloud", dict(pin="cloud"), ("cloud", "openai", "pin")),
    ("forced local beats pin", dict(route="local", pin="cloud"), ("local", None, "forced")),
    ("offline blocks forced cloud", dict(route="cloud", state=RouteState(offline=True)),
     ("local", None, "offline")),
    ("offline blocks remote onprem", dict(route="office", state=RouteState(offline=True)),
     ("local", None, "offline")),
    ("offline allows loopback onprem", dict(route="loopvllm", state=RouteState(offline=True)),
     ("onprem", "loopvllm", "forced")),
    ("offline blocks cloud even on loopback (a proxy forwards)",
     dict(route="proxy", state=RouteState(offline=True),
          providers=(*PROVIDERS, make_provider("proxy", base_url="http://127.0.0.1:4000/v1",
                                               models=["gpt-4o"]))),
     ("local", None, "offline")),
    ("daily budget reached",
     dict(route="cloud", budget=BudgetPolicy(BudgetCap(daily_usd=Decimal(5))),
          state=RouteState(spend=Spend(today_usd=Decimal("5.00")))),
     ("local", None, "budget")),
    ("monthly budget reached",
     dict(route="cloud", budget=BudgetPolicy(BudgetCap(monthly_usd=Decimal(50))),
          state=RouteState(spend=Spend(month_usd=Decimal("50.01")))),
     ("local", None, "budget")),
    ("under budget", dict(route="cloud", budget=BudgetPolicy(BudgetCap(daily_usd=Decimal(5))),
                          state=RouteState(spend=Spend(today_usd=Decimal("4.99")))),
     ("cloud", "openai", "forced")),
    ("this message's estimate would pass the cap",
     dict(route="cloud", budget=BudgetPolicy(BudgetCap(daily_usd=Decimal(5))),
          state=RouteState(spend=Spend(today_usd=Decimal("4.99")),
                           estimate_usd=lambda provider, model: Decimal("0.02"))),
     ("local", None, "budget")),
    ("this message's estimate fits under the cap",
     dict(route="cloud", budget=BudgetPolicy(BudgetCap(daily_usd=Decimal(5))),
          state=RouteState(spend=Spend(today_usd=Decimal("4.90")),
                           estimate_usd=lambda provider, model: Decimal("0.02"))),
     ("cloud", "openai", "forced")),
    ("an unknown estimate checks the spend only",
     dict(route="cloud", budget=BudgetPolicy(BudgetCap(daily_usd=Decimal(5))),
          state=RouteState(spend=Spend(today_usd=Decimal("4.99")),
                           estimate_usd=lambda provider, model: None)),
     ("cloud", "openai", "forced")),
    ("provider budget reached",
     dict(route="openai", budget=BudgetPolicy(providers={"openai": BudgetCap(Decimal(1))}),
          state=RouteState(spend=Spend(today_by_provider={"openai": Decimal("1.5")}))),
     ("local", None, "budget")),
    ("another provider's budget does not apply",
     dict(route="groq", budget=BudgetPolicy(providers={"openai": BudgetCap(Decimal(1))}),
          state=RouteState(spend=Spend(today_by_provider={"openai": Decimal("1.5")}))),
     ("cloud", "groq", "forced")),
    ("budgets never apply on-prem",
     dict(route="office", budget=BudgetPolicy(BudgetCap(daily_usd=Decimal(0)))),
     ("onprem", "office", "forced")),
    ("capacity overflow", dict(capacity=CapacityPolicy(True, 3, "onprem"),
                               state=RouteState(local_queue_depth=3)),
     ("onprem", "office", "capacity")),
    ("capacity not reached", dict(capacity=CapacityPolicy(True, 3, "onprem"),
                                  state=RouteState(local_queue_depth=2)),
     ("local", None, "default")),
    ("a pin beats capacity", dict(pin="local", capacity=CapacityPolicy(True, 1, "cloud"),
                                  state=RouteState(local_queue_depth=5)),
     ("local", None, "pin")),
    ("capacity to cloud is still budgeted",
     dict(capacity=CapacityPolicy(True, 1, "cloud"),
          budget=BudgetPolicy(BudgetCap(daily_usd=Decimal(0))),
          state=RouteState(local_queue_depth=5)),
     ("local", None, "budget")),
    ("task rule", dict(task="code", rules=(Rule("code", RuleCondition(tasks=("code",)), "groq"),)),
     ("cloud", "groq", "rule:code")),
    ("task rule, other task", dict(task="chat",
                                   rules=(Rule("code", RuleCondition(tasks=("code",)), "groq"),)),
     ("local", None, "default")),
    ("length rule", dict(rules=(Rule("long", RuleCondition(min_chars=20), "cloud"),)),
     ("cloud", "openai", "rule:long")),
    ("too short for the rule", dict(rules=(Rule("long", RuleCondition(min_chars=2000),
                                                "cloud"),)),
     ("local", None, "default")),
    ("keyword rule with provider and model",
     dict(rules=(Rule("nets", RuleCondition(contains_any=("udp",)), "cloud", "groq",
                      "llama-3.1-8b-instant"),)),
     ("cloud", "groq", "rule:nets")),
    ("local model rule", dict(rules=(Rule("tiny", RuleCondition(local_models=("smollm*",)),
                                          "office"),)),
     ("onprem", "office", "rule:tiny")),
    ("first matching rule wins",
     dict(rules=(Rule("a", RuleCondition(min_chars=1), "groq"),
                 Rule("b", RuleCondition(min_chars=1), "openai"))),
     ("cloud", "groq", "rule:a")),
    ("rule to a missing provider", dict(rules=(Rule("x", RuleCondition(min_chars=1),
                                                    "mistral"),)),
     ("local", None, "rule:x")),
    ("rule, then offline", dict(rules=(Rule("x", RuleCondition(min_chars=1), "cloud"),),
                                state=RouteState(offline=True)),
     ("local", None, "offline")),
    # sensitivity comes first, whatever else says otherwise
    ("sensitive, forced cloud", dict(text=SENSITIVE, route="cloud"),
     ("local", None, "sensitivity")),
    ("sensitive, forced provider", dict(text=SENSITIVE, route="openai"),
     ("local", None, "sensitivity")),
    ("sensitive, pinned cloud", dict(text=SENSITIVE, pin="groq"), ("local", None, "sensitivity")),
    ("sensitive, default cloud", dict(text=SENSITIVE, defaults=Defaults(target="cloud")),
     ("local", None, "sensitivity")),
    ("sensitive, cloud rule", dict(text=SENSITIVE, rules=(Rule("x", RuleCondition(min_chars=1),
                                                               "cloud"),)),
     ("local", None, "sensitivity")),
    ("sensitive, capacity to cloud", dict(text=SENSITIVE,
                                          capacity=CapacityPolicy(True, 1, "cloud"),
                                          state=RouteState(local_queue_depth=9)),
     ("local", None, "sensitivity")),
    ("sensitive to onprem when allowed", dict(text=SENSITIVE,
                                              sensitivity=SensitivityPolicy(target="onprem")),
     ("onprem", "office", "sensitivity")),
    ("sensitive, onprem allowed, offline picks loopback",
     dict(text=SENSITIVE, sensitivity=SensitivityPolicy(target="onprem"),
          defaults=Defaults(onprem_provider="loopvllm"), state=RouteState(offline=True)),
     ("onprem", "loopvllm", "sensitivity")),
    ("sensitive, onprem allowed, offline and remote",
     dict(text=SENSITIVE, sensitivity=SensitivityPolicy(target="onprem"),
          state=RouteState(offline=True)),
     ("local", None, "sensitivity")),
    ("sensitive, pinned onprem, onprem not trusted", dict(text=SENSITIVE, pin="office"),
     ("local", None, "sensitivity")),
    ("sensitive, pinned onprem, onprem trusted",
     dict(text=SENSITIVE, pin="office", sensitivity=SensitivityPolicy(target="onprem")),
     ("onprem", "office", "sensitivity")),
    ("sticky conversation, plain text, forced cloud",
     dict(route="cloud", state=RouteState(conversation_sensitive=True)),
     ("local", None, "sticky")),
    ("custom term", dict(text="Where are we on Project Halyard?", route="cloud",
                         sensitivity=SensitivityPolicy(custom_terms=("Project Halyard",))),
     ("local", None, "sensitivity")),
]


@pytest.mark.parametrize(("kwargs", "expected"), [(k, e) for _, k, e in CASES],
                         ids=[c[0] for c in CASES])
def test_decision_table(kwargs, expected) -> None:
    decision = decide(**kwargs)
    assert (decision.target, decision.provider, decision.rule) == expected, decision.reason
    assert decision.reason and decision.trace
    if decision.target == "local":
        assert decision.model == "smollm2-135m"
    else:
        assert decision.model  # a provider target always names a model


def test_decisions_name_the_model_the_rule_or_policy_chose() -> None:
    decision = decide(rules=(Rule("nets", RuleCondition(contains_any=("udp",)), "cloud", "groq",
                                  "llama-3.1-8b-instant"),))
    assert decision.model == "llama-3.1-8b-instant"
    decision = decide(route="cloud", defaults=Defaults(cloud_provider="openai",
                                                       cloud_model="gpt-4.1-mini"))
    assert decision.model == "gpt-4.1-mini"
    assert decide(route="openai").model == "gpt-4o-mini"  # the provider's first model


def test_the_existing_chat_path_call_still_works() -> None:
    # app/turn/chat_turn.py: Router().decide(RouteRequest(text=..., conversation_id=...),
    # local_model=...) and decision.target/.rule/.reason/.to_json()
    decision = Router().decide(RouteRequest(text="Say hi.", conversation_id="c"),
                               local_model="m")
    assert (decision.target, decision.rule, decision.reason) == (
        "local", "local-only", "no cloud or on-premises provider is configured")
    assert {"target", "rule", "reason", "provider", "model"} <= decision.to_json().keys()
    json.dumps(decision.to_json())


def test_sensitive_decisions_carry_findings_and_become_sticky() -> None:
    decision = decide(SENSITIVE, route="cloud")
    assert decision.sensitive and decision.sticky and not decision.refused
    assert decision.categories == ("personal",) and decision.counts == {"personal": 1}
    (start, end, category), = decision.spans
    assert SENSITIVE[start:end] == "123-45-6789" and category == "personal"
    assert "never sent to the cloud" in decision.reason
    plain = decide(PLAIN)
    assert not plain.sensitive and not plain.sticky and plain.spans == ()


def test_forced_cloud_on_sensitive_text_can_be_refused() -> None:
    decision = decide(SENSITIVE, route="cloud",
                      sensitivity=SensitivityPolicy(forced_cloud="refuse"))
    assert decision.refused and decision.target == "local" and decision.sticky
    assert "Nothing was sent" in decision.reason
    # refusing applies to an explicit cloud request only; the default is just kept local
    kept = decide(SENSITIVE, defaults=Defaults(target="cloud"),
                  sensitivity=SensitivityPolicy(forced_cloud="refuse"))
    assert not kept.refused and kept.target == "local"


def test_reasons_and_traces_never_quote_the_message() -> None:
    for text in (SENSITIVE, "PRIVILEGED & CONFIDENTIAL: Project Halyard terms"):
        decision = decide(text, route="cloud",
                          sensitivity=SensitivityPolicy(custom_terms=("Project Halyard",)))
        shown = decision.reason + " ".join(decision.trace)
        for start, end, _ in decision.spans:
            assert text[start:end] not in shown


def _labelled_sensitive() -> list[dict]:
    lines = LABELLED.read_text(encoding="utf-8").splitlines()
    return [example for line in lines if line.strip()
            for example in [json.loads(line)] if example["sensitive"]]


def test_no_policy_pin_or_route_ever_sends_sensitive_text_to_the_cloud() -> None:
    """Every sensitive example of the labelled set, under every way of asking for the cloud."""
    examples = _labelled_sensitive()
    assert len(examples) > 150
    policies = [
        policy(defaults=Defaults(target="cloud")),
        policy(defaults=Defaults(target="groq"), sensitivity=SensitivityPolicy(target="onprem")),
        policy(rules=(Rule("all", RuleCondition(min_chars=1), "cloud"),),
               sensitivity=SensitivityPolicy(forced_cloud="refuse")),
        policy(capacity=CapacityPolicy(True, 1, "cloud")),
    ]
    asks = [("auto", None), ("cloud", None), ("openai", None), ("auto", "cloud"),
            ("auto", "groq"), ("groq", "openai")]
    checked = 0
    for example, chosen, (route, pin) in itertools.product(examples, policies, asks):
        terms = tuple(example.get("custom_terms", ()))
        chosen = dataclasses.replace(chosen, sensitivity=dataclasses.replace(
            chosen.sensitivity, custom_terms=terms))
        router = Router(chosen, PROVIDERS)
        decision = router.decide(RouteRequest(example["text"], "c", pinned_target=pin,
                                              route=route),
                                 RouteState(local_queue_depth=5), local_model="m")
        assert decision.target != "cloud", (example["text"][:80], decision.reason)
        assert decision.sticky and decision.sensitive
        checked += 1
    assert checked == len(examples) * len(policies) * len(asks)


# ----------------------------------------------------------------------------- failover


def test_failover_goes_local_and_says_what_happened() -> None:
    router = Router(Policy(), PROVIDERS)
    failed = router.decide(RouteRequest(PLAIN, route="openai"), local_model="m")
    decision = router.failover(failed, CloudRateLimitedError("x", provider="openai",
                                                             attempts=3), local_model="m")
    assert (decision.target, decision.rule, decision.model) == ("local", "failover", "m")
    assert decision.reason == ("openai is rate-limiting requests after 3 attempts; answered on "
                               "this machine instead")


def test_failover_to_onprem_then_local() -> None:
    router = Router(Policy(failover=FailoverPolicy(target="onprem")), PROVIDERS)
    failed = router.decide(RouteRequest(PLAIN, route="openai"), local_model="m")
    cut = CloudStreamCutError("x", provider="openai")
    decision = router.failover(failed, cut, local_model="m")
    assert (decision.target, decision.provider) == ("onprem", "office")
    offline = router.failover(failed, cut, state=RouteState(offline=True), local_model="m")
    assert offline.target == "local"
    from_onprem = router.failover(decision, "timeout", local_model="m")
    assert from_onprem.target == "local"


def test_failover_off_refuses_and_carries_the_sticky_flag() -> None:
    router = Router(Policy(failover=FailoverPolicy(target="none"),
                           sensitivity=SensitivityPolicy(target="onprem")), PROVIDERS)
    failed = router.decide(RouteRequest(SENSITIVE), local_model="m")
    assert failed.target == "onprem" and failed.sticky
    decision = router.failover(failed, "connection")
    assert decision.refused and decision.sticky and decision.target == "local"
    assert "failover is off" in decision.reason


# ----------------------------------------------------------------------------- escalation

LOW = ConfidenceVerdict(True, -5.0, -3.0, 40, "low confidence: p10 token logprob -5.00 is "
                                               "below the fixed threshold -3.00")
FINE = ConfidenceVerdict(False, -1.0, -3.0, 40, "confident enough")


def _escalation_router(**escalation) -> Router:
    text = "version = 1\n[escalation]\nenabled = true\n" + "".join(
        f"{k} = {json.dumps(v)}\n" for k, v in escalation.items())
    return Router(parse_policy_text(text, "test"), PROVIDERS)


def test_low_confidence_re_asks_the_cloud_with_the_why() -> None:
    router = _escalation_router(model="gpt-4o")
    request = RouteRequest(PLAIN)
    answered = router.decide(request, local_model="m")
    decision = router.escalate(request, LOW, answered=answered)
    assert (decision.target, decision.provider, decision.model) == ("cloud", "openai", "gpt-4o")
    assert decision.rule == "confidence" and "low confidence" in decision.reason
    kept = router.escalate(request, FINE, answered=answered)
    assert kept.target == "local" and kept.reason == "confident enough"


@pytest.mark.parametrize(("setup", "why"), [
    ("disabled", "off in the policy"),
    ("sensitive", "sensitive text stays"),
    ("sticky", "sensitive text stays"),
    ("offline", "offline mode is on"),
    ("budget", "budget"),
    ("cloud answer", "only answers from this machine"),
])
def test_escalation_is_held_back_with_a_reason(setup, why) -> None:
    router = _escalation_router() if setup != "disabled" else Router(Policy(), PROVIDERS)
    if setup == "budget":
        router = Router(dataclasses.replace(router.policy, budget=BudgetPolicy(
            BudgetCap(daily_usd=Decimal(1)))), PROVIDERS)
    text = SENSITIVE if setup == "sensitive" else PLAIN
    state = RouteState(conversation_sensitive=setup == "sticky", offline=setup == "offline",
                       spend=Spend(today_usd=Decimal(2)))
    request = RouteRequest(text, route="openai" if setup == "cloud answer" else "auto")
    answered = router.decide(request, state, local_model="m")
    decision = router.escalate(request, LOW, answered=answered, state=state)
    assert decision.target == answered.target and why in decision.reason


def test_problems_lists_policy_names_that_are_not_providers() -> None:
    router = Router(Policy(defaults=Defaults(cloud_provider="mistral"),
                           rules=(Rule("r", RuleCondition(min_chars=1), "together"),)),
                    PROVIDERS)
    problems = router.problems()
    assert any("'mistral'" in p for p in problems) and any("'together'" in p for p in problems)
    assert Router(Policy(), PROVIDERS).problems() == []


def test_a_sensitive_system_prompt_keeps_plain_messages_local() -> None:
    router = Router(Policy(defaults=Defaults(target="cloud"),
                           sensitivity=SensitivityPolicy(custom_terms=("Northwind Biologics",))),
                    PROVIDERS)
    request = RouteRequest(PLAIN, "c", context=("You answer for Northwind Biologics' GC.",))
    decision = router.decide(request, local_model="m")
    assert (decision.target, decision.rule) == ("local", "sensitivity")
    assert decision.sticky and decision.counts == {"custom": 1} and decision.spans == ()
    assert "sent with this message" in decision.reason
    assert router.decide(RouteRequest(PLAIN, "c", context=("Be brief.",)),
                         local_model="m").target == "cloud"
    assert router.escalate(request, LOW, answered=decision).target == "local"


def test_a_budget_refusal_for_this_message_says_what_it_could_cost() -> None:
    router = Router(Policy(budget=BudgetPolicy(BudgetCap(daily_usd=Decimal(5)))), PROVIDERS)
    state = RouteState(spend=Spend(today_usd=Decimal("4.99")),
                       estimate_usd=lambda provider, model: Decimal("0.0234"))
    decision = router.decide(RouteRequest("hello", route="cloud"), state, local_model="m")
    assert decision.rule == "budget" and decision.target == "local"
    assert "could cost up to $0.0234" in decision.reason
    assert "today's cloud budget ($4.99 of $5.00 spent)" in decision.reason
