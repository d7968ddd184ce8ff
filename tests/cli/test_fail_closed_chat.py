"""Issue #13, section 1, through `stillroom` in fresh processes: damaged files never open a
route to the cloud and never lock the user out, and failover names the true reason.

Real parts: a recording OpenAI-compatible server on 127.0.0.1 stands in for the cloud (a
cloud-tier provider, so offline mode refuses it even on loopback), the embedded model
answers locally, a no-network namespace (`unshare -rn`) makes a host name unresolvable."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.routing.fake_openai_server import FakeOpenAIServer, Reply

KEY = "sk-failclosed-0a1b2c3d4e5f6071"
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
CLOUD_DEFAULT = 'version = 1\n[defaults]\ntarget = "cloud"\n'


@pytest.fixture
def cloud(stillroom_home: Path) -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(default=Reply("From the cloud.")) as server:
        added = run_cli("providers", "add", "fakecloud", "--base-url", server.base_url,
                        "--model", "gpt-4o-mini", home=stillroom_home)
        assert added.returncode == 0, added.stderr
        (stillroom_home / "policy.toml").write_text(CLOUD_DEFAULT, encoding="utf-8")
        yield server


def chat(home: Path, *args: str, env: dict[str, str] | None = None,
         prefix: tuple[str, ...] = ()):
    cleared = {name: "" for name in PROXIES if name in os.environ}
    return run_cli("chat", "--json", "-t", "0", "--max-tokens", "8", *args, home=home,
                   env={**cleared, "STILLROOM_KEY_FAKECLOUD": KEY, **(env or {})},
                   prefix=prefix)


def warning_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("stillroom: warning:")]


def assistant_routes(home: Path) -> list[tuple]:
    with sqlite3.connect(home / "stillroom.db") as connection:
        return connection.execute("SELECT route_target, route_rule FROM messages "
                                  "WHERE role = 'assistant'").fetchall()


def test_the_cloud_answers_when_every_file_is_whole(stillroom_home: Path,
                                                    cloud: FakeOpenAIServer) -> None:
    """The control: the same setup with whole files does reach the cloud."""
    (stillroom_home / "settings.json").write_text('{"offline": false}', encoding="utf-8")
    result = chat(stillroom_home, "Say hi.")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["route"]["target"] == "cloud"
    assert len(cloud.requests) == 1


@pytest.mark.parametrize("content", ['{"offline": false, "temperature": 0.', '{"offline": 0}'],
                         ids=["truncated", "wrong type"])
def test_damaged_settings_never_send_the_prompt_or_key_to_the_cloud(
        stillroom_home: Path, cloud: FakeOpenAIServer, content: str) -> None:
    settings = stillroom_home / "settings.json"
    settings.write_text(content, encoding="utf-8")
    result = chat(stillroom_home, "Say hi.")
    assert result.returncode == 0, result.stderr
    route = json.loads(result.stdout)["route"]
    assert (route["target"], route["rule"]) == ("local", "offline")
    assert cloud.requests == []  # neither the prompt nor the key left the machine
    (line,) = warning_lines(result.stderr)
    assert str(settings) in line and "offline mode stays on" in line
    assert "Traceback" not in result.stderr
    assert settings.read_text(encoding="utf-8") == content
    assert [p.read_text() for p in stillroom_home.glob("settings.json.bad-*")] == [content]


def test_a_bad_policy_prints_one_line_and_still_answers_locally(
        stillroom_home: Path, cloud: FakeOpenAIServer) -> None:
    policy = stillroom_home / "policy.toml"
    policy.write_text('version = 1\n[defaults]\ntarget = "cloud"\ntarget = "local"\n',
                      encoding="utf-8")
    result = chat(stillroom_home, "--route", "fakecloud", "Say hi.")  # exit 2 before
    assert result.returncode == 0, result.stderr
    route = json.loads(result.stdout)["route"]
    assert (route["target"], route["rule"]) == ("local", "fail-closed")
    assert json.loads(result.stdout)["text"].strip()  # the local model answered
    assert cloud.requests == []
    (line,) = warning_lines(result.stderr)
    assert str(policy) in line and "line 4" in line and "Only this machine answers" in line
    assert list(stillroom_home.glob("policy.toml.bad-*"))


def test_a_bad_providers_file_prints_one_line_and_still_answers_locally(
        stillroom_home: Path, cloud: FakeOpenAIServer) -> None:
    providers = stillroom_home / "providers.json"
    document = json.loads(providers.read_text(encoding="utf-8"))
    document["providers"][0]["tier"] = "cloudy"
    providers.write_text(json.dumps(document), encoding="utf-8")
    result = chat(stillroom_home, "Say hi.")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["route"]["rule"] == "fail-closed"
    assert cloud.requests == []
    (line,) = warning_lines(result.stderr)
    assert str(providers) in line and "providers[0]" in line


def test_a_missing_key_is_named_as_missing_not_as_refused(stillroom_home: Path,
                                                          cloud: FakeOpenAIServer) -> None:
    result = chat(stillroom_home, "Say hi.", env={"STILLROOM_KEY_FAKECLOUD": "", **NO_KEYRING})
    assert result.returncode == 0, result.stderr
    route = json.loads(result.stdout)["route"]
    assert (route["target"], route["rule"]) == ("local", "failover")
    assert route["reason"].startswith("no API key for fakecloud; answered on this machine")
    assert "refused" not in route["reason"]
    assert cloud.requests == []
    assert assistant_routes(stillroom_home) == [("local", "failover")]


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")
def test_an_unresolvable_host_is_named_as_dns(stillroom_home: Path) -> None:
    added = run_cli("providers", "add", "faraway", "--base-url",
                    "https://api.faraway.invalid/v1", "--model", "gpt-4o-mini",
                    home=stillroom_home)
    assert added.returncode == 0, added.stderr
    result = chat(stillroom_home, "--route", "faraway", "Say hi.",
                  env={"STILLROOM_KEY_FARAWAY": KEY}, prefix=("unshare", "-rn"))
    assert result.returncode == 0, result.stderr
    reason = json.loads(result.stdout)["route"]["reason"]
    assert reason.startswith("cannot reach api.faraway.invalid (DNS)"), reason
    assert "answered on this machine instead" in reason


def test_a_malformed_model_list_is_one_line_and_the_library_still_lists(
        stillroom_home: Path) -> None:
    stillroom_home.mkdir(parents=True, exist_ok=True)
    registry = stillroom_home / "models.json"
    registry.write_text('{"version": 1, "models": [{"id": "half"}]}', encoding="utf-8")
    listed = run_cli("models", "list", "--json", home=stillroom_home)  # TypeError before
    assert listed.returncode == 0, listed.stderr
    assert [m["builtin"] for m in json.loads(listed.stdout)] == [True]
    (line,) = warning_lines(listed.stderr)
    assert str(registry) in line and "models[0]" in line


def test_a_damaged_database_page_is_checked_and_explained_in_one_line(
        stillroom_home: Path) -> None:
    from app.store.conversations import ConversationStore
    from app.store.db import open_engine

    stillroom_home.mkdir(parents=True, exist_ok=True)
    database = stillroom_home / "stillroom.db"
    store = ConversationStore(open_engine(f"sqlite:///{database}"))
    conversation = store.create(title="t", model_id=None, system_prompt=None)
    for index in range(300):  # enough rows for the messages table to span many pages
        store.add_user_message(conversation.id, f"message {index} " * 40)
    store.engine.dispose()
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # The messages table's root page: every read of the table goes through it, wherever
        # later schema revisions put it in the file.
        (root,) = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'messages'").fetchone()
        (page_size,) = connection.execute("PRAGMA page_size").fetchone()
    with database.open("r+b") as stream:  # that page overwritten
        stream.seek(page_size * (root - 1))
        stream.write(b"\xde\xad\xbe\xef" * (page_size // 4))
    damaged = database.read_bytes()

    result = chat(stillroom_home, "Say hi.")  # a DatabaseError crash report before
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert str(database) in line and "PRAGMA integrity_check" in line
    assert "backup" in line and "Traceback" not in line
    assert not (stillroom_home / "crash-reports").exists()
    assert database.read_bytes() == damaged  # checked, never "repaired"
