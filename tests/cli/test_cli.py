"""The command line as a user runs it: a fresh process, a fresh data directory."""

import json
import shutil
from pathlib import Path

import pytest

from inference.engines.types import ModelInfo
from tests.conftest import requires_unshare, run_cli

TIMING_KEYS = {"ttft_s", "prefill_tps", "decode_tps", "total_s"}


def _no_traceback(result) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


def test_one_shot_json_has_the_documented_shape(stillroom_home: Path) -> None:
    result = run_cli("chat", "--json", "-t", "0", "--max-tokens", "16", "Say hi.",
                     home=stillroom_home)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert {"text", "model", "conversation_id", "route", "usage", "timings"} <= answer.keys()
    assert answer["text"].strip()
    assert answer["model"] == "smollm2-135m-instruct-q4_1"
    assert answer["route"] == {"target": "local", "rule": "local-only",
                               "reason": "no cloud or on-premises provider is configured",
                               "provider": None, "model": "smollm2-135m-instruct-q4_1",
                               "sensitive": False, "categories": []}
    assert answer["usage"]["completion_tokens"] <= 16 and answer["usage"]["prompt_tokens"] > 0
    assert set(answer["timings"]) == TIMING_KEYS
    assert all(answer["timings"][k] > 0 for k in TIMING_KEYS)


def test_prompt_from_stdin_and_continuing_a_conversation(stillroom_home: Path) -> None:
    first = json.loads(run_cli("chat", "--json", "-t", "0", "--max-tokens", "8",
                               home=stillroom_home, input="Name a colour.\n").stdout)
    conversation = first["conversation_id"]
    second = run_cli("chat", "--json", "-t", "0", "--max-tokens", "8",
                     "--conversation", conversation[:6], "And another?", home=stillroom_home)
    assert json.loads(second.stdout)["conversation_id"] == conversation
    assert json.loads(second.stdout)["usage"]["prompt_tokens"] > first["usage"]["prompt_tokens"]


def test_streamed_answer_goes_to_stdout_and_the_route_line_to_stderr(stillroom_home: Path
                                                                    ) -> None:
    result = run_cli("chat", "-t", "0", "--max-tokens", "12", "Say hi.", home=stillroom_home)
    assert result.returncode == 0 and result.stdout.strip()
    assert "local · SmolLM2-135M-Instruct · no cloud or on-premises provider" in result.stderr
    assert "tok/s" in result.stderr


def test_models_list_json(stillroom_home: Path, model: ModelInfo) -> None:
    (listed,) = json.loads(run_cli("models", "list", "--json", home=stillroom_home).stdout)
    assert listed["id"] == model.id and listed["path"] == model.path
    assert (listed["format"], listed["quantization"]) == ("gguf", "Q4_1")
    assert (listed["size_bytes"], listed["sha256"]) == (model.size_bytes, model.sha256)
    assert listed["name"] == "SmolLM2-135M-Instruct"


def test_doctor_json_reports_machine_engines_and_data_dir(stillroom_home: Path) -> None:
    report = json.loads(run_cli("doctor", "--json", home=stillroom_home).stdout)
    assert report["data_dir"] == str(stillroom_home)
    assert report["ram_total_bytes"] > 0 and report["logical_cores"] >= 1
    engines = {e["name"]: e for e in report["engines"]}
    assert engines["llama.cpp"]["available"] is True
    assert isinstance(report["gpus"], list) and isinstance(report["sensors"], list)


@pytest.mark.parametrize(("args", "message"), [
    (("chat", "--model", "llama-70b", "hi"), "No model 'llama-70b' in the library"),
    (("chat", "--conversation", "ffffffffffff", "hi"), "does not exist"),
    (("chat", "--temperature", "5", "hi"), "must be between 0 and 2"),
    (("chat", "--max-tokens", "0", "hi"), "must be at least 1"),
    (("chat", "--json"), "no prompt given"),
])
def test_bad_input_gets_one_clear_line(stillroom_home: Path, args: tuple, message: str) -> None:
    result = run_cli(*args, home=stillroom_home)
    assert result.returncode == 2
    assert message in result.stderr
    _no_traceback(result)


def test_unwritable_data_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli("chat", "hi", home=blocker / "data")
    assert result.returncode == 2
    assert "part of its path is a file" in result.stderr and "STILLROOM_HOME" in result.stderr
    _no_traceback(result)


def test_prompt_over_the_context_length(stillroom_home: Path) -> None:
    result = run_cli("chat", home=stillroom_home, input="word " * 6000)
    assert result.returncode == 2
    assert "model's context holds 4096" in result.stderr
    _no_traceback(result)


def _register_copy(model: ModelInfo, home: Path, target: Path) -> str:
    shutil.copyfile(model.path, target)
    from inference.models.library import ModelLibrary

    return ModelLibrary(home).register(target).id


def test_missing_and_corrupt_model_files(stillroom_home: Path, model: ModelInfo,
                                         tmp_path: Path) -> None:
    copy = tmp_path / "copy.gguf"
    model_id = _register_copy(model, stillroom_home, copy)
    with copy.open("r+b") as stream:
        stream.truncate(40_000_000)
    result = run_cli("chat", "--model", model_id, "hi", home=stillroom_home)
    assert result.returncode == 2 and "is truncated" in result.stderr
    _no_traceback(result)
    copy.unlink()
    result = run_cli("chat", "--model", model_id, "hi", home=stillroom_home)
    assert result.returncode == 2 and "is missing" in result.stderr
    _no_traceback(result)


def test_no_arguments_without_a_display_starts_the_terminal_chat(stillroom_home: Path) -> None:
    result = run_cli(home=stillroom_home, input="Say hi.\n")
    assert "Starting the terminal chat: no display found" in result.stderr
    assert result.returncode == 0 and result.stdout.strip()


@requires_unshare
def test_chat_works_with_no_network_at_all(stillroom_home: Path) -> None:
    # A network namespace with no interfaces up: not even loopback is reachable.
    result = run_cli("chat", "--json", "-t", "0", "--max-tokens", "8", "Say hi.",
                     home=stillroom_home, prefix=("unshare", "-rn"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["text"].strip()
