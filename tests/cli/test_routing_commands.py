"""`stillroom providers | keys | route` through the app's own entry point, in fresh processes:
the routing core's commands are wired in and read the app's data directory."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli

KEY = "sk-wired-0a1b2c3d4e5f60718293"
NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def test_providers_add_list_rm_in_the_app_data_directory(stillroom_home: Path) -> None:
    added = run_cli("providers", "add", "acme", "--base-url", "https://llm.acme.example/v1",
                    "--model", "acme-large", home=stillroom_home)
    assert added.returncode == 0, added.stderr
    assert "Added acme: cloud" in added.stdout
    stored = json.loads((stillroom_home / "providers.json").read_text(encoding="utf-8"))
    assert [p["name"] for p in stored["providers"]] == ["acme"]

    listed = json.loads(run_cli("providers", "list", "--json", home=stillroom_home).stdout)
    assert [(p["name"], p["tier"], p["key"]) for p in listed] == [("acme", "cloud", "missing")]

    removed = run_cli("providers", "rm", "acme", home=stillroom_home)
    assert removed.returncode == 0 and "Removed acme." in removed.stdout
    assert json.loads(run_cli("providers", "list", "--json", home=stillroom_home).stdout) == []


def test_a_bad_provider_is_one_line_and_exit_2(stillroom_home: Path) -> None:
    result = run_cli("providers", "add", "cloud", "--base-url", "https://x.example/v1",
                     home=stillroom_home)
    assert result.returncode == 2
    assert result.stderr.startswith("stillroom: ") and len(result.stderr.splitlines()) == 1


def test_route_explain_json_sees_the_configured_provider(stillroom_home: Path) -> None:
    run_cli("providers", "add", "acme", "--base-url", "https://llm.acme.example/v1",
            "--model", "acme-large", home=stillroom_home)
    plain = run_cli("route", "explain", "--json", "--route", "cloud", "Explain TCP vs UDP.",
                    home=stillroom_home)
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout) | {"reason": None} == {
        "sensitive": False, "categories": [], "spans": [], "target": "cloud",
        "provider": "acme", "rule": "forced", "reason": None}

    text = "My SSN is 123-45-6789, fill in the W-9."
    sensitive = json.loads(run_cli("route", "explain", "--json", "--route", "cloud", "-",
                                   home=stillroom_home, input=text).stdout)
    assert sensitive["sensitive"] is True and sensitive["target"] == "local"
    assert sensitive["provider"] is None and sensitive["categories"]
    assert all(text[start:end] for start, end, _category in sensitive["spans"])


def test_route_explain_respects_offline_mode_from_settings(stillroom_home: Path) -> None:
    run_cli("providers", "add", "acme", "--base-url", "https://llm.acme.example/v1",
            "--model", "acme-large", home=stillroom_home)
    (stillroom_home / "settings.json").write_text('{"offline": true}', encoding="utf-8")
    decided = json.loads(run_cli("route", "explain", "--json", "--route", "cloud", "Hi there.",
                                 home=stillroom_home).stdout)
    assert (decided["target"], decided["rule"]) == ("local", "offline")


def test_keys_without_a_keyring_say_what_to_do_and_never_echo_the_key(
        stillroom_home: Path) -> None:
    result = run_cli("keys", "set", "acme", home=stillroom_home, input=KEY, env=NO_KEYRING)
    assert result.returncode == 2
    assert "No OS keyring is available" in result.stderr and "STILLROOM_KEY_ACME" in result.stderr
    assert KEY not in result.stdout + result.stderr
    assert not (stillroom_home / "keys-index.json").exists()


def test_keys_list_shows_the_environment_override_masked(stillroom_home: Path) -> None:
    (stillroom_home).mkdir(parents=True, exist_ok=True)
    (stillroom_home / "keys-index.json").write_text('["acme"]', encoding="utf-8")
    result = run_cli("keys", "list", home=stillroom_home,
                     env={"STILLROOM_KEY_ACME": KEY, **NO_KEYRING})
    assert result.returncode == 0, result.stderr
    assert "acme" in result.stdout and "from $STILLROOM_KEY_ACME" in result.stdout
    assert KEY not in result.stdout + result.stderr
