"""`stillroom users` and the keys in use: a key is printed once and stored only as its
hash, and the server asks for it, slows and then stops an address that keeps guessing,
limits each user to their models and quotas (typed SDK errors with Retry-After)."""

from __future__ import annotations

import hashlib
import http.client
import json
from pathlib import Path

import openai
import pytest

from tests.conftest import on_both_databases, run_cli
from tests.server.conftest import MODEL, ServeProcess

HELLO = [{"role": "user", "content": "Say hello."}]


def _database_bytes(home: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(home.glob("stillroom.db*")))


def test_a_key_is_printed_once_and_only_its_hash_is_stored(stillroom_home: Path) -> None:
    added = run_cli("users", "add", "alice", "--tokens-per-day", "5000", "--rpm", "30",
                    "--budget-usd-month", "2.50", "--routes", "local,onprem",
                    "--models", "smollm2-*", home=stillroom_home)
    assert added.returncode == 0, added.stderr
    key = added.stdout.strip().splitlines()[-1]
    assert key.startswith("sr-") and len(key) >= 40
    listed = run_cli("users", "list", "--json", home=stillroom_home)
    assert key not in listed.stdout
    assert json.loads(listed.stdout) == [{
        "name": "alice", "tokens_per_day": 5000, "requests_per_minute": 30,
        "budget_usd_month": "2.500000000", "routes": ["local", "onprem"],
        "models": ["smollm2-*"], "admin": False}]
    stored = _database_bytes(stillroom_home)
    assert key.encode() not in stored
    assert hashlib.sha256(key.encode()).hexdigest().encode() in stored

    rotated = run_cli("users", "rotate", "alice", home=stillroom_home)
    new_key = rotated.stdout.strip().splitlines()[-1]
    assert rotated.returncode == 0 and new_key != key
    stored = _database_bytes(stillroom_home)
    assert hashlib.sha256(key.encode()).hexdigest().encode() not in stored
    assert run_cli("users", "rm", "alice", home=stillroom_home).returncode == 0
    assert json.loads(run_cli("users", "list", "--json", home=stillroom_home).stdout) == []


@pytest.mark.parametrize(("args", "named"), [
    (("add", "bob", "--routes", "local,moon"), "--routes"),
    (("add", "bad name"), "User name"),
    (("rm", "nobody"), "nobody"),
    (("rotate", "nobody"), "nobody"),
])
def test_bad_users_commands_say_one_line(stillroom_home: Path, args: tuple[str, ...],
                                         named: str) -> None:
    result = run_cli("users", *args, home=stillroom_home)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert named in line and "Traceback" not in result.stderr


def test_adding_a_name_twice_says_so(stillroom_home: Path) -> None:
    assert run_cli("users", "add", "dana", home=stillroom_home).returncode == 0
    again = run_cli("users", "add", "dana", home=stillroom_home)
    assert again.returncode == 2 and "exists already" in again.stderr


@on_both_databases
def test_once_a_user_exists_every_request_needs_a_valid_key(serve: type[ServeProcess]
                                                            ) -> None:
    server = serve()
    key = server.add_user("erin")
    with pytest.raises(openai.AuthenticationError) as missing:
        server.client().chat.completions.create(model=MODEL, messages=HELLO, max_tokens=2)
    assert missing.value.body["code"] == "invalid_api_key"  # type: ignore[index]
    with pytest.raises(openai.AuthenticationError):
        server.client().models.list()
    answer = server.client(key).chat.completions.create(model=MODEL, messages=HELLO,
                                                        max_tokens=2)
    assert answer.usage is not None
    assert server.query('SELECT "user" FROM usage') == [("erin",)]
    assert server.query('SELECT DISTINCT "user" FROM audit') == [("erin",)]
    # The user on the audit rows is covered by the chain's MAC (or hash): it verifies.
    verified = run_cli("audit", "verify", home=server.home)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_an_address_that_keeps_guessing_is_stopped(serve: type[ServeProcess]) -> None:
    server = serve()
    key = server.add_user("frank")
    for _ in range(10):
        with pytest.raises(openai.AuthenticationError):
            server.client("sr-guess").models.list()
    # Now even the right key from that address waits out the window.
    with pytest.raises(openai.RateLimitError) as caught:
        server.client(key).models.list()
    assert caught.value.body["code"] == "too_many_failed_keys"  # type: ignore[index]
    assert int(caught.value.response.headers["retry-after"]) > 0


def test_models_outside_a_users_patterns_are_forbidden(serve: type[ServeProcess]) -> None:
    server = serve()
    key = server.add_user("gina", "--models", "qwen*")
    client = server.client(key)
    assert list(client.models.list()) == []
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=2)
    assert caught.value.body["code"] == "model_not_allowed"  # type: ignore[index]
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="qwen-none", messages=HELLO, max_tokens=2)


@on_both_databases
def test_quotas_answer_429_with_retry_after(serve: type[ServeProcess]) -> None:
    server = serve()
    per_minute = server.client(server.add_user("hank", "--rpm", "1"))
    # Room for one request: admission holds its prompt's bytes plus the template's bound
    # (app/server/limits.py: about 170 tokens for this one), which is more than it uses.
    ivy_key = server.add_user("ivy", "--tokens-per-day", "200")
    per_day = server.client(ivy_key)
    admin_key = server.add_user("root", "--admin")
    per_minute.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=2)
    with pytest.raises(openai.RateLimitError) as minute:
        per_minute.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=2)
    assert minute.value.body["code"] == "requests_per_minute"  # type: ignore[index]
    assert 0 < int(minute.value.response.headers["retry-after"]) <= 60

    per_day.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=2)
    with pytest.raises(openai.RateLimitError) as day:
        per_day.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=2)
    assert day.value.body["code"] == "tokens_per_day"  # type: ignore[index]
    assert 0 < int(day.value.response.headers["retry-after"]) <= 86400

    # Only admins read the metrics.
    assert _get(server, "/metrics", ivy_key)[0] == 403
    status, metrics = _get(server, "/metrics", admin_key)
    assert status == 200 and "stillroom_requests_total" in metrics
    usage = run_cli("users", "usage", "--json", home=server.home)
    by_name = {row["name"]: row for row in json.loads(usage.stdout)}
    assert by_name["hank"]["requests"] == 1 and by_name["ivy"]["requests"] == 1
    assert by_name["root"]["requests"] == 0


def _get(server: ServeProcess, path: str, key: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port)
    connection.request("GET", path, headers={"Authorization": f"Bearer {key}"})
    response = connection.getresponse()
    return response.status, response.read().decode()


def test_serving_beyond_loopback_without_users_is_refused(stillroom_home: Path) -> None:
    result = run_cli("serve", "--host", "0.0.0.0", "--port", "0", home=stillroom_home)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "0.0.0.0" in line and "stillroom users add" in line


def test_serving_beyond_loopback_without_tls_warns_of_the_risk(
        serve: type[ServeProcess], stillroom_home: Path) -> None:
    assert run_cli("users", "add", "kim", home=stillroom_home).returncode == 0
    server = serve("--host", "0.0.0.0")
    err = server.stop()
    assert "without TLS" in err and "plain text" in err
