"""`stillroom models import` and `models rm` as a user runs them: fresh processes, other
apps' real folder layouts under a private HOME, real GGUF files, a real chat at the end."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from inference.engines.types import ModelInfo
from tests.conftest import run_cli
from tests.inference.fake_hub import FakeHub
from tests.inference.model_trees import (
    lmstudio_model,
    ollama_model,
    sha256_of,
    write_gguf,
)


@pytest.fixture
def user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of a user with an empty home; the importer reads only there."""
    home = tmp_path / "user"
    home.mkdir()
    for name in ("HF_HUB_CACHE", "XDG_DATA_HOME", "OLLAMA_MODELS"):
        monkeypatch.delenv(name, raising=False)
    return {"HOME": str(home), "OLLAMA_MODELS": str(home / ".ollama" / "models"),
            "HF_HOME": str(tmp_path / "hf-home")}


def _listed(home: Path) -> dict[str, dict]:
    result = run_cli("models", "list", "--json", home=home)
    assert result.returncode == 0, result.stderr
    return {m["id"]: m for m in json.loads(result.stdout)}


def test_an_imported_ollama_model_answers_in_chat(stillroom_home: Path, user: dict[str, str],
                                                  f16_model: Path) -> None:
    """A real model in Ollama's store (blob named by its real SHA-256) is imported and
    answers `stillroom chat --model NAME`."""
    digest = ollama_model(Path(user["OLLAMA_MODELS"]), "smollm2", "135m-instruct-fp16",
                          gguf=f16_model)
    result = run_cli("models", "import", "--from", "ollama", "--json", home=stillroom_home,
                     env=user)
    assert result.returncode == 0, result.stderr
    (imported,) = json.loads(result.stdout)["imported"]
    assert imported["name"] == "smollm2:135m-instruct-fp16" and imported["sha256"] == digest
    assert imported["path"] == f"{user['OLLAMA_MODELS']}/blobs/sha256-{digest}"
    assert imported["quantization"] == "F16"

    chat = run_cli("chat", "--model", "smollm2:135m-instruct-fp16", "--json", "-t", "0",
                   "--max-tokens", "12", "Say hi.", home=stillroom_home, env=user)
    assert chat.returncode == 0, chat.stderr
    answer = json.loads(chat.stdout)
    assert answer["model"] == imported["id"] and answer["text"].strip()
    assert answer["usage"]["completion_tokens"] > 0


def test_dry_run_then_import_then_again(stillroom_home: Path, user: dict[str, str]) -> None:
    home = Path(user["HOME"])
    good = lmstudio_model(home, "bartowski", "Foo-GGUF", "Foo-Q4_K_M.gguf")
    broken = home / ".lmstudio" / "models" / "bartowski" / "Foo-GGUF" / "Foo-Q8_0.gguf"
    broken.write_bytes(good.read_bytes()[:100])  # a download cut short

    dry = run_cli("models", "import", "--dry-run", "--json", home=stillroom_home, env=user)
    assert dry.returncode == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned["dry_run"] and [(i["id"], i["name"]) for i in planned["imported"]] == [
        (None, "Foo-Q4_K_M")]
    assert len(_listed(stillroom_home)) == 1

    done = run_cli("models", "import", home=stillroom_home, env=user)
    assert done.returncode == 0, done.stderr
    assert "Imported (1):" in done.stdout and "foo-q4-k-m" in done.stdout
    assert f"{broken}\n      Foo-Q8_0.gguf is truncated or corrupt" in done.stdout
    assert "the files stay where they are" in done.stdout
    listed = _listed(stillroom_home)
    assert listed["foo-q4-k-m"]["path"] == str(good)
    assert listed["foo-q4-k-m"]["sha256"] == sha256_of(good)

    again = run_cli("models", "import", home=stillroom_home, env=user)
    assert "Already in the library (1):" in again.stdout and "Imported" not in again.stdout
    assert _listed(stillroom_home) == listed


def test_import_of_a_missing_path_is_one_clear_line(stillroom_home: Path,
                                                    tmp_path: Path) -> None:
    result = run_cli("models", "import", str(tmp_path / "nowhere"), home=stillroom_home)
    assert result.returncode == 2 and result.stderr == (
        f"stillroom: {tmp_path / 'nowhere'} does not exist.\n")


def test_a_named_file_that_cannot_be_imported_fails(stillroom_home: Path,
                                                   tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a model at all, just some notes", encoding="utf-8")
    result = run_cli("models", "import", str(notes), home=stillroom_home)
    assert result.returncode == 2 and result.stderr == (
        "stillroom: not imported: notes.txt is not a GGUF model (it starts with b'not ', not "
        "b'GGUF').\n")


def test_rm_forgets_an_imported_model_and_leaves_its_file(stillroom_home: Path,
                                                          user: dict[str, str]) -> None:
    digest = ollama_model(Path(user["OLLAMA_MODELS"]), "gemma3", "1b")
    blob = Path(user["OLLAMA_MODELS"]) / "blobs" / f"sha256-{digest}"
    run_cli("models", "import", home=stillroom_home, env=user)

    kept = run_cli("models", "rm", "gemma3:1b", "--delete-file", home=stillroom_home)
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout == (f"Removed gemma3-1b from the library. Its file was left in place "
                           f"at {blob}: Stillroom did not create it (imported from Ollama: "
                           f"gemma3:1b).\n")
    assert "gemma3-1b" not in _listed(stillroom_home) and blob.exists()

    run_cli("models", "import", home=stillroom_home, env=user)
    removed = run_cli("models", "rm", "gemma3:1b", home=stillroom_home)
    assert removed.returncode == 0, removed.stderr
    assert f"Its file stays at {blob}: it was registered by reference" in removed.stdout
    assert "gemma3-1b" not in _listed(stillroom_home) and blob.exists()


def test_rm_never_removes_the_embedded_model(stillroom_home: Path, model: ModelInfo) -> None:
    result = run_cli("models", "rm", model.id, "--delete-file", home=stillroom_home)
    assert result.returncode == 2 and result.stderr == (
        f"stillroom: {model.name} is the embedded default model; it ships with Stillroom and "
        f"cannot be removed.\n")
    assert Path(model.path).exists()


def test_rm_of_the_default_model_warns(stillroom_home: Path, tmp_path: Path) -> None:
    model = write_gguf(tmp_path / "Mine.gguf", "mine")
    run_cli("models", "import", str(model), home=stillroom_home)
    (stillroom_home / "settings.json").write_text(json.dumps({"default_model": "mine"}))
    result = run_cli("models", "rm", "mine", "--json", home=stillroom_home)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"id": "mine", "path": str(model), "deleted": [],
                                         "left_because": None, "was_default": True}
    assert "warning: mine was the default model in settings" in result.stderr
    assert model.exists()


def test_rm_delete_file_deletes_a_quantize_output(stillroom_home: Path) -> None:
    made = run_cli("models", "quantize", "smollm2", "--type", "Q4_0", "--allow-requantize",
                   "--json", home=stillroom_home)
    assert made.returncode == 0, made.stderr
    output = json.loads(made.stdout)
    result = run_cli("models", "rm", output["id"], "--delete-file", home=stillroom_home)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Removed {output['id']} and deleted {output['path']}.\n"
    assert not Path(output["path"]).exists() and output["id"] not in _listed(stillroom_home)


def test_rm_delete_file_deletes_a_pulled_blob_and_its_link(stillroom_home: Path,
                                                           fake_hub: FakeHub,
                                                           tmp_path: Path) -> None:
    fake_hub.add("acme/Tiny-GGUF", {"Tiny-Q4_0.gguf": write_gguf(tmp_path / "t.gguf", "tiny")})
    env = {k: os.environ[k] for k in ("HF_ENDPOINT", "HF_HOME", "HF_HUB_DISABLE_TELEMETRY")}
    pulled = run_cli("models", "pull", "acme/Tiny-GGUF", "--json", home=stillroom_home,
                     env=env)
    assert pulled.returncode == 0, pulled.stderr
    blob = Path(json.loads(pulled.stdout)["path"])
    (link,) = (blob.parent.parent / "snapshots").rglob("Tiny-Q4_0.gguf")

    result = run_cli("models", "rm", "tiny-q4-0", "--delete-file", "--json",
                     home=stillroom_home, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["deleted"] == [str(blob), str(link)]
    assert not blob.exists() and not link.is_symlink()
