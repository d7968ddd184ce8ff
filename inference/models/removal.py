"""Forget a model, and delete its file only when Stillroom made that file itself.

Models are registered by reference: a file imported from LM Studio, Ollama or a folder
belongs to the user or to that app, and deleting it would break it there. Stillroom owns
only what its ledger (inference.models.created_files) recorded when it made it: a pull's
blob (not one another tool had already put in the HF cache), a quantize output, an MLX
conversion folder. With --delete-file, anything else (or a recorded path whose content
changed since) is forgotten by the library and left in place, and the Removal says why.
A conversion written with --output outside the models folder is the user's: they chose
the place.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from inference.engines.types import EngineError, ModelInfo
from inference.models.created_files import CreatedFiles
from inference.models.library import ModelLibrary


class ModelRemovalError(EngineError):
    pass


@dataclass(frozen=True, slots=True)
class Removal:
    model: ModelInfo
    deleted: list[Path] = field(default_factory=list)  # empty: the file was left in place
    left_because: str | None = None  # asked to delete, but not ours: why it was left


def created_by_stillroom(model: ModelInfo, models_dir: Path, created: CreatedFiles) -> bool:
    """True when the ledger lists this model's file as made by Stillroom (cheap: what to
    offer the user; removal checks the content too)."""
    return _outside_reason(model, models_dir) is None and created.lists(Path(model.path))


def _outside_reason(model: ModelInfo, models_dir: Path) -> str | None:
    source = model.extra.get("source", "")
    if source.startswith(("quantized from", "converted from")) and \
            not Path(model.path).resolve().is_relative_to(models_dir.resolve()):
        return "it was written where you chose, outside Stillroom's models folder"
    return None


def _why_not_ours(model: ModelInfo, models_dir: Path, created: CreatedFiles) -> str | None:
    """None when Stillroom made the file and it is unchanged, else why it stays."""
    path = Path(model.path)
    outside = _outside_reason(model, models_dir)
    if outside:
        return outside
    if not created.lists(path):
        origin = model.extra.get("source") or "registered by reference"
        return f"Stillroom did not create it ({origin})"
    if not created.owns(path):
        return "its content changed since Stillroom made it"
    return None


def remove_model(library: ModelLibrary, model_id: str, *, delete_file: bool,
                 models_dir: Path, created: CreatedFiles) -> Removal:
    """Take the model out of the library; with `delete_file`, also its file when the
    ledger says Stillroom made it and its content is unchanged (checked before anything
    changes), else the file stays and `left_because` says why."""
    model = library.get(model_id)
    if model.builtin:
        raise ModelRemovalError(f"{model.name} is the embedded default model; it ships with "
                                f"Stillroom and cannot be removed.")
    why = _why_not_ours(model, models_dir, created) if delete_file else None
    library.remove(model.id)
    if not delete_file or why is not None:
        return Removal(model, [], why)
    deleted = _delete(Path(model.path))
    created.forget(Path(model.path))
    return Removal(model, deleted)


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
