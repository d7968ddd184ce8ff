"""Confidence escalation in the chat path, in process, with real parts: the embedded model
answers locally (its logprobs scored), a recording OpenAI-compatible server on 127.0.0.1
stands in for the cloud, and the SQLite store holds both answers, the scores, the ledger
and the audit chain."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from app.services import Services
from app.store.ledger import confidence_history
from app.turn.chat_turn import ChatOptions, RouteRefusedError
from routing.providers import ProviderStore, make_provider
from routing.router import PROVIDERS_FILE
from tests.routing.fake_openai_server import FakeOpenAIServer, Reply, ServerError

KEY = "sk-escalation-0a1b2c3d4e5f6789"
CLOUD_MODEL = "gpt-4o-mini"  # priced in the shipped catalog, so the bill is known
CLOUD_ANSWER = "The sea is wide and grey."
QUESTION = "Write a short poem about the sea."
SENSITIVE = "My SSN is 123-45-6789, write a short poem about it."
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
# 12 tokens at temperature 0: a poem is never shorter, so every answer is long enough to
# judge (min_tokens 4 below).
OPTIONS = ChatOptions(temperature=0, max_tokens=12)

# A fixed threshold of 0 until there is history: every real answer's p10 token logprob is
# below 0, so every answer escalates. No retries, so a failing cloud fails at once.
ESCALATE_EVERYTHING = """version = 1
[failover]
max_retries = 0
[escalation]
enabled = true
target = "cloud"
min_tokens = 4
min_history = 1000
fallback_threshold = 0.0
"""


def write_policy(home: Path, policy: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "policy.toml").write_text(policy, encoding="utf-8")


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


def query(services: Services, sql: str) -> list[tuple]:
    with services.store.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def test_with_escalation_off_no_logprobs_are_asked_and_nothing_is_sent(
        cloud: FakeOpenAIServer) -> None:
    services = Services.open()  # the shipped policy: escalation off
    try:
        chat = services.chat()
        turn = chat.start(QUESTION, options=OPTIONS)
        chunks = list(turn)
        assert turn.request.logprobs is False
        assert all(chunk.logprobs is None for chunk in chunks)
        assert turn.confidence is None and turn.escalation is None
        assert chat.escalate(turn) is None
        assert query(services, "SELECT confidence FROM usage") == [(None,)]
    finally:
        services.close()
    assert cloud.requests == []


def test_an_unsure_local_answer_is_re_asked_in_the_cloud_as_a_second_answer(
        stillroom_home: Path, cloud: FakeOpenAIServer) -> None:
    write_policy(stillroom_home, ESCALATE_EVERYTHING)
    services = Services.open()
    try:
        chat = services.chat()
        turn = chat.start(QUESTION, options=OPTIONS)
        local_text = "".join(chunk.text for chunk in turn)
        assert turn.request.logprobs is True
        verdict = turn.confidence
        assert verdict is not None and verdict.escalate and verdict.score < 0
        assert verdict.threshold == 0.0 and verdict.tokens >= 4
        assert turn.escalates and turn.escalation.provider == "fakecloud"
        assert turn.escalation.reason.startswith(
            f"low confidence: p10 token logprob {verdict.score:.2f} is below the fixed "
            f"threshold 0.00: re-asking fakecloud")
        # The score is stored with the local answer: it is the next answers' history.
        assert confidence_history(services.store.engine, turn.model.id) == [verdict.score]

        escalated = chat.escalate(turn)
        assert escalated is not None
        assert "".join(chunk.text for chunk in escalated) == CLOUD_ANSWER
        assert escalated.result.text == CLOUD_ANSWER

        (request,) = cloud.requests
        # Re-asked as the local model was asked: the question, not the local answer.
        assert request.body["messages"][-1] == {"role": "user", "content": QUESTION}
        assert local_text not in request.user_texts
        messages = services.store.messages(turn.conversation_id)
        assert [(m.role, m.route_target, m.route_rule, m.status) for m in messages] == [
            ("user", None, None, "complete"),
            ("assistant", "local", "default", "complete"),
            ("assistant", "cloud", "confidence", "complete")]
        assert messages[1].content == local_text and messages[2].content == CLOUD_ANSWER
        assert messages[2].route_reason == turn.escalation.reason
        assert messages[2].model_id == CLOUD_MODEL

        ledger = query(services, "SELECT route_target, provider, route_rule, confidence, "
                                 "cloud_actual_usd_nanos FROM usage ORDER BY id")
        assert ledger[0] == ("local", None, "default", verdict.score, None)
        target, provider, rule, confidence, billed = ledger[1]
        assert (target, provider, rule, confidence) == ("cloud", "fakecloud", "confidence",
                                                        None)
        assert billed > 0

        rows = services.audit.rows()
        assert [(r["event"], r["target"], r["provider"]) for r in rows] == [
            ("route", "local", None), ("escalation", "cloud", "fakecloud")]
        assert rows[1]["reason"] == turn.escalation.reason
        assert rows[1]["cost_usd"] is not None and rows[1]["completion_tokens"] > 0
        assert services.audit.verify() is None
        assert QUESTION not in repr(rows) and CLOUD_ANSWER not in repr(rows)

        # Later turns see the escalated answer in place of the unsure one.
        history = chat.history(services.store.get(turn.conversation_id))
        assert [m.content for m in history if m.role == "assistant"] == [CLOUD_ANSWER]
    finally:
        services.close()


def test_a_sensitive_prompt_is_judged_but_never_escalated(stillroom_home: Path,
                                                          cloud: FakeOpenAIServer) -> None:
    write_policy(stillroom_home, ESCALATE_EVERYTHING)
    services = Services.open()
    try:
        chat = services.chat()
        turn = chat.start(SENSITIVE, options=OPTIONS)
        list(turn)
        assert turn.confidence is not None and turn.confidence.escalate
        assert not turn.escalates
        assert turn.escalation.reason.endswith("but sensitive text stays on this machine")
        assert chat.escalate(turn) is None
        # Sticky: a plain follow-up in that conversation is not escalated either.
        follow_up = chat.start(QUESTION, conversation_id=turn.conversation_id,
                               options=OPTIONS)
        list(follow_up)
        assert follow_up.confidence.escalate and not follow_up.escalates
        assert chat.escalate(follow_up) is None
        assert [r["event"] for r in services.audit.rows()] == ["route", "route"]
    finally:
        services.close()
    assert cloud.requests == []


def test_a_failed_escalation_keeps_the_local_answer_and_never_answers_locally_twice(
        stillroom_home: Path, cloud: FakeOpenAIServer) -> None:
    write_policy(stillroom_home, ESCALATE_EVERYTHING)
    cloud.script(ServerError(503))
    services = Services.open()
    try:
        chat = services.chat()
        turn = chat.start(QUESTION, options=OPTIONS)
        list(turn)
        escalated = chat.escalate(turn)
        with pytest.raises(RouteRefusedError, match="fakecloud had a server error; the "
                                                    "escalation was dropped"):
            list(escalated)
        statuses = [(m.role, m.route_rule, m.status)
                    for m in services.store.messages(turn.conversation_id)]
        assert statuses == [("user", None, "complete"),
                            ("assistant", "default", "complete"),
                            ("assistant", "failover", "error")]
        assert [r["event"] for r in services.audit.rows()] == ["route", "escalation",
                                                                "failover"]
        assert query(services, "SELECT route_target FROM usage") == [("local",)]
    finally:
        services.close()
    assert len(cloud.requests) == 1


def test_the_threshold_is_calibrated_on_this_models_own_past_scores(
        stillroom_home: Path, cloud: FakeOpenAIServer) -> None:
    # No fallback: nothing escalates until two scores exist, then the threshold is their
    # 50th percentile.
    write_policy(stillroom_home, "version = 1\n[escalation]\nenabled = true\n"
                                 "min_tokens = 4\nmin_history = 2\nhistory_percentile = 50\n")
    services = Services.open()
    try:
        chat = services.chat()
        reasons, scores = [], []
        for prompt in (QUESTION, "Write a short poem about a cat.",
                       "Write a short poem about the moon."):
            turn = chat.start(prompt, options=OPTIONS)
            list(turn)
            reasons.append(turn.confidence.reason)
            scores.append(turn.confidence.score)
        assert reasons[0].endswith("not calibrated yet (0 of 2 past answers)")
        assert reasons[1].endswith("not calibrated yet (1 of 2 past answers)")
        median = (scores[0] + scores[1]) / 2
        assert f"your 50th percentile {median:.2f} over 2 answers" in reasons[2]
        assert confidence_history(services.store.engine, turn.model.id) == scores[::-1]
        assert confidence_history(services.store.engine, "another-model") == []
    finally:
        services.close()
    # Judging an answer sends nothing; only ChatService.escalate would.
    assert cloud.requests == []
