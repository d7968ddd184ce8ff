"""API keys go to the OS keyring and nowhere else."""

import textwrap
from pathlib import Path

import pytest

from routing.keys import KeyringUnavailableError, KeyStore, environment_variable, mask
from tests.conftest import requires_secret_service, run_with_secret_service

SECRET = "sk-test-4f9a1c2e8b7d6a5f3e2d1c0b"


def test_mask_shows_only_a_recognisable_fragment() -> None:
    assert mask(SECRET) == "sk-…1c0b"
    assert mask("short") == "••••••••"
    assert SECRET not in mask(SECRET)


def test_environment_variable_names() -> None:
    assert environment_variable("openai") == "STILLROOM_KEY_OPENAI"
    assert environment_variable("my-vllm.local") == "STILLROOM_KEY_MY_VLLM_LOCAL"


def test_environment_override_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STILLROOM_KEY_GROQ", SECRET)
    assert KeyStore(tmp_path / "keys-index.json").get("groq") == SECRET


def test_without_a_keyring_backend_the_user_is_told_what_to_do(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    store = KeyStore(tmp_path / "keys-index.json")
    with pytest.raises(KeyringUnavailableError, match="STILLROOM_KEY_OPENAI"):
        store.set("openai", SECRET)
    assert not (tmp_path / "keys-index.json").exists()


def test_bad_keys_are_refused_before_the_keyring(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys-index.json")
    with pytest.raises(ValueError, match="empty"):
        store.set("openai", "   ")
    with pytest.raises(ValueError, match="spaces"):
        store.set("openai", "sk-abc def")


SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from routing.keys import KeyStore
    home = Path(sys.argv[1])
    store = KeyStore(home / "keys-index.json")
    store.set("openai", sys.argv[2])
    assert store.get("openai") == sys.argv[2]
    print("LISTED", store.list_masked())
    assert store.delete("openai") and store.get("openai") is None
    store.set("mistral", sys.argv[2])
    print("OK")
""")


@requires_secret_service
def test_real_secret_service_round_trip_leaves_no_secret_on_disk(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    result = run_with_secret_service(SCRIPT, str(home), SECRET, home=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "LISTED {'openai': 'sk-…1c0b'}" in result.stdout and "OK" in result.stdout
    assert SECRET not in result.stdout
    for path in home.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
