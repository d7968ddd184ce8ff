"""The local judge in the chat path, with real parts: the embedded model judges (through the
EngineManager and its owner thread, constrained by llama.cpp's JSON-schema grammar), a
recording OpenAI-compatible server on 127.0.0.1 stands in for the cloud, and SQLite holds
the answers and the audit chain.

The 135M model's verdicts are close to guesses (it is not fit to judge): these tests check
the mechanics — the grammar, fail closed on timeout, error and cancel, the audit row, the
explanation with its latency, and that a local answer never pays for the judge — and accept
either verdict where the verdict is the model's.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings, load_settings, save_settings
from app.services import Services
from app.turn.chat_turn import ChatOptions
from app.turn.judge_step import (
    Judge,
    _ask,
    choose_judge,
    judge_decision,
    make_judge,
)
from inference.engines.types import ModelInfo
from inference.models.library import embedded_model
from routing.decision import RouteDecision
from routing.providers import ProviderStore, make_provider
from routing.router import PROVIDERS_FILE
from routing.sensitivity.judge import JUDGE_CATEGORIES, verdict_schema
from tests.routing.fake_openai_server import FakeOpenAIServer, Reply

KEY = "sk-judge-0a1b2c3d4e5f6789abcd"
CLOUD_MODEL = "gpt-4o-mini"
CLOUD_ANSWER = "Here is your poem."
QUESTION = "Write a two-line poem about autumn leaves."
OPTIONS = ChatOptions(temperature=0, max_tokens=4)
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
# The cloud is the policy's default, so every plain question is bound for it.
CLOUD_DEFAULT = """version = 1
[defaults]
target = "cloud"
[failover]
max_retries = 0
"""
LATENCY = re.compile(r"judge: (not sensitive|sensitive \(.*\)), \d+\.\d s")


def configure(home: Path, **settings: object) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "policy.toml").write_text(CLOUD_DEFAULT, encoding="utf-8")
    save_settings(home / "settings.json", Settings(**settings))  # type: ignore[arg-type]


@pytest.fixture
def cloud(stillroom_home: Path, monkeypatch: pytest.MonkeyPatch
          ) -> Iterator[FakeOpenAIServer]:
    for name in PROXIES:  # talk to 127.0.0.1 directly
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STILLROOM_KEY_FAKECLOUD", KEY)
    with FakeOpenAIServer(default=Reply(CLOUD_ANSWER)) as server:
        stillroom_home.mkdir(parents=True, exist_ok=True)
        ProviderStore(stillroom_home / PROVIDERS_FILE).add(
            make_provider("fakecloud", base_url=server.base_url, models=[CLOUD_MODEL]))
        yield server


def judged_on(home: Path, timeout_s: float = 600.0) -> None:
    configure(home, judge="on", judge_model=embedded_model().id, judge_timeout_s=timeout_s)


def test_the_grammar_makes_the_embedded_model_answer_parseable_json(
        stillroom_home: Path) -> None:
    judged_on(stillroom_home)
    services = Services.open()
    try:
        engine = services.engines.engine_for(embedded_model())
        status, answer = _ask(engine, QUESTION, deadline=float("inf"), cancel=None)
        assert status == "done"
        value = json.loads(answer)
        assert list(value) == list(verdict_schema()["properties"])
        assert isinstance(value["sensitive"], bool)
        assert value["category"] in JUDGE_CATEGORIES and isinstance(value["reason"], str)
    finally:
        services.close()


def test_a_cloud_bound_turn_is_judged_explained_with_latency_and_audited(
        stillroom_home: Path, cloud: FakeOpenAIServer) -> None:
    judged_on(stillroom_home)
    services = Services.open()
    try:
        turn = services.chat().start(QUESTION, options=OPTIONS)
        list(turn)
        decision = turn.decision
        outcome = decision.judge
        assert outcome is not None and outcome.model == "SmolLM2-135M-Instruct"
        # Either verdict is the model's; what follows from each is ours.
        assert outcome.status in ("sensitive", "not-sensitive")
        assert LATENCY.search(decision.reason), decision.reason
        assert f"{outcome.latency_s:.1f} s" in decision.reason
        if outcome.status == "not-sensitive":
            assert decision.target == "cloud" and len(cloud.requests) == 1
        else:
            assert decision.target == "local" and decision.rule == "judge"
            assert decision.sticky and services.store.get(turn.conversation_id).sensitive
            assert cloud.requests == []
        (row,) = services.audit.rows()
        assert row["judge"] == outcome.audit_json()
        assert row["judge"]["verdict"] == outcome.status
        assert row["judge"]["latency_s"] == round(outcome.latency_s, 3)
        assert row["reason"] == decision.reason and row["target"] == decision.target
        assert services.audit.verify() is None
        assert QUESTION not in json.dumps(row)
        messages = services.store.messages(turn.conversation_id)
        assert messages[-1].route_reason == decision.reason
    finally:
        services.close()


def test_a_judge_that_times_out_keeps_the_text_local_and_says_why(
        stillroom_home: Path, cloud: FakeOpenAIServer) -> None:
    judged_on(stillroom_home, timeout_s=0.001)
    services = Services.open()
    try:
        turn = services.chat().start(QUESTION, options=OPTIONS)
        list(turn)
        assert turn.decision.target == "local" and turn.decision.rule == "judge"
        # The load of the judge's model (first use) is named apart: the timeout counts
        # from the loaded model.
        assert re.search(r"judge timed out after 0\.001 s( \(\+\d+\.\d s loading "
                         r"SmolLM2-135M-Instruct\))?: kept local", turn.decision.reason)
        assert not turn.decision.sticky  # no finding: the next message is judged afresh
        (row,) = services.audit.rows()
        assert row["judge"]["verdict"] == "timeout" and row["target"] == "local"
        assert services.audit.verify() is None
    finally:
        services.close()
    assert cloud.requests == []


def test_an_engine_error_fails_closed(stillroom_home: Path, tmp_path: Path) -> None:
    judged_on(stillroom_home)
    broken = tmp_path / "broken.gguf"
    with Path(embedded_model().path).open("rb") as source, broken.open("wb") as target:
        target.write(source.read(4096))  # a header cut off mid-vocabulary
    model = ModelInfo(id="broken", name="Broken", path=str(broken), format="gguf",
                      quantization=None, size_bytes=4096, sha256=None)
    services = Services.open()
    try:
        outcome = Judge(services, model, timeout_s=600)(QUESTION)
        assert outcome.status == "error" and outcome.keeps_local and outcome.reason
        cloud_bound = RouteDecision("cloud", "default", "the policy's default is fakecloud",
                                    provider="fakecloud", model=CLOUD_MODEL)
        from routing.sensitivity.judge import apply_outcome

        kept = apply_outcome(cloud_bound, outcome)
        assert kept.target == "local" and "judge failed (" in kept.reason
    finally:
        services.close()


def test_a_judge_model_that_is_not_installed_fails_closed(
        stillroom_home: Path, cloud: FakeOpenAIServer) -> None:
    configure(stillroom_home, judge="on", judge_model="no-such-model")
    services = Services.open()
    try:
        turn = services.chat().start(QUESTION, options=OPTIONS)
        list(turn)
        assert turn.decision.target == "local"
        assert "judge failed (the judge model 'no-such-model' cannot be used" \
            in turn.decision.reason
        assert services.audit.rows()[0]["judge"]["verdict"] == "error"
    finally:
        services.close()
    assert cloud.requests == []


def test_a_cancelled_judge_keeps_the_text_local(stillroom_home: Path) -> None:
    judged_on(stillroom_home)
    services = Services.open()
    try:
        stop = threading.Event()
        stop.set()
        outcome = Judge(services, embedded_model(), timeout_s=600)(QUESTION, stop)
        assert outcome.status == "cancelled" and outcome.keeps_local
    finally:
        services.close()


def test_a_local_route_never_runs_the_judge(stillroom_home: Path,
                                            cloud: FakeOpenAIServer) -> None:
    # A judge that would fail closed if it ran: its model does not exist.
    configure(stillroom_home, judge="on", judge_model="no-such-model")
    services = Services.open()
    try:
        turn = services.chat().start(QUESTION, options=ChatOptions(
            temperature=0, max_tokens=4, route="local"))
        list(turn)
        assert turn.decision.target == "local" and turn.decision.rule == "forced"
        assert turn.decision.judge is None and "judge" not in turn.decision.reason
        assert not any("judge" in step for step in turn.decision.trace)
        assert "judge" not in services.audit.rows()[0]
        local = RouteDecision("local", "default", "the policy's default is this machine")
        assert judge_decision(services, local, [QUESTION]) == (local, None)
    finally:
        services.close()
    assert cloud.requests == []


def test_auto_does_not_judge_with_a_model_unfit_to_judge(stillroom_home: Path,
                                                         cloud: FakeOpenAIServer) -> None:
    configure(stillroom_home)  # judge = "auto"; only the embedded 135M model is installed
    services = Services.open()
    try:
        choice = choose_judge(services.settings, services.library)
        assert choice.model is not None and choice.model.builtin
        assert not choice.active and "not fit to judge" in (choice.warning or "")
        turn = services.chat().start(QUESTION, options=OPTIONS)
        list(turn)
        assert turn.decision.target == "cloud" and turn.decision.judge is None
        assert any(step.startswith("judge: not run (") for step in turn.decision.trace)
        # A tool may still judge with it on purpose (route evaluate --judge).
        judge = make_judge(services, embedded_model().id, timeout_s=0.001)
        assert judge("hello").status == "timeout"
    finally:
        services.close()
    assert len(cloud.requests) == 1


def test_a_damaged_judge_setting_leaves_the_judge_on(stillroom_home: Path) -> None:
    stillroom_home.mkdir(parents=True)
    path = stillroom_home / "settings.json"
    path.write_text(json.dumps({"judge": "sometimes", "judge_timeout_s": -1}),
                    encoding="utf-8")
    settings, problems = load_settings(path)
    assert settings.judge == "on" and settings.judge_timeout_s == 8.0
    assert any("so the judge is on" in p.message for p in problems)
    shutil.rmtree(stillroom_home)


def test_doctor_names_the_judge_and_warns_that_the_embedded_model_is_unfit(
        stillroom_home: Path) -> None:
    from tests.conftest import run_cli

    configure(stillroom_home)
    done = run_cli("doctor", home=stillroom_home)
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("Judge ")]
    assert "auto: does not run; SmolLM2-135M-Instruct" in line
    assert "not fit to judge" in line
    report = json.loads(run_cli("doctor", "--json", home=stillroom_home).stdout)
    assert report["judge"]["active"] is False and report["judge"]["mode"] == "auto"


def test_an_escalation_to_the_cloud_is_judged_too(stillroom_home: Path,
                                                   cloud: FakeOpenAIServer) -> None:
    # Every local answer escalates to the cloud (fixed threshold 0); the judge runs out of
    # time, so the question is not re-asked there and the local answer stands.
    judged_on(stillroom_home, timeout_s=0.001)
    (stillroom_home / "policy.toml").write_text(
        'version = 1\n[failover]\nmax_retries = 0\n[escalation]\nenabled = true\n'
        'target = "cloud"\nmin_tokens = 4\nmin_history = 1000\nfallback_threshold = 0.0\n',
        encoding="utf-8")
    services = Services.open()
    try:
        chat = services.chat()
        turn = chat.start(QUESTION, options=ChatOptions(temperature=0, max_tokens=12))
        list(turn)
        assert turn.decision.target == "local" and turn.decision.judge is None
        assert turn.escalates  # the router would re-ask the cloud
        assert chat.escalate(turn) is None
        assert turn.escalation.target == "local" and turn.escalation.rule == "judge"
        assert "judge timed out after 0.001 s" in turn.escalation.reason
        rows = services.audit.rows()
        assert [(r["event"], r["target"]) for r in rows] == [("route", "local"),
                                                              ("escalation", "local")]
        assert "judge" not in rows[0] and rows[1]["judge"]["verdict"] == "timeout"
        assert services.audit.verify() is None
    finally:
        services.close()
    assert cloud.requests == []
