"""Where other apps keep their models, and how to read each one's layout.

Each scanner walks one layout and yields what it finds (`Found`) or what it could not use
(`Rejected`, with a reason); nothing here opens a model file or touches the library —
model_import.py validates and registers. Locations come from the environment as it is now
(HOME, HF_HOME, OLLAMA_MODELS, ...), so tests and unusual installs can point them anywhere.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Origin = Literal["hf", "lmstudio", "ollama", "gpt4all", "path"]
KNOWN_ORIGINS: tuple[Origin, ...] = ("hf", "lmstudio", "ollama", "gpt4all")
LABELS: dict[Origin, str] = {
    "hf": "Hugging Face cache", "lmstudio": "LM Studio", "ollama": "Ollama",
    "gpt4all": "GPT4All", "path": "folder",
}
# The layer of an Ollama manifest that holds the weights (the GGUF file itself).
OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Found:
    """A model another app keeps: `path` is a GGUF file, or a folder when format is mlx."""

    path: Path
    origin: Origin
    name: str
    id_hint: str
    source: str  # recorded in the library: where the model came from
    sha256: str | None = None  # known without hashing (a content-addressed blob's name)
    format: Literal["gguf", "mlx"] = "gguf"


@dataclass(frozen=True, slots=True)
class Rejected:
    path: Path
    origin: Origin
    reason: str


Item = Found | Rejected


def default_locations(origin: Origin) -> list[Path]:
    """Where `origin` keeps its models on this machine, most usual first (existing or not)."""
    home = Path.home()
    if origin == "hf":
        from inference.hub.transfer import cache_dir

        return [cache_dir()]
    if origin == "lmstudio":
        # ~/.cache/lm-studio is where LM Studio kept models before version 0.3.
        return [home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"]
    if origin == "ollama":
        if os.environ.get("OLLAMA_MODELS"):
            return [Path(os.environ["OLLAMA_MODELS"]).expanduser()]
        places = [home / ".ollama" / "models"]
        if sys.platform.startswith("linux"):  # the system service's store (install.sh)
            places.append(Path("/usr/share/ollama/.ollama/models"))
        return places
    if origin == "gpt4all":
        if sys.platform == "darwin":
            app = home / "Library" / "Application Support" / "nomic.ai" / "GPT4All"
        elif sys.platform == "win32":
            local = os.environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
            app = Path(local) / "nomic.ai" / "GPT4All"
        else:
            data = os.environ.get("XDG_DATA_HOME") or str(home / ".local" / "share")
            app = Path(data) / "nomic.ai" / "GPT4All"
        # ~/.cache/gpt4all: where the gpt4all Python package downloads.
        return [app, home / ".cache" / "gpt4all"]
    return []


def detect_layout(root: Path) -> Origin:
    """What a folder the user names looks like, so that its models get their proper names."""
    if (root / "manifests").is_dir() and (root / "blobs").is_dir():
        return "ollama"
    if any(child.name.startswith("models--") for child in _children(root)):
        return "hf"
    return "path"


def scan(origin: Origin, root: Path) -> Iterator[Item]:
    if origin == "hf":
        yield from _scan_hf_cache(root)
    elif origin == "ollama":
        yield from _scan_ollama(root)
    else:
        yield from _scan_folder(root, origin)


# -- plain folders: LM Studio, GPT4All, a path the user names ------------------------------
def _scan_folder(root: Path, origin: Origin) -> Iterator[Item]:
    if root.is_file():
        yield _plain_file(root, root.parent, origin)
        return
    for directory, subdirs, files in os.walk(root):
        here = Path(directory)
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        if is_mlx_folder(here):
            subdirs[:] = []  # its parts are not models of their own
            yield _mlx(here, origin, _relative(here, root) or here.name)
            continue
        for name in sorted(files):
            if name.lower().endswith(".gguf"):
                yield _plain_file(here / name, root, origin)


def _plain_file(path: Path, root: Path, origin: Origin) -> Item:
    if origin == "gpt4all" and path.name.startswith("incomplete-"):
        return Rejected(path, origin, "an unfinished GPT4All download")
    where = {"lmstudio": "LM Studio", "gpt4all": "GPT4All"}.get(origin)
    source = f"imported from {where}: {_relative(path, root)}" if where else "imported file"
    return Found(path, origin, path.stem, path.stem, source)


# -- the Hugging Face cache -----------------------------------------------------------------
def _scan_hf_cache(root: Path) -> Iterator[Item]:
    """models--org--name/snapshots/<commit>/<file> are links to blobs/<sha256>: the blob's
    name is the file's SHA-256, so it is known without reading the file."""
    for repo_dir in sorted(_children(root)):
        if not (repo_dir.name.startswith("models--") and repo_dir.is_dir()):
            continue
        repo_id = repo_dir.name.removeprefix("models--").replace("--", "/", 1)
        seen: set[str] = set()  # a file in a newer snapshot hides its older revisions
        for snapshot in _snapshots_newest_first(repo_dir):
            yield from _scan_snapshot(snapshot, repo_id, seen)


def _scan_snapshot(snapshot: Path, repo_id: str, seen: set[str]) -> Iterator[Item]:
    revision = snapshot.name[:12]
    for directory, subdirs, files in os.walk(snapshot):
        here = Path(directory)
        subdirs.sort()
        if is_mlx_folder(here):
            subdirs[:] = []
            rel = _relative(here, snapshot)
            if rel not in seen:
                seen.add(rel)
                label = f"{repo_id}/{rel}" if rel else repo_id
                yield _mlx(here, "hf", label, source=f"imported from the Hugging Face "
                                                      f"cache: {label}@{revision}")
            continue
        for name in sorted(files):
            if not name.lower().endswith(".gguf"):
                continue
            link = here / name
            rel = _relative(link, snapshot)
            if rel in seen:
                yield Rejected(link, "hf", f"an older revision of {repo_id}/{rel}; the "
                                           f"newest one is imported")
                continue
            seen.add(rel)
            if not link.exists():
                yield Rejected(link, "hf", "its blob is missing from the cache (a partly "
                                           "deleted download?)")
                continue
            blob_name = link.resolve().name
            yield Found(link, "hf", Path(name).stem, Path(name).stem,
                        f"imported from the Hugging Face cache: {repo_id}/{rel}@{revision}",
                        sha256=blob_name if _SHA256.fullmatch(blob_name) else None)


def _snapshots_newest_first(repo_dir: Path) -> list[Path]:
    snapshots = [p for p in _children(repo_dir / "snapshots") if p.is_dir()]
    try:
        main = (repo_dir / "refs" / "main").read_text(encoding="utf-8").strip()
    except OSError:
        main = ""
    # The commit `main` points at first, then the others, newest download first.
    return sorted(snapshots, key=lambda p: (p.name != main, -p.stat().st_mtime, p.name))


# -- Ollama ---------------------------------------------------------------------------------
def _scan_ollama(root: Path) -> Iterator[Item]:
    """manifests/<registry>/<namespace>/<name>/<tag> is a JSON image manifest; its model
    layer's digest names the GGUF file in blobs/ (sha256-<hex>), so the hash is known."""
    manifests = root / "manifests"
    for manifest in sorted(p for p in manifests.rglob("*") if p.is_file()):
        parts = manifest.relative_to(manifests).parts
        if len(parts) != 4 or parts[-1].startswith("."):
            continue
        name = ollama_name(*parts)
        try:
            layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers") or []
            digest = next(layer["digest"] for layer in layers
                          if layer.get("mediaType") == OLLAMA_MODEL_LAYER)
        except (OSError, ValueError, AttributeError, TypeError, KeyError):
            yield Rejected(manifest, "ollama", f"the manifest of {name} is not readable JSON")
            continue
        except StopIteration:
            yield Rejected(manifest, "ollama", f"{name} has no model layer (nothing to run)")
            continue
        algorithm, _, hex_digest = str(digest).partition(":")
        if algorithm != "sha256" or not _SHA256.fullmatch(hex_digest):
            yield Rejected(manifest, "ollama", f"{name} names an unknown digest {digest!r}")
            continue
        blob = root / "blobs" / f"sha256-{hex_digest}"
        if not blob.is_file():
            yield Rejected(blob, "ollama", f"the weights of {name} are missing from blobs/ "
                                           f"(`ollama pull {name}` restores them)")
            continue
        yield Found(blob, "ollama", name, name, f"imported from Ollama: {name}",
                    sha256=hex_digest)


def ollama_name(registry: str, namespace: str, model: str, tag: str) -> str:
    """The name `ollama list` shows: library models by bare name, others qualified."""
    if registry == "registry.ollama.ai":
        return f"{model}:{tag}" if namespace == "library" else f"{namespace}/{model}:{tag}"
    return f"{registry}/{namespace}/{model}:{tag}"


# -- MLX folders ----------------------------------------------------------------------------
def is_mlx_folder(directory: Path) -> bool:
    """An MLX model folder: config.json with a `quantization` entry (what mlx-lm writes when
    it converts) next to safetensors weights. A plain transformers checkpoint has no such
    entry, so it is not mistaken for one."""
    config = directory / "config.json"
    if not config.is_file() or not any(directory.glob("*.safetensors")):
        return False
    try:
        return "quantization" in json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return False


def _mlx(folder: Path, origin: Origin, label: str, source: str | None = None) -> Found:
    name = label.rstrip("/").split("/")[-1] or folder.name
    return Found(folder, origin, name, name,
                 source or f"imported from {LABELS[origin]}: {label}", format="mlx")


# -- helpers --------------------------------------------------------------------------------
def _children(directory: Path) -> list[Path]:
    try:
        return list(directory.iterdir())
    except OSError:  # missing or unreadable: nothing to find there
        return []


def _relative(path: Path, root: Path) -> str:
    try:
        relative = path.relative_to(root).as_posix()
    except ValueError:
        return path.name
    return "" if relative == "." else relative
