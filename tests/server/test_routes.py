"""Office users go through the desktop's own gate and policy: with the policy sending
questions to the cloud (a recording OpenAI-compatible server on 127.0.0.1), a sensitive
question, or one whose earlier messages are sensitive, is still answered on this machine,
and each user's routes narrow where theirs may go."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from routing.providers import ProviderStore, make_provider
from routing.router import PROVIDERS_FILE
from tests.conftest import on_both_databases, run_cli
from tests.routing.fake_openai_server import FakeOpenAIServer, Reply
from tests.server.conftest import MODEL, ServeProcess

CLOUD_ANSWER = "Tea steams in the cup."
CARD = "4539 1488 0343 6467"  # passes Luhn; not a well-known test number, which the gate skips
CLOUD_FIRST = """version = 1
[defaults]
target = "cloud"
[failover]
max_retries = 0
"""


@pytest.fixture
def office(stillroom_home: Path, serve: type[ServeProcess]
           ) -> Iterator[tuple[ServeProcess, FakeOpenAIServer]]:
    with FakeOpenAIServer(default=Reply(CLOUD_ANSWER)) as cloud:
        stillroom_home.mkdir(parents=True, exist_ok=True)
        ProviderStore(stillroom_home / PROVIDERS_FILE).add(
            make_provider("fakecloud", base_url=cloud.base_url, models=["gpt-4o-mini"]))
        (stillroom_home / "policy.toml").write_text(CLOUD_FIRST, encoding="utf-8")
        yield serve(env={"STILLROOM_KEY_FAKECLOUD": "sk-office-0a1b2c3d4e5f"}), cloud


def _ask(client: openai.OpenAI, *messages: str) -> tuple[str, str]:
    """(X-Stillroom-Route, answer text); messages alternate user/assistant, last is user."""
    roles = ["user", "assistant"]
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, max_tokens=4, temperature=0,
        messages=[{"role": roles[i % 2], "content": text} for i, text in enumerate(messages)])
    return raw.headers["x-stillroom-route"], raw.parse().choices[0].message.content or ""


def _sent_text(cloud: FakeOpenAIServer) -> str:
    return " ".join(str(request.body) for request in cloud.requests)


def test_a_sensitive_question_from_a_cloud_user_stays_here(
        office: tuple[ServeProcess, FakeOpenAIServer]) -> None:
    server, cloud = office
    alice = server.client(server.add_user("alice", "--routes", "local,cloud"))
    route, answer = _ask(alice, "Write a haiku about tea.")
    assert route.startswith("cloud;") and answer == CLOUD_ANSWER
    assert len(cloud.requests) == 1

    route, _answer = _ask(alice, f"My card is {CARD}; write a haiku about it.")
    assert route.startswith("local; rule=sensitivity")
    assert len(cloud.requests) == 1 and "4539" not in _sent_text(cloud)
    rows = server.query('SELECT route_target, "user" FROM usage ORDER BY id')
    assert rows == [("cloud", "alice"), ("local", "alice")]
    # The ledger per user: one cloud answer billed, one local answer metered.
    report = run_cli("cost", "report", "--by-user", "--json", home=server.home)
    assert report.returncode == 0, report.stderr
    (row,) = json.loads(report.stdout)["by_user"]
    assert (row["user"], row["answers"]) == ("alice", 2)
    assert row["cloud_billed_usd"] is not None and row["cloud_billed_usd"] > 0
    text = run_cli("cost", "report", "--by-user", home=server.home).stdout
    assert "By user:" in text and "alice  2 answers" in text


def test_sensitive_earlier_messages_keep_the_question_here(
        office: tuple[ServeProcess, FakeOpenAIServer]) -> None:
    server, cloud = office
    alice = server.client(server.add_user("alice", "--routes", "local,cloud"))
    # The client keeps the history; this server never saw the card before this request.
    route, _answer = _ask(alice, f"Remember my card {CARD}.", "Noted.",
                          "Now write a haiku about tea.")
    assert route.startswith("local;")
    assert cloud.requests == []


@on_both_databases
def test_a_users_routes_narrow_the_policy(
        office: tuple[ServeProcess, FakeOpenAIServer]) -> None:
    server, cloud = office
    bob = server.client(server.add_user("bob", "--routes", "local"))
    route, _answer = _ask(bob, "Write a haiku about tea.")
    assert route.startswith("local; rule=user-routes; reason=cloud is not among this "
                            "user's routes")
    carol = server.client(server.add_user("carol", "--routes", "cloud"))
    # Sensitive text may only be answered here, which carol may not use: refused, not sent.
    with pytest.raises(openai.PermissionDeniedError) as caught:
        _ask(carol, f"My card is {CARD}.")
    assert caught.value.body["code"] == "route_not_allowed"  # type: ignore[index]
    assert cloud.requests == []
    audit = server.query('SELECT "user", target, refused FROM audit ORDER BY seq')
    assert audit == [("bob", "local", 0), ("carol", "local", 1)]
