"""`stillroom models quantize` end to end: quantize a real F16 model, then chat with it."""

import json
from pathlib import Path

import pytest

from tests.conftest import requires_unshare, run_cli


def test_quantize_registers_a_model_that_chat_can_use(stillroom_home: Path,
                                                      f16_model: Path) -> None:
    result = run_cli("models", "quantize", str(f16_model), "--type", "Q4_K_M", "--json",
                     home=stillroom_home)
    assert result.returncode == 0, result.stderr
    made = json.loads(result.stdout)
    assert set(made) == {"id", "path", "type", "size_bytes"} and made["type"] == "Q4_K_M"
    assert Path(made["path"]).parent == stillroom_home / "models"
    assert made["size_bytes"] == Path(made["path"]).stat().st_size

    listed = json.loads(run_cli("models", "list", "--json", home=stillroom_home).stdout)
    assert {m["id"]: m["quantization"] for m in listed}[made["id"]] == "Q4_K_M"

    chat = run_cli("chat", "--model", made["id"], "--json", "-t", "0", "--max-tokens", "12",
                   "Say hi.", home=stillroom_home)
    assert chat.returncode == 0, chat.stderr
    answer = json.loads(chat.stdout)
    assert answer["model"] == made["id"] and answer["text"].strip()
    assert answer["usage"]["completion_tokens"] > 0


def test_source_by_model_id_needs_allow_requantize(stillroom_home: Path) -> None:
    refused = run_cli("models", "quantize", "smollm2", "--type", "Q4_0", home=stillroom_home)
    assert refused.returncode == 2 and "already quantized (Q4_1)" in refused.stderr
    made = run_cli("models", "quantize", "smollm2", "--type", "Q4_0", "--allow-requantize",
                   "--json", home=stillroom_home)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["type"] == "Q4_0"


@pytest.mark.parametrize(("type_name", "message"), [
    ("Q9_Z", "Unknown quantization type 'Q9_Z'. Valid types:"),
])
def test_unknown_type_is_one_clear_line(stillroom_home: Path, f16_model: Path,
                                        type_name: str, message: str) -> None:
    result = run_cli("models", "quantize", str(f16_model), "--type", type_name,
                     home=stillroom_home)
    assert result.returncode == 2 and message in result.stderr and "Q4_K_M" in result.stderr
    assert "Traceback" not in result.stderr


@requires_unshare
def test_a_full_disk_is_reported_before_any_work(stillroom_home: Path, f16_model: Path,
                                                 tmp_path: Path) -> None:
    """A real 1 MB tmpfs (in a private mount namespace) as the output's disk."""
    small = tmp_path / "small-disk"
    small.mkdir()
    script = (f'mount -t tmpfs -o size=1m tmpfs "{small}" && exec "$0" "$@"')
    result = run_cli("models", "quantize", str(f16_model), "--type", "Q8_0", "--output",
                     str(small / "out.gguf"), home=stillroom_home,
                     prefix=("unshare", "-rm", "sh", "-c", script))
    if "mount" in result.stderr and "permission denied" in result.stderr.lower():
        pytest.skip("this machine does not allow unprivileged mount namespaces")
    assert result.returncode == 2, result.stderr
    assert "Not enough disk space" in result.stderr


def test_a_type_that_needs_an_imatrix_takes_one_with_imatrix(stillroom_home: Path,
                                                             f16_model: Path,
                                                             tmp_path: Path) -> None:
    from tests.inference.test_quantize_imatrix import write_legacy_imatrix

    refused = run_cli("models", "quantize", str(f16_model), "--type", "q2_k_s",
                      home=stillroom_home)
    assert refused.returncode == 2
    assert refused.stderr.strip().endswith(
        "Q2_K_S needs an importance matrix: give --imatrix FILE (made by llama.cpp's "
        "llama-imatrix from text like yours). Without one, Q2_K or larger works.")
    imatrix = write_legacy_imatrix(f16_model, tmp_path / "imatrix.dat")
    made = run_cli("models", "quantize", str(f16_model), "--type", "Q2_K_S", "--imatrix",
                   str(imatrix), "--json", home=stillroom_home)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["type"] == "Q2_K_S"
    missing = run_cli("models", "quantize", str(f16_model), "--type", "Q2_K_S", "--imatrix",
                      str(tmp_path / "nope.dat"), home=stillroom_home)
    assert missing.returncode == 2 and "Cannot read the importance matrix" in missing.stderr
