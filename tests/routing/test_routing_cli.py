"""`providers`, `keys` and `route` commands end to end: exit codes, exact JSON, and keys that
never reach a file, an output stream or an error message."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend

from routing.cli import main
from tests.conftest import REPO_ROOT, requires_secret_service
from tests.routing.fake_openai_server import AuthFailed, FakeOpenAIServer, Reply

KEY = "sk-cli-7f6e5d4c3b2a19080706"


class MemoryKeyring(KeyringBackend):
    """A keyring backend in memory: the KeyStore code path, without a desktop session."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def set_password(self, service, username, password) -> None:
        self.items[(service, username)] = password

    def get_password(self, service, username):
        return self.items.get((service, username))

    def delete_password(self, service, username) -> None:
        if (service, username) not in self.items:
            raise keyring.errors.PasswordDeleteError("not found")
        del self.items[(service, username)]


@pytest.fixture
def memory_keyring(monkeypatch) -> MemoryKeyring:
    backend = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    return backend


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "data"


def run(home: Path, *argv: str, stdin: str | None = None, monkeypatch=None) -> int:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["--data-dir", str(home), *argv])


def files_under(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file()] if directory.exists() else []


# ----------------------------------------------------------------------------- providers


def test_presets_are_listed(capsys) -> None:
    assert main(["--data-dir", "/nonexistent", "providers", "presets", "--json"]) == 0
    presets = json.loads(capsys.readouterr().out)
    assert {"openai", "anthropic", "gemini", "openrouter", "groq", "deepseek", "mistral",
            "together", "vllm", "llamacpp", "ollama", "exo", "stillroom"} == set(presets)


def test_add_list_replace_remove(home, capsys, memory_keyring) -> None:
    assert run(home, "providers", "list") == 0
    assert "No providers yet" in capsys.readouterr().out
    assert run(home, "providers", "add", "openai") == 0
    out = capsys.readouterr().out
    assert "Added openai: cloud, https://api.openai.com/v1" in out
    assert "stillroom keys set openai" in out
    assert run(home, "providers", "add", "office", "--preset", "vllm", "--base-url",
               "http://10.0.0.7:8000/v1", "--model", "qwen-32b") == 0
    assert "may send it sensitive text" in capsys.readouterr().out
    assert run(home, "providers", "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(p["name"], p["tier"], p["key"]) for p in listed] == [
        ("openai", "cloud", "missing"), ("office", "onprem", "not needed")]
    assert run(home, "providers", "add", "openai") == 2
    assert "already exists" in capsys.readouterr().err
    assert run(home, "providers", "add", "openai", "--model", "gpt-4o", "--replace") == 0
    capsys.readouterr()
    assert run(home, "providers", "list") == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split() == ["NAME", "TIER", "BASE", "URL", "KEY", "MODELS"]
    assert "gpt-4o" in table and "qwen-32b" in table
    assert run(home, "providers", "rm", "office") == 0
    assert run(home, "providers", "rm", "office") == 2
    assert "No provider named 'office'" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["providers", "add", "acme"], "needs a base URL"),
    (["providers", "add", "cloud", "--base-url", "https://x.example/v1"], "route word"),
    (["providers", "add", "acme", "--base-url", "http://x.example/v1"], "unencrypted"),
    (["providers", "add", "acme", "--base-url", "https://u:p@x.example/v1"], "keys set"),
    (["providers", "test", "ghost"], "No provider named 'ghost'"),
])
def test_provider_mistakes_exit_2_with_one_line(home, capsys, argv, message) -> None:
    assert run(home, *argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("stillroom: ") and message in err and err.count("\n") == 1


def test_providers_test_sends_one_tiny_request(home, capsys, monkeypatch, memory_keyring,
                                               fake_server: FakeOpenAIServer) -> None:
    fake_server.script(Reply("ready"))
    assert run(home, "providers", "add", "fakecloud", "--base-url", fake_server.base_url,
               "--model", "fake-model") == 0
    assert run(home, "keys", "set", "fakecloud", stdin=KEY + "\n", monkeypatch=monkeypatch) == 0
    capsys.readouterr()
    assert run(home, "providers", "test", "fakecloud", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"provider", "model", "ok", "reply", "elapsed_s", "prompt_tokens",
                           "completion_tokens"}
    assert (result["ok"], result["reply"], result["prompt_tokens"]) == (True, "ready", 11)
    (request,) = fake_server.requests
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body["max_tokens"] == 16 and request.body["temperature"] == 0.0


def test_providers_test_reports_an_auth_error_without_the_key(
        home, capsys, monkeypatch, memory_keyring, fake_server: FakeOpenAIServer) -> None:
    fake_server.script(AuthFailed(401, echo_key=True))
    run(home, "providers", "add", "fakecloud", "--base-url", fake_server.base_url,
        "--model", "fake-model")
    run(home, "keys", "set", "fakecloud", stdin=KEY, monkeypatch=monkeypatch)
    assert run(home, "providers", "test", "fakecloud") == 2
    captured = capsys.readouterr()
    assert "refused the API key (HTTP 401)" in captured.err
    assert KEY not in captured.err + captured.out
    assert len(fake_server.requests) == 1  # an auth error is not retried


def test_providers_test_respects_offline_mode(home, capsys) -> None:
    run(home, "providers", "add", "openai")
    assert main(["--data-dir", str(home), "--offline", "providers", "test", "openai"]) == 2
    assert "Offline mode is on" in capsys.readouterr().err


def test_providers_test_without_a_model_says_how_to_add_one(home, capsys) -> None:
    run(home, "providers", "add", "ollama")
    assert run(home, "providers", "test", "ollama") == 2
    assert "--model ID" in capsys.readouterr().err


# ----------------------------------------------------------------------------- keys


def test_keys_set_list_rm_never_print_or_store_the_key(home, capsys, monkeypatch,
                                                       memory_keyring) -> None:
    assert run(home, "keys", "list") == 0
    assert "No keys stored" in capsys.readouterr().out
    assert run(home, "keys", "set", "openai", stdin=KEY + "\n", monkeypatch=monkeypatch) == 0
    assert run(home, "keys", "list", "--json") == 0
    out = capsys.readouterr().out
    assert json.loads(out.split("\n", 1)[1]) == {"openai": "sk-…0706"}
    assert KEY not in out
    assert memory_keyring.items[("stillroom", "openai")] == KEY
    for path in files_under(home):
        assert KEY.encode() not in path.read_bytes(), path
    assert run(home, "keys", "rm", "openai") == 0
    assert run(home, "keys", "rm", "openai") == 0
    assert "No key for openai" in capsys.readouterr().out


def test_keys_set_refuses_empty_input(home, capsys, monkeypatch, memory_keyring) -> None:
    assert run(home, "keys", "set", "openai", stdin="\n", monkeypatch=monkeypatch) == 2
    assert "empty" in capsys.readouterr().err


def test_keys_set_without_a_keyring_says_what_to_do(home, capsys, monkeypatch) -> None:
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    assert run(home, "keys", "set", "openai", stdin=KEY, monkeypatch=monkeypatch) == 2
    err = capsys.readouterr().err
    assert "STILLROOM_KEY_OPENAI" in err and KEY not in err


def test_the_environment_override_is_mentioned(home, capsys, monkeypatch,
                                               memory_keyring) -> None:
    monkeypatch.setenv("STILLROOM_KEY_GROQ", "gsk-from-the-environment-123")
    assert run(home, "keys", "set", "groq", stdin=KEY, monkeypatch=monkeypatch) == 0
    assert "$STILLROOM_KEY_GROQ is set" in capsys.readouterr().out


# ----------------------------------------------------------------------------- route


def test_route_explain_json_has_exactly_the_documented_keys(home, capsys) -> None:
    text = "Card 4539 1488 0343 6467, billing address 221 Elm Street, Springfield, IL 62704"
    assert run(home, "route", "explain", "--json", text) == 0
    result = json.loads(capsys.readouterr().out)
    assert list(result) == ["sensitive", "categories", "spans", "target", "provider", "rule",
                            "reason"]
    assert result["sensitive"] is True and "financial" in result["categories"]
    assert result["target"] == "local" and result["rule"] == "sensitivity"
    assert result["provider"] is None
    for start, end, category in result["spans"]:
        if category == "financial":
            assert text[start:end] == "4539 1488 0343 6467"


def test_route_explain_reads_stdin_and_follows_providers_and_policy(home, capsys,
                                                                    monkeypatch) -> None:
    run(home, "providers", "add", "groq")
    assert run(home, "route", "policy") == 0
    policy = home / "policy.toml"
    assert "created from the default" in capsys.readouterr().out
    policy.write_text(policy.read_text().replace('target = "local"\n', 'target = "groq"\n', 1)
                      .replace("custom_terms = []", 'custom_terms = ["Halyard"]'))
    assert run(home, "route", "explain", "--json", "-", stdin="Explain TCP vs UDP.",
               monkeypatch=monkeypatch) == 0
    plain = json.loads(capsys.readouterr().out)
    assert (plain["target"], plain["provider"], plain["rule"]) == ("cloud", "groq", "default")
    assert plain["sensitive"] is False and plain["spans"] == []
    assert run(home, "route", "explain", "--json", "--route", "cloud",
               "Halyard status?") == 0
    custom = json.loads(capsys.readouterr().out)
    assert (custom["target"], custom["categories"]) == ("local", ["custom"])
    assert "never sent to the cloud" in custom["reason"]
    assert main(["--data-dir", str(home), "--offline", "route", "explain", "--json",
                 "Explain TCP"]) == 0
    assert json.loads(capsys.readouterr().out)["rule"] == "offline"
    assert run(home, "route", "explain", "--sensitive-conversation", "Explain TCP") == 0
    text_out = capsys.readouterr().out
    assert "rule       sticky" in text_out and "sensitive  yes" in text_out


def test_route_explain_text_output_lists_findings(home, capsys) -> None:
    assert run(home, "route", "explain", "PRIVILEGED & CONFIDENTIAL: the draft") == 0
    out = capsys.readouterr().out
    assert out.startswith("route      local: this machine")
    assert "sensitive  yes: privilege ×1" in out and "privilege" in out.splitlines()[4]


def test_route_policy_reports_mistakes_and_unknown_providers(home, capsys) -> None:
    home.mkdir(parents=True)
    (home / "policy.toml").write_text('version = 1\n[defaults]\ntarget = "openai"\n')
    assert run(home, "route", "policy") == 0
    assert "warning: [defaults] target names 'openai'" in capsys.readouterr().out
    (home / "policy.toml").write_text("version = 1\n[budget]\ndaily_usd = 'lots'\n")
    assert run(home, "route", "policy") == 2
    assert "[budget] daily_usd" in capsys.readouterr().err
    assert run(home, "route", "explain", "hello") == 2  # a broken policy is not guessed at


# ----------------------------------------------------------------------------- real keyring

SESSION = textwrap.dedent("""
    set -e
    eval "$(printf pw | gnome-keyring-daemon --unlock --components=secrets)"
    cli() { "$PYTHON" -m routing.cli --data-dir "$HOME_DIR" "$@"; }
    cli providers add fakecloud --base-url "$BASE_URL" --model fake-model
    printf '%s\\n' "$SECRET" | cli keys set fakecloud
    unset SECRET
    cli keys list
    cli providers test fakecloud
    cli providers list
    cli route explain --route fakecloud "Explain TCP in one line."
""")


@requires_secret_service
def test_a_key_through_the_real_keyring_reaches_only_the_provider(
        tmp_path, fake_server: FakeOpenAIServer) -> None:
    home = tmp_path / "data"
    fake_server.script(Reply("ready"))
    result = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", SESSION], capture_output=True, text=True,
        timeout=300, cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HOME_DIR": str(home),
             "PYTHON": sys.executable, "BASE_URL": fake_server.base_url, "SECRET": KEY,
             "PYTHONPATH": str(REPO_ROOT)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "fakecloud  sk-…0706" in result.stdout
    assert "fakecloud works: fake-model answered 'ready'" in result.stdout
    assert "route      cloud: fakecloud" in result.stdout
    assert KEY not in result.stdout + result.stderr
    assert fake_server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    stored = files_under(home)
    assert {p.name for p in stored} == {"providers.json", "keys-index.json"}
    for path in stored:
        assert KEY.encode() not in path.read_bytes(), path
