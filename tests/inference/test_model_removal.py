"""Which files `models rm --delete-file` may delete: only those Stillroom made."""

from pathlib import Path

import pytest

from inference.models.library import ModelLibrary
from inference.models.removal import ModelRemovalError, remove_model
from tests.inference.model_trees import write_gguf


@pytest.fixture
def library(stillroom_home: Path) -> ModelLibrary:
    return ModelLibrary(stillroom_home)


def test_a_quantize_output_is_deleted_only_inside_the_models_folder(
        library: ModelLibrary, stillroom_home: Path, tmp_path: Path) -> None:
    models_dir = stillroom_home / "models"
    inside = library.register(write_gguf(models_dir / "Mine.Q4_0.gguf", "inside"),
                              source="quantized from Mine.F16.gguf (Q4_0)")
    # `models quantize --output` elsewhere: the user chose that place, so it is theirs.
    outside = library.register(write_gguf(tmp_path / "elsewhere" / "Mine.Q8_0.gguf", "out"),
                               source="quantized from Mine.F16.gguf (Q8_0)")

    with pytest.raises(ModelRemovalError, match="Stillroom did not create"):
        remove_model(library, outside.id, delete_file=True, models_dir=models_dir)
    assert Path(outside.path).exists() and library.get(outside.id) == outside

    removal = remove_model(library, inside.id, delete_file=True, models_dir=models_dir)
    assert removal.deleted == [Path(inside.path)] and not Path(inside.path).exists()
    assert [m.id for m in library.list()][1:] == [outside.id]


def test_a_file_in_a_folder_named_like_the_cache_is_not_enough(library: ModelLibrary,
                                                               tmp_path: Path) -> None:
    """An imported HF blob is in the cache too, but its source says it was found there."""
    blob = write_gguf(tmp_path / "hub" / "models--a--b" / "blobs" / ("0" * 64), "blob")
    model = library.register(blob, source="imported from the Hugging Face cache: a/b/x.gguf")
    with pytest.raises(ModelRemovalError, match="imported from the Hugging Face cache"):
        remove_model(library, model.id, delete_file=True, models_dir=tmp_path / "models")
    assert blob.exists()


def test_an_mlx_conversion_folder_is_deleted_whole(library: ModelLibrary, stillroom_home: Path,
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
        folders.append(folder)
    inside, outside = (library.register(f, source="converted from Mine (mlx-4bit)")
                       for f in folders)
    with pytest.raises(ModelRemovalError, match="Stillroom did not create"):
        remove_model(library, outside.id, delete_file=True, models_dir=models_dir)
    removal = remove_model(library, inside.id, delete_file=True, models_dir=models_dir)
    assert removal.deleted == [folders[0]] and not folders[0].exists() and folders[1].exists()
