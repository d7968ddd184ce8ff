"""Forget a model, and delete its file only when Stillroom made that file itself.

Models are registered by reference: a file imported from LM Studio, Ollama or a folder
belongs to the user or to that app, and deleting it would break it there. Stillroom owns
two kinds of file: quantize outputs in its own models/ folder (GGUF files, and MLX model
folders from `--type mlx-*`), and Hugging Face cache blobs that `models pull` downloaded
(the library's `source` says which; a pull records "hf:REPO/FILE@REVISION", a conversion
"converted from ...", an import "imported from ...").
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from inference.engines.types import EngineError, ModelInfo
from inference.models.library import ModelLibrary


class ModelRemovalError(EngineError):
    pass


@dataclass(frozen=True, slots=True)
class Removal:
    model: ModelInfo
    deleted: list[Path] = field(default_factory=list)  # empty: the file was left in place


def created_by_stillroom(model: ModelInfo, models_dir: Path) -> bool:
    """True for a file Stillroom wrote: a quantize output under `models_dir`, or an HF
    cache blob that `models pull` downloaded."""
    source = model.extra.get("source", "")
    path = Path(model.path)
    if source.startswith(("quantized from", "converted from")):
        return path.resolve().is_relative_to(models_dir.resolve())
    if source.startswith("hf:"):
        return path.parent.name == "blobs" and path.parent.parent.name.startswith("models--")
    return False


def remove_model(library: ModelLibrary, model_id: str, *, delete_file: bool,
                 models_dir: Path) -> Removal:
    """Take the model out of the library; with `delete_file`, also its file, which must be
    one Stillroom created (checked before anything changes)."""
    model = library.get(model_id)
    if model.builtin:
        raise ModelRemovalError(f"{model.name} is the embedded default model; it ships with "
                                f"Stillroom and cannot be removed.")
    if delete_file and not created_by_stillroom(model, models_dir):
        origin = model.extra.get("source") or "registered by reference"
        raise ModelRemovalError(
            f"Stillroom did not create {model.path} ({origin}), so it will not delete it; "
            f"nothing was removed. `stillroom models rm {model.id}` forgets the model and "
            f"leaves the file.")
    library.remove(model.id)
    return Removal(model, _delete(Path(model.path)) if delete_file else [])


def _delete(path: Path) -> list[Path]:
    if path.is_dir():  # an MLX model folder that `models quantize --type mlx-*` wrote
        try:
            shutil.rmtree(path)
        except OSError as exc:
            raise ModelRemovalError(f"{path.name} was forgotten but could not be deleted "
                                    f"({exc.strerror or exc}); delete {path} yourself.") from exc
        return [path]
    deleted = []
    if path.parent.name == "blobs":
        # The cache's snapshots/<commit>/<file> links to this blob would be left dangling.
        for link in sorted((path.parent.parent / "snapshots").rglob("*")):
            if link.is_symlink() and link.resolve() == path.resolve():
                with contextlib.suppress(FileNotFoundError):
                    link.unlink()
                deleted.append(link)
    try:
        path.unlink()
    except FileNotFoundError:
        return deleted
    except OSError as exc:
        raise ModelRemovalError(f"{path.name} was forgotten but could not be deleted "
                                f"({exc.strerror or exc}); delete {path} yourself.") from exc
    return [path, *deleted]
