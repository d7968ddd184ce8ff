"""The model library: which models are installed, where, and whether they can be trusted.

The embedded default model ships with the app (resources/models/) and is listed in every
data directory. Other models are registered by reference in `models.json` under the data
directory; nothing is copied. A model with a known SHA-256 is re-hashed whenever its file's
size or modification time changed since the last check, and refused on a mismatch.

A model is a GGUF file (llama.cpp) or a directory of safetensors (MLX: config.json, weights,
tokenizer). A directory's SHA-256 is a manifest hash over all its files' hashes
(safetensors_dir.manifest_sha256), and its "version" for the check cache is every file's
size and modification time.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

from inference.engines.types import EngineError, ModelInfo
from inference.files import file_lock, sha256_file, write_json_atomic
from inference.models.gguf_file import GGUFError, read_summary
from inference.models.safetensors_dir import ModelDirError, manifest_sha256, read_model_dir
from inference.user_files import MISSING, FileProblem, file_problem, read_json_file

REGISTRY_VERSION = 1
EMBEDDED_DIR = Path(__file__).resolve().parents[2] / "resources" / "models"
EMBEDDED_MANIFEST = EMBEDDED_DIR / "embedded.json"
# A checkout gets the file from setup.sh; a wheel install (pipx) never carried it.
EMBEDDED_RESTORE_HINT = ("Restore it with packaging/setup.sh in a source checkout, or "
                         "`python -m inference.models.embedded_install` with Stillroom's Python "
                         "after a wheel install")


class ModelNotFoundError(EngineError):
    pass


class ModelIntegrityError(EngineError):
    pass


def embedded_model() -> ModelInfo:
    manifest = json.loads(EMBEDDED_MANIFEST.read_text(encoding="utf-8"))
    return ModelInfo(
        id=manifest["id"], name=manifest["name"],
        path=str(EMBEDDED_DIR / manifest["file"]), format=manifest["format"],
        quantization=manifest["quantization"], size_bytes=manifest["size_bytes"],
        sha256=manifest["sha256"], context_length=8192, architecture="llama",
        parameters=134_515_008, builtin=True, extra={"license": manifest["license"]},
    )


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "model"


class ModelLibrary:
    def __init__(self, data_dir: Path) -> None:
        self.registry_path = data_dir / "models.json"
        self._lock = threading.Lock()

    # -- reading -----------------------------------------------------------------------
    def _load(self) -> dict:
        return self._read()[0]

    def _read(self) -> tuple[dict, list[FileProblem]]:
        """The registry, less anything that cannot be used, and what was left out.

        Fail closed and keep going: a damaged file or entry is copied aside (the next write
        drops it from models.json) and the rest of the library still loads; the embedded
        model is always there."""
        path = self.registry_path
        raw, problem = read_json_file(path, "The model list")
        if raw is MISSING:
            return _empty_registry(), []
        if problem is not None:
            return _empty_registry(), [_skipped(problem, "lists the embedded model only")]
        if not isinstance(raw, dict) or raw.get("version") != REGISTRY_VERSION:
            return _empty_registry(), [_skipped(file_problem(
                path, f'The model list {path} has an unknown format (expected {{"version": '
                      f'{REGISTRY_VERSION}, "models": [...]}})'), "lists the embedded model only")]
        entries = raw.get("models", [])
        problems: list[FileProblem] = []
        if not isinstance(entries, list):
            problems.append(_skipped(file_problem(
                path, f"The model list {path}: 'models' is not a list"),
                "lists the embedded model only"))
            entries = []
        good = []
        for index, entry in enumerate(entries):
            why = _entry_problem(entry)
            if why is None:
                good.append(entry)
            else:
                problems.append(_skipped(file_problem(
                    path, f"The model list {path}: models[{index}] {why}"),
                    "skipped it; the other models still load"))
        verified = raw.get("verified")
        # The check cache is only a cache: a damaged one means "check again".
        raw["verified"] = verified if isinstance(verified, dict) else {}
        raw["models"] = good
        return raw, problems

    def problems(self) -> list[FileProblem]:
        """What of models.json cannot be used (one line each); empty when all is well."""
        return self._read()[1]

    def list(self) -> list[ModelInfo]:
        registered = [_model_from_json(entry) for entry in self._load()["models"]]
        return [embedded_model(), *registered]

    def get(self, model_id: str) -> ModelInfo:
        """Find a model by id, unique id prefix, or exact name (case-insensitive)."""
        models = self.list()
        wanted = model_id.strip().lower()
        for model in models:
            if model.id == wanted or model.name.lower() == wanted:
                return model
        prefixed = [m for m in models if m.id.startswith(wanted)]
        if len(prefixed) == 1:
            return prefixed[0]
        known = ", ".join(m.id for m in models)
        if prefixed:
            raise ModelNotFoundError(f"'{model_id}' matches several models: "
                                     f"{', '.join(m.id for m in prefixed)}.")
        raise ModelNotFoundError(f"No model '{model_id}' in the library. Installed: {known}.")

    # -- integrity ---------------------------------------------------------------------
    def verify(self, model: ModelInfo) -> None:
        """Raise a user-facing error unless the file is present, whole, and (when its hash
        is known) the same bytes that were registered."""
        path = Path(model.path)
        if not path.exists():
            hint = (f" {EMBEDDED_RESTORE_HINT}." if model.builtin else
                    " Re-download it or remove it with `stillroom models rm`.")
            raise ModelNotFoundError(
                f"The file of {model.name} is missing: {path}.{hint}") from None
        # Checked once per version of the file: a chat turn must not re-read the header.
        stamp = {**_version(path), "sha256": model.sha256}
        if self._load()["verified"].get(str(path)) == stamp:
            return
        files = _check_readable(path)
        with self._mutating() as data:
            actual = _content_sha256(path, files) if model.sha256 else None
            if actual != model.sha256:
                raise ModelIntegrityError(
                    f"{path.name} is corrupt: its SHA-256 is {actual[:12]}…, expected "
                    f"{model.sha256[:12]}…. Download it again"
                    + (f" ({EMBEDDED_RESTORE_HINT})." if model.builtin
                       else ".")
                )
            data["verified"][str(path)] = stamp

    # -- writing -----------------------------------------------------------------------
    def register(self, path: str | Path, *, name: str | None = None,
                 sha256: str | None = None, source: str | None = None,
                 id_hint: str | None = None, hashed: bool = False) -> ModelInfo:
        """Add a GGUF file or an MLX model directory by reference; its hash is computed now
        and checked against `sha256` when given. `id_hint` names the id where the file's own
        name is a content hash (HF cache and Ollama blobs). `hashed`: `sha256` was computed
        from these very bytes as they were written (hub.download verified it), so a second
        pass over a multi-GB file is skipped."""
        path = Path(path).expanduser().resolve()
        if path.is_dir():
            described = _describe_dir(path)
            label = path.name  # a directory's "stem" would cut "Qwen2.5-0.5B" at the dot
        else:
            described = _describe_gguf(path, sha256.lower() if hashed and sha256 else None)
            label = path.stem
        actual = described["sha256"]
        if sha256 is not None and actual != sha256.lower():
            raise ModelIntegrityError(
                f"{path.name} has SHA-256 {actual[:12]}…, expected {sha256[:12]}…; not registered."
            )
        with self._mutating() as data:
            existing = {entry["id"] for entry in data["models"]} | {embedded_model().id}
            for entry in data["models"]:
                if entry["path"] == str(path):
                    return _model_from_json(entry)
            base = slugify(id_hint or label)
            model_id, n = base, 2
            while model_id in existing:
                model_id, n = f"{base}-{n}", n + 1
            model = ModelInfo(
                id=model_id, name=name or label, path=str(path), **described,
                extra={"source": source or ("local directory" if path.is_dir()
                                            else "local file"),
                       "added_at": datetime.now(UTC).isoformat(timespec="seconds")},
            )
            data["models"].append(asdict(model))
            data["verified"][str(path)] = {**_version(path), "sha256": actual}
            return model

    def remove(self, model_id: str) -> ModelInfo:
        model = self.get(model_id)
        if model.builtin:
            raise EngineError(f"{model.name} is the embedded default model and cannot be removed.")
        with self._mutating() as data:
            data["models"] = [e for e in data["models"] if e["id"] != model.id]
            data["verified"].pop(model.path, None)
        return model

    @contextlib.contextmanager
    def _mutating(self) -> Iterator[dict]:
        """Read-modify-write the registry under a process lock and an OS file lock."""
        with self._lock, file_lock(self.registry_path.with_suffix(".lock")):
            data = self._load()
            before = json.dumps(data, sort_keys=True)
            yield data
            if json.dumps(data, sort_keys=True) != before:
                write_json_atomic(self.registry_path, data)


def _version(path: Path) -> dict:
    """What changes when a model's bytes may have: size and mtime of the file, or of every
    file of a directory model."""
    if path.is_dir():
        return {"files": {p.name: [p.stat().st_size, p.stat().st_mtime_ns]
                          for p in sorted(path.iterdir())
                          if p.is_file() and not p.name.startswith(".")}}
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _check_readable(path: Path) -> tuple[Path, ...]:
    """Validate the header(s); returns the files the content hash covers."""
    try:
        if path.is_dir():
            return read_model_dir(path).files
        read_summary(path)
        return (path,)
    except (GGUFError, ModelDirError) as exc:
        raise ModelIntegrityError(str(exc)) from exc


def _content_sha256(path: Path, files: tuple[Path, ...]) -> str:
    return manifest_sha256(files) if path.is_dir() else sha256_file(path)


def _describe_gguf(path: Path, known_sha256: str | None = None) -> dict:
    try:
        summary = read_summary(path)
    except GGUFError as exc:
        raise ModelIntegrityError(str(exc)) from exc
    return {"format": "gguf", "quantization": summary.file_type,
            "size_bytes": summary.size_bytes, "sha256": known_sha256 or sha256_file(path),
            "context_length": summary.context_length, "architecture": summary.architecture,
            "parameters": summary.parameter_count}


def _describe_dir(path: Path) -> dict:
    try:
        summary = read_model_dir(path)
    except ModelDirError as exc:
        raise ModelIntegrityError(str(exc)) from exc
    return {"format": "mlx", "quantization": summary.quantization,
            "size_bytes": summary.size_bytes, "sha256": manifest_sha256(summary.files),
            "context_length": summary.context_length, "architecture": summary.architecture,
            "parameters": summary.parameter_count}


def _empty_registry() -> dict:
    return {"version": REGISTRY_VERSION, "models": [], "verified": {}}


def _skipped(problem: FileProblem, outcome: str) -> FileProblem:
    return replace(problem, message=f"{problem.message.rstrip('.')}; Stillroom {outcome}. "
                                    f"Your model files are untouched.")


_TEXT_FIELDS = ("id", "name", "path")
_OPTIONAL_TEXT = ("quantization", "sha256", "architecture")
_OPTIONAL_COUNTS = ("context_length", "parameters")


def _entry_problem(entry: object) -> str | None:
    """Why one models.json entry cannot be a ModelInfo, in words; None when it can."""
    if not isinstance(entry, dict):
        return f"is {type(entry).__name__}, not an object"
    for key in _TEXT_FIELDS:
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            return f"has no usable '{key}'"
    if entry.get("format") not in ("gguf", "mlx"):
        return "has a 'format' other than gguf or mlx"
    size = entry.get("size_bytes")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return "has no usable 'size_bytes'"
    for key in _OPTIONAL_TEXT:
        if entry.get(key) is not None and not isinstance(entry[key], str):
            return f"has a '{key}' that is not text"
    for key in _OPTIONAL_COUNTS:
        value = entry.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            return f"has a '{key}' that is not a whole number"
    if not isinstance(entry.get("builtin", False), bool):
        return "has a 'builtin' that is not true or false"
    extra = entry.get("extra", {})
    if not isinstance(extra, dict) or not all(isinstance(v, str) for v in extra.values()):
        return "has an 'extra' that is not an object of text"
    return None


def _model_from_json(entry: dict) -> ModelInfo:
    return ModelInfo(**{k: v for k, v in entry.items() if k in ModelInfo.__slots__})
