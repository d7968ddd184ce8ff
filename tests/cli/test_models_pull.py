"""`stillroom models pull` against a loopback Hub, as a user runs it."""

import json
import os
from pathlib import Path

from inference.engines.types import ModelInfo
from tests.conftest import run_cli
from tests.inference.fake_hub import COMMIT, FakeHub

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


def test_rm_leaves_a_blob_another_tool_had_cached(stillroom_home: Path, fake_hub: FakeHub,
                                                  model: ModelInfo) -> None:
    """`models rm --delete-file` once deleted a blob that huggingface-cli had downloaded
    and still used: a pull that finds the blob in the cache reuses it but does not own it."""
    fake_hub.add(REPO, {FILE: Path(model.path)})
    repo_cache = Path(os.environ["HF_HOME"]) / "hub" / "models--acme--Smol-GGUF"
    blob = repo_cache / "blobs" / model.sha256
    blob.parent.mkdir(parents=True)
    blob.write_bytes(Path(model.path).read_bytes())  # another tool's download
    theirs = repo_cache / "snapshots" / ("f" * 40) / FILE
    theirs.parent.mkdir(parents=True)
    theirs.symlink_to(blob)

    pulled = run_cli("models", "pull", f"{REPO}:{FILE}", "--json", home=stillroom_home,
                     env=_env())
    assert pulled.returncode == 0, pulled.stderr
    assert json.loads(pulled.stdout)["path"] == str(blob)
    result = run_cli("models", "rm", "smol-135m-instruct-q4-1", "--delete-file",
                     home=stillroom_home, env=_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"Removed smol-135m-instruct-q4-1 from the library. Its file was left in place at "
        f"{blob}: Stillroom did not create it (hf:{REPO}/{FILE}@{COMMIT}).\n")
    assert blob.read_bytes()[:4] == b"GGUF" and theirs.resolve() == blob


def test_rm_deletes_a_blob_its_own_pull_made(stillroom_home: Path, fake_hub: FakeHub,
                                            model: ModelInfo) -> None:
    fake_hub.add(REPO, {FILE: Path(model.path)})
    pulled = run_cli("models", "pull", f"{REPO}:{FILE}", "--json", home=stillroom_home,
                     env=_env())
    blob = Path(json.loads(pulled.stdout)["path"])
    result = run_cli("models", "rm", "smol-135m-instruct-q4-1", "--delete-file", "--json",
                     home=stillroom_home, env=_env())
    assert result.returncode == 0, result.stderr
    removed = json.loads(result.stdout)
    assert removed["deleted"][0] == str(blob) and removed["left_because"] is None
    assert not blob.exists()
