"""Which files `models rm --delete-file` may delete: only those Stillroom's ledger recorded
when it made them, with the content it recorded. Anything else is forgotten and left."""

import json
from pathlib import Path

import pytest

from inference.models.created_files import LEDGER_FILE, CreatedFiles
from inference.models.library import ModelLibrary
from inference.models.removal import ModelRemovalError, created_by_stillroom, remove_model
from tests.inference.model_trees import write_gguf


@pytest.fixture
def library(stillroom_home: Path) -> ModelLibrary:
    return ModelLibrary(stillroom_home)


@pytest.fixture
def created(stillroom_home: Path) -> CreatedFiles:
    return CreatedFiles(stillroom_home)


def test_a_recorded_quantize_output_is_deleted_only_inside_the_models_folder(
        library: ModelLibrary, created: CreatedFiles, stillroom_home: Path,
        tmp_path: Path) -> None:
    models_dir = stillroom_home / "models"
    inside_file = write_gguf(models_dir / "Mine.Q4_0.gguf", "inside")
    # `models quantize --output` elsewhere: the user chose that place, so it is theirs.
    outside_file = write_gguf(tmp_path / "elsewhere" / "Mine.Q8_0.gguf", "out")
    for made in (inside_file, outside_file):
        created.record(made)
    inside = library.register(inside_file, source="quantized from Mine.F16.gguf (Q4_0)")
    outside = library.register(outside_file, source="quantized from Mine.F16.gguf (Q8_0)")

    kept = remove_model(library, outside.id, delete_file=True, models_dir=models_dir,
                        created=created)
    assert kept.deleted == [] and "outside Stillroom's models folder" in str(kept.left_because)
    assert outside_file.exists() and outside.id not in [m.id for m in library.list()]

    removal = remove_model(library, inside.id, delete_file=True, models_dir=models_dir,
                           created=created)
    assert removal.deleted == [inside_file] and not inside_file.exists()
    assert removal.left_because is None and not created.lists(inside_file)


def test_a_file_in_a_folder_named_like_the_cache_is_not_enough(
        library: ModelLibrary, created: CreatedFiles, tmp_path: Path) -> None:
    """A blob another tool put in the HF cache, even registered with an `hf:` source as a
    pull of an already cached file is: not in the ledger, so not ours."""
    blob = write_gguf(tmp_path / "hub" / "models--a--b" / "blobs" / ("0" * 64), "blob")
    model = library.register(blob, source="hf:a/b/x.gguf@" + "1" * 40)
    assert not created_by_stillroom(model, tmp_path / "models", created)
    removal = remove_model(library, model.id, delete_file=True, models_dir=tmp_path / "models",
                           created=created)
    assert removal.deleted == [] and blob.exists()
    assert removal.left_because == f"Stillroom did not create it (hf:a/b/x.gguf@{'1' * 40})"


def test_a_recorded_file_whose_content_changed_is_left(
        library: ModelLibrary, created: CreatedFiles, stillroom_home: Path) -> None:
    made = write_gguf(stillroom_home / "models" / "Mine.Q4_0.gguf", "mine")
    created.record(made)
    model = library.register(made, source="quantized from Mine.F16.gguf (Q4_0)")
    write_gguf(made, "someone else's bytes now")  # the same place, other content
    removal = remove_model(library, model.id, delete_file=True,
                           models_dir=stillroom_home / "models", created=created)
    assert removal.deleted == [] and made.exists()
    assert removal.left_because == "its content changed since Stillroom made it"


def test_an_unreadable_ledger_owns_nothing_and_is_kept_aside(
        library: ModelLibrary, created: CreatedFiles, stillroom_home: Path) -> None:
    made = write_gguf(stillroom_home / "models" / "Mine.Q4_0.gguf", "mine")
    created.record(made)
    model = library.register(made, source="quantized from Mine.F16.gguf (Q4_0)")
    ledger = stillroom_home / LEDGER_FILE
    ledger.write_text(ledger.read_text()[:-20])  # cut short: not JSON any more
    removal = remove_model(library, model.id, delete_file=True,
                           models_dir=stillroom_home / "models", created=created)
    assert removal.deleted == [] and made.exists()

    created.record(write_gguf(stillroom_home / "models" / "Next.gguf", "next"))
    (aside,) = stillroom_home.glob(f"{LEDGER_FILE}.unreadable-*")
    assert aside.read_text().startswith("{")
    assert list(json.loads(ledger.read_text())["files"]) == [
        str(stillroom_home.resolve() / "models" / "Next.gguf")]


def test_a_recorded_mlx_conversion_folder_is_deleted_whole(
        library: ModelLibrary, created: CreatedFiles, stillroom_home: Path,
        tmp_path: Path) -> None:
    from tests.inference.test_mlx_library import write_safetensors

    models_dir = stillroom_home / "models"
    folders = []
    for where in (models_dir, tmp_path / "elsewhere"):
        folder = where / "Mine-mlx-4bit"
        folder.mkdir(parents=True)
        (folder / "config.json").write_text('{"model_type": "llama"}')
        (folder / "tokenizer.json").write_text("{}")
        write_safetensors(folder / "model.safetensors", {"norm.weight": ("F32", [8])})
        created.record(folder)
        folders.append(folder)
    inside, outside = (library.register(f, source="converted from Mine (mlx-4bit)")
                       for f in folders)
    kept = remove_model(library, outside.id, delete_file=True, models_dir=models_dir,
                        created=created)
    assert kept.deleted == [] and folders[1].exists()
    removal = remove_model(library, inside.id, delete_file=True, models_dir=models_dir,
                           created=created)
    assert removal.deleted == [folders[0]] and not folders[0].exists()


def test_a_changed_file_inside_a_recorded_folder_keeps_the_folder(
        library: ModelLibrary, created: CreatedFiles, stillroom_home: Path) -> None:
    from tests.inference.test_mlx_library import write_safetensors

    folder = stillroom_home / "models" / "Mine-mlx-4bit"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "llama"}')
    (folder / "tokenizer.json").write_text("{}")
    write_safetensors(folder / "model.safetensors", {"norm.weight": ("F32", [8])})
    created.record(folder)
    model = library.register(folder, source="converted from Mine (mlx-4bit)")
    (folder / "notes.txt").write_text("the user's notes, added later")
    removal = remove_model(library, model.id, delete_file=True,
                           models_dir=stillroom_home / "models", created=created)
    assert removal.deleted == [] and (folder / "notes.txt").exists()


def test_the_embedded_model_is_never_removed(library: ModelLibrary, created: CreatedFiles,
                                            stillroom_home: Path) -> None:
    embedded = library.list()[0]
    with pytest.raises(ModelRemovalError, match="embedded default model"):
        remove_model(library, embedded.id, delete_file=True,
                     models_dir=stillroom_home / "models", created=created)
