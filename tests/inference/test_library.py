import json
import os
import shutil
from pathlib import Path

import pytest

from inference.engines.types import EngineError, ModelInfo
from inference.models.library import (
    ModelIntegrityError,
    ModelLibrary,
    ModelNotFoundError,
)


@pytest.fixture
def library(stillroom_home: Path) -> ModelLibrary:
    return ModelLibrary(stillroom_home)


@pytest.fixture
def model_copy(model: ModelInfo, tmp_path: Path) -> Path:
    target = tmp_path / "models" / "My-Model.Q4_1.gguf"
    target.parent.mkdir()
    shutil.copyfile(model.path, target)
    return target


def test_a_new_data_directory_lists_the_embedded_model(library: ModelLibrary) -> None:
    (embedded,) = library.list()
    assert embedded.builtin and embedded.format == "gguf" and embedded.quantization == "Q4_1"
    assert library.get("smollm2") == embedded  # unique prefix
    assert library.get("SmolLM2-135M-Instruct") == embedded  # name


def test_unknown_model_names_what_is_installed(library: ModelLibrary) -> None:
    with pytest.raises(ModelNotFoundError, match="Installed: smollm2-135m-instruct-q4_1"):
        library.get("llama-70b")


def test_register_by_reference_hashes_and_describes(library: ModelLibrary, model: ModelInfo,
                                                    model_copy: Path) -> None:
    registered = library.register(model_copy)
    assert registered.id == "my-model-q4-1"
    assert registered.path == str(model_copy.resolve())
    assert registered.sha256 == model.sha256
    assert registered.quantization == "Q4_1" and registered.context_length == 8192
    assert library.register(model_copy) == registered  # same file: no duplicate
    assert [m.id for m in library.list()] == [model.id, registered.id]
    library.verify(registered)  # verified at registration: no second hash needed


def test_a_file_changed_after_registration_is_refused(library: ModelLibrary,
                                                      model_copy: Path) -> None:
    registered = library.register(model_copy)
    with model_copy.open("r+b") as stream:  # same size, one byte of tensor data flipped
        stream.seek(60_000_000)
        byte = stream.read(1)
        stream.seek(60_000_000)
        stream.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelIntegrityError, match="is corrupt: its SHA-256"):
        library.verify(registered)


def test_a_truncated_or_missing_file_is_refused(library: ModelLibrary, model_copy: Path) -> None:
    registered = library.register(model_copy)
    os.truncate(model_copy, 1_000_000)
    with pytest.raises(ModelIntegrityError, match="truncated"):
        library.verify(registered)
    model_copy.unlink()
    with pytest.raises(ModelNotFoundError, match="is missing"):
        library.verify(registered)


def test_register_refuses_a_wrong_expected_hash(library: ModelLibrary, model_copy: Path) -> None:
    with pytest.raises(ModelIntegrityError, match="not registered"):
        library.register(model_copy, sha256="0" * 64)
    assert len(library.list()) == 1


def test_remove_keeps_the_file_and_protects_the_embedded_model(
        library: ModelLibrary, model: ModelInfo, model_copy: Path) -> None:
    registered = library.register(model_copy)
    library.remove(registered.id)
    assert model_copy.exists()
    assert [m.id for m in library.list()] == [model.id]
    with pytest.raises(EngineError, match="cannot be removed"):
        library.remove(model.id)


def test_a_damaged_registry_is_reported_not_overwritten(library: ModelLibrary) -> None:
    library.registry_path.parent.mkdir(parents=True, exist_ok=True)
    library.registry_path.write_text('{"version": 1, "models": [', encoding="utf-8")
    assert [m.builtin for m in library.list()] == [True]  # the embedded model still loads
    (problem,) = library.problems()
    assert "not valid JSON" in str(problem)
    assert library.registry_path.read_text(encoding="utf-8") == '{"version": 1, "models": ['


def test_registry_survives_a_round_trip(library: ModelLibrary, model_copy: Path) -> None:
    registered = library.register(model_copy, name="Mine")
    data = json.loads(library.registry_path.read_text(encoding="utf-8"))
    assert data["models"][0]["name"] == "Mine"
    assert ModelLibrary(library.registry_path.parent).get(registered.id) == registered
