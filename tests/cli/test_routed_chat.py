"""`stillroom chat --route` end to end with real parts: a provider added through the CLI, a
recording OpenAI-compatible server on 127.0.0.1 standing in for the cloud, the embedded
model for local answers, the SQLite store, the audit chain checked by `stillroom audit`."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.routing.fake_openai_server import FakeOpenAIServer, Reply, ServerError

KEY = "sk-routed-chat-9f8e7d6c5b4a3210"
# Priced in the shipped catalog, so the bill can be checked as a known amount.
CLOUD_MODEL = "gpt-4o-mini"
SENSITIVE = "My SSN is 123-45-6789, fill in the W-9 for me."
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture
def cloud(stillroom_home: Path) -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(default=Reply("Paris is the capital of France.")) as server:
        added = run_cli("providers", "add", "fakecloud", "--base-url", server.base_url,
                        "--model", CLOUD_MODEL, home=stillroom_home)
        assert added.returncode == 0, added.stderr
        yield server


def chat(home: Path, *args: str, settings: dict | None = None):
    if settings is not None:
        (home / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    # The key through its documented environment override; proxies off so the client talks
    # to 127.0.0.1 directly.
    env = {name: "" for name in PROXIES if name in os.environ}
    return run_cli("chat", "-t", "0", "--max-tokens", "12", *args, home=home,
                   env={**env, "STILLROOM_KEY_FAKECLOUD": KEY})


def rows(home: Path, query: str) -> list[tuple]:
    with sqlite3.connect(home / "stillroom.db") as connection:
        return connection.execute(query).fetchall()


def test_plain_prompt_forced_to_the_cloud_is_answered_there_and_billed(
        stillroom_home: Path, cloud: FakeOpenAIServer) -> None:
    result = chat(stillroom_home, "--json", "--route", "cloud", "What is the capital of France?")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["text"] == "Paris is the capital of France."
    assert answer["route"] | {"reason": None} == {
        "target": "cloud", "rule": "forced", "reason": None, "provider": "fakecloud",
        "model": CLOUD_MODEL, "sensitive": False, "categories": []}
    assert answer["usage"]["prompt_tokens"] == 11  # what the server reported

    (request,) = cloud.requests
    assert request.user_texts[-1] == "What is the capital of France?"
    assert {k.lower(): v for k, v in request.headers.items()}["authorization"] == f"Bearer {KEY}"
    assert rows(stillroom_home, "SELECT role, route_target, status FROM messages") == [
        ("user", None, "complete"), ("assistant", "cloud", "complete")]
    ((provider, billed),) = rows(stillroom_home,
                                 "SELECT provider, cloud_actual_usd_nanos FROM usage")
    assert provider == "fakecloud" and billed > 0

    verified = run_cli("audit", "verify", home=stillroom_home)
    assert verified.returncode == 0 and "1 rows" in verified.stdout
    exported = run_cli("audit", "export", home=stillroom_home)
    (row,) = [json.loads(line) for line in exported.stdout.splitlines()]
    assert (row["target"], row["provider"], row["prompt_tokens"]) == ("cloud", "fakecloud", 11)
    assert row["cost_usd"] is not None and "France" not in exported.stdout
    everything = b"".join(p.read_bytes() for p in stillroom_home.rglob("*") if p.is_file())
    assert KEY.encode() not in everything


def test_sensitive_prompt_forced_to_the_cloud_never_reaches_it(
        stillroom_home: Path, cloud: FakeOpenAIServer) -> None:
    result = chat(stillroom_home, "--json", "--route", "cloud", SENSITIVE)
    assert result.returncode == 0, result.stderr
    route = json.loads(result.stdout)["route"]
    assert (route["target"], route["rule"], route["provider"]) == ("local", "sensitivity", None)
    assert route["sensitive"] and route["categories"]
    assert "never sent to the cloud" in route["reason"]
    # Sticky: a plain follow-up in the same conversation, forced again, stays local too.
    conversation = json.loads(result.stdout)["conversation_id"]
    follow_up = chat(stillroom_home, "--json", "--route", "fakecloud", "--conversation",
                     conversation, "Thanks. What is QUIC?")
    assert json.loads(follow_up.stdout)["route"]["rule"] == "sticky"
    assert cloud.requests == []
    audit = rows(stillroom_home, "SELECT target, sensitive, categories FROM audit")
    assert [(target, bool(flag)) for target, flag, _ in audit] == [("local", True)] * 2
    assert "123-45-6789" not in json.dumps(audit)


def test_refuse_policy_answers_nothing_and_says_why(stillroom_home: Path,
                                                    cloud: FakeOpenAIServer) -> None:
    (stillroom_home / "policy.toml").write_text(
        'version = 1\n[sensitivity]\nforced_cloud = "refuse"\n', encoding="utf-8")
    result = chat(stillroom_home, "--route", "cloud", SENSITIVE)
    assert result.returncode == 2
    assert result.stderr.startswith("stillroom: refused:") and "Traceback" not in result.stderr
    assert cloud.requests == []
    # The question is kept; there is no answer.
    assert rows(stillroom_home, "SELECT role FROM messages") == [("user",)]


def test_server_errors_fall_back_to_a_local_answer_with_the_reason(
        stillroom_home: Path, cloud: FakeOpenAIServer) -> None:
    cloud.script(ServerError(500), ServerError(502), ServerError(503))
    result = chat(stillroom_home, "--route", "cloud", "Say hi.")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()  # the local model answered
    assert "fakecloud had a server error after 3 attempts; answered on this machine " \
           "instead" in result.stderr
    assert len(cloud.requests) == 3
    assert rows(stillroom_home, "SELECT route_target, route_rule, status FROM messages "
                                "WHERE role = 'assistant'") == [("local", "failover", "complete")]
    assert [r[0] for r in rows(stillroom_home, "SELECT event FROM audit ORDER BY seq")] == [
        "route", "failover"]


def test_offline_mode_keeps_the_cloud_out(stillroom_home: Path,
                                          cloud: FakeOpenAIServer) -> None:
    result = chat(stillroom_home, "--json", "--route", "cloud", "Say hi.",
                  settings={"offline": True})
    assert result.returncode == 0, result.stderr
    route = json.loads(result.stdout)["route"]
    assert (route["target"], route["rule"]) == ("local", "offline")
    assert cloud.requests == []


def test_an_unknown_route_is_one_line_and_exit_2(stillroom_home: Path) -> None:
    result = chat(stillroom_home, "--route", "clodu", "Say hi.")
    assert result.returncode == 2
    assert "--route 'clodu' is not auto, local, onprem, cloud or a provider" in result.stderr


def test_a_message_whose_worst_case_would_pass_the_budget_is_answered_locally(
        stillroom_home: Path, cloud: FakeOpenAIServer) -> None:
    """Nothing was spent yet, but this message (prompt + 12 tokens of gpt-4o-mini at list
    price, about $0.000008) could cost more than the $0.000005 cap: it stays local."""
    (stillroom_home / "policy.toml").write_text(
        "[budget]\ndaily_usd = 0.000005\n", encoding="utf-8")
    result = chat(stillroom_home, "--json", "--route", "cloud", "What is the capital of France?")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["route"]["target"] == "local" and answer["route"]["rule"] == "budget"
    assert "could cost up to $0.0000" in answer["route"]["reason"]
    assert cloud.requests == []
    (stillroom_home / "policy.toml").write_text("[budget]\ndaily_usd = 0.01\n", encoding="utf-8")
    roomy = chat(stillroom_home, "--json", "--route", "cloud", "What is the capital of France?")
    assert json.loads(roomy.stdout)["route"]["target"] == "cloud", roomy.stderr
