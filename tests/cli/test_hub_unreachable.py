"""With no network at all, Hub commands say so in one line instead of retrying."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import requires_unshare, run_cli

pytestmark = requires_unshare


@pytest.mark.parametrize("command", [
    ("models", "search", "smol"),
    ("models", "files", "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"),
    ("models", "fit", "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF:model.gguf"),
    ("models", "pull", "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"),
])
def test_no_route_is_one_line_naming_the_host(command: tuple[str, ...],
                                              stillroom_home: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    started = time.monotonic()
    result = run_cli(*command, home=stillroom_home, prefix=("unshare", "-rn"), timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # no retry lines
    assert "cannot reach the Hub at huggingface.co" in lines[0]
    assert "DNS" in lines[0]
    # Not a time limit: a hint for the reader when it fails (the retry loop took ~24 s).
    print(f"{' '.join(command)}: {elapsed:.2f} s")


def test_offline_mode_refuses_a_pull_in_one_line(stillroom_home: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    stillroom_home.mkdir(parents=True, exist_ok=True)
    (stillroom_home / "settings.json").write_text('{"offline": true}')
    result = run_cli("models", "pull", "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF",
                     home=stillroom_home, prefix=("unshare", "-rn"), timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "stillroom: Offline mode is on: Stillroom refused to contact huggingface.co. "
        "Turn offline mode off to use the network."]
