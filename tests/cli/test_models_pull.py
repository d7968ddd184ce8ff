"""`stillroom models pull` against a loopback Hub, as a user runs it."""

import json
import os
from pathlib import Path

from inference.engines.types import ModelInfo
from tests.conftest import run_cli
from tests.inference.fake_hub import FakeHub

REPO = "acme/Smol-GGUF"
FILE = "Smol-135M-Instruct-Q4_1.gguf"


def _env() -> dict[str, str]:
    return {k: os.environ[k] for k in ("HF_ENDPOINT", "HF_HOME", "HF_HUB_DISABLE_TELEMETRY")}


def test_pull_verifies_and_registers(stillroom_home: Path, fake_hub: FakeHub,
                                     model: ModelInfo) -> None:
    fake_hub.add(REPO, {FILE: Path(model.path), "Smol-F16.gguf": b"x" * 100})
    result = run_cli("models", "pull", f"{REPO}:{FILE}", "--json", home=stillroom_home,
                     env=_env())
    assert result.returncode == 0, result.stderr
    pulled = json.loads(result.stdout)
    assert pulled["id"] == "smol-135m-instruct-q4-1" and pulled["sha256"] == model.sha256
    assert pulled["path"].endswith(f"blobs/{model.sha256}")
    listed = {m["id"]: m for m in json.loads(
        run_cli("models", "list", "--json", home=stillroom_home).stdout)}
    assert listed[pulled["id"]]["quantization"] == "Q4_1"


def test_a_corrupted_download_is_never_registered(stillroom_home: Path, fake_hub: FakeHub,
                                                  model: ModelInfo) -> None:
    fake_hub.add(REPO, {FILE: Path(model.path)})
    fake_hub.corrupt.add(FILE)
    result = run_cli("models", "pull", REPO, home=stillroom_home, env=_env())
    assert result.returncode == 2 and "is corrupt" in result.stderr
    assert "Traceback" not in result.stderr
    listed = json.loads(run_cli("models", "list", "--json", home=stillroom_home).stdout)
    assert [m["id"] for m in listed] == [model.id]


def test_pull_of_an_unknown_repo_is_one_clear_line(stillroom_home: Path,
                                                   fake_hub: FakeHub) -> None:
    result = run_cli("models", "pull", "acme/nothing-here", home=stillroom_home, env=_env())
    assert result.returncode == 2 and "No repository acme/nothing-here" in result.stderr
