"""`stillroom models search | files | fit` against a loopback Hub, as a user runs them."""

import json
import os
from pathlib import Path

from inference.engines.types import ModelInfo
from tests.conftest import run_cli
from tests.inference.fake_hub import FakeHub
from tests.inference.test_remote_fit import make_gguf

REPO = "acme/Smol-GGUF"
FILE = "Smol-135M-Instruct-Q4_1.gguf"


def _env() -> dict[str, str]:
    return {k: os.environ[k] for k in ("HF_ENDPOINT", "HF_HOME", "HF_HUB_DISABLE_TELEMETRY")}


def test_search_lists_repos_as_text_and_json(stillroom_home: Path, fake_hub: FakeHub) -> None:
    fake_hub.add(REPO, {FILE: b"x"}, downloads=1500, gated=True)
    fake_hub.add("mlx-community/Smol-4bit", {"model.safetensors": b"x"}, tags=["mlx"],
                 library_name="mlx", downloads=20)
    result = run_cli("models", "search", "smol", home=stillroom_home, env=_env())
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].split()[:3] == [REPO, "gguf", "1.5k"] and lines[1].endswith("gated")
    assert lines[2].split()[:2] == ["mlx-community/Smol-4bit", "mlx"]
    found = json.loads(run_cli("models", "search", "smol", "--json", "--limit", "1",
                               home=stillroom_home, env=_env()).stdout)
    assert [r["repo_id"] for r in found] == [REPO] and found[0]["gated"] is True


def test_files_shows_quant_size_and_fit(stillroom_home: Path, fake_hub: FakeHub,
                                        model: ModelInfo, tmp_path: Path) -> None:
    fake_hub.add(REPO, {FILE: Path(model.path), "README.md": b"# Smol\n"})
    result = run_cli("models", "files", REPO, "--context", "2048", home=stillroom_home,
                     env=_env())
    assert result.returncode == 0, result.stderr
    row = result.stdout.splitlines()[1].split()
    assert row[:4] == [FILE, "Q4_1", "98.4", "MB"] and row[4] == "fits"
    listed = json.loads(run_cli("models", "files", REPO, "--json", home=stillroom_home,
                                env=_env()).stdout)
    assert listed[0]["size_bytes"] == model.size_bytes
    assert listed[0]["fit"]["verdict"] == "fits" and listed[0]["fit"]["context_length"] == 4096


def test_fit_of_an_installed_model_a_path_and_a_hub_file_agree(
        stillroom_home: Path, fake_hub: FakeHub, model: ModelInfo) -> None:
    fake_hub.add(REPO, {FILE: Path(model.path)})
    answers = []
    for target in (model.id, model.path, f"{REPO}:{FILE}"):
        result = run_cli("models", "fit", target, "--context", "8192", "--json",
                         home=stillroom_home, env=_env())
        assert result.returncode == 0, result.stderr
        answers.append(json.loads(result.stdout))
    kv = {a["kv_cache_bytes"] for a in answers}
    assert len(kv) == 1 and {a["weights_bytes"] for a in answers} == {model.size_bytes}
    assert answers[2]["model"] == f"{REPO}:{FILE}" and answers[2]["n_gpu_layers"] == 0
    text = run_cli("models", "fit", REPO, home=stillroom_home, env=_env())
    assert text.stdout.startswith(f"{REPO}:{FILE}: fits — needs about")


def test_errors_are_one_clear_line(stillroom_home: Path, fake_hub: FakeHub,
                                   tmp_path: Path) -> None:
    cases = [
        (("models", "fit", "no-such-model"), "no-such-model"),
        (("models", "fit", "acme/nothing-here:x.gguf"), "No repository acme/nothing-here"),
        (("models", "fit", str(tmp_path / "missing.gguf")), "does not exist"),
        (("models", "files", "acme/nothing-here"), "No repository acme/nothing-here"),
        (("models", "files", "acme/x:y.gguf"), "takes a repository, not a file"),
    ]
    fake_hub.search_status = 400
    cases.append((("models", "search", "smol"), "Could not search the Hub for 'smol'"))
    for args, message in cases:
        result = run_cli(*args, home=stillroom_home, env=_env())
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, \
            (args, result.stderr)


def test_files_handles_a_big_vocabulary_and_shards(stillroom_home: Path, fake_hub: FakeHub,
                                                   tmp_path: Path) -> None:
    first = make_gguf(tmp_path / "Big-Q8_0-00001-of-00002.gguf", vocab=200_000)
    second = make_gguf(tmp_path / "Big-Q8_0-00002-of-00002.gguf")
    fake_hub.add("acme/Big-GGUF", {first.name: first, second.name: second})
    result = run_cli("models", "files", "acme/Big-GGUF", home=stillroom_home, env=_env())
    assert result.returncode == 0, result.stderr
    assert f"{first.name} (2 parts)" in result.stdout
