"""Import models other apps already keep on disk, by reference: nothing is copied or moved.

model_sources.py finds candidates (the Hugging Face cache, LM Studio, Ollama, GPT4All, or a
path the user names); here each one is checked before the library sees it: its GGUF header
(an MLX folder: its config, safetensors headers and tokenizer) must read whole (a foreign or
cut-short file is skipped with the reason), a file the library
already has is reported as present rather than added twice, and a model split over several
files is registered once, through its first part. Registering hashes the file; where the
hash is known in advance (an HF or Ollama blob is named by it) a mismatch refuses the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from inference.engines.types import EngineError, ModelInfo
from inference.models.gguf_file import GGUFError, read_summary
from inference.models.library import ModelIntegrityError, ModelLibrary
from inference.models.safetensors_dir import ModelDirError, read_model_dir
from inference.models.sources import (
    KNOWN_ORIGINS,
    LABELS,
    Found,
    Item,
    Origin,
    Rejected,
    default_locations,
    detect_layout,
    scan,
)

# Encoder-only models: they embed text for search but cannot write an answer.
_EMBEDDING_ARCHITECTURES = frozenset({"bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2",
                                      "t5encoder", "modern-bert"})
# llama.cpp's split naming: Model-00001-of-00003.gguf, ...
_SPLIT = re.compile(r"^(?P<stem>.+)-(?P<part>\d{5})-of-(?P<count>\d{5})\.gguf$", re.IGNORECASE)

ProgressCallback = Callable[[int, int, Found], None]


class ImportPathError(EngineError):
    pass


@dataclass(frozen=True, slots=True)
class Location:
    origin: Origin
    path: Path
    exists: bool


@dataclass(frozen=True, slots=True)
class Imported:
    found: Found
    model: ModelInfo | None  # None in a dry run: nothing was registered
    size_bytes: int
    quantization: str | None


@dataclass(frozen=True, slots=True)
class Present:
    found: Found
    model_id: str


@dataclass(slots=True)
class ImportReport:
    dry_run: bool
    searched: list[Location] = field(default_factory=list)
    imported: list[Imported] = field(default_factory=list)
    present: list[Present] = field(default_factory=list)
    skipped: list[Rejected] = field(default_factory=list)


def import_models(library: ModelLibrary, *, origins: Sequence[Origin] = KNOWN_ORIGINS,
                  path: Path | None = None, layout: Origin | None = None,
                  dry_run: bool = False,
                  on_progress: ProgressCallback | None = None) -> ImportReport:
    """Scan `path` (read as `layout`, detected when None), else every known location of
    `origins`, and register what is new. `on_progress(i, n, found)` runs before each file
    is hashed, the slow part (seconds per gigabyte)."""
    report = ImportReport(dry_run)
    accepted = list(_screen(_discover(report, origins, path, layout), library, report))
    for index, (found, size_bytes, quantization) in enumerate(accepted, start=1):
        if dry_run:
            report.imported.append(Imported(found, None, size_bytes, quantization))
            continue
        if on_progress is not None:
            on_progress(index, len(accepted), found)
        try:
            model = library.register(found.path, name=found.name, sha256=found.sha256,
                                     source=found.source, id_hint=found.id_hint)
        except ModelIntegrityError as exc:  # not the bytes its blob name promises
            report.skipped.append(Rejected(found.path, found.origin, str(exc)))
            continue
        except OSError as exc:
            report.skipped.append(Rejected(found.path, found.origin,
                                           f"cannot be read ({exc.strerror or exc})"))
            continue
        report.imported.append(Imported(found, model, model.size_bytes, model.quantization))
    return report


def _discover(report: ImportReport, origins: Sequence[Origin], path: Path | None,
              layout: Origin | None) -> Iterator[Item]:
    if path is not None:
        path = path.expanduser()
        if not path.exists():
            raise ImportPathError(f"{path} does not exist.")
        origin = layout or (detect_layout(path) if path.is_dir() else "path")
        report.searched.append(Location(origin, path, True))
        yield from scan(origin, path)
        return
    for origin in origins:
        for place in default_locations(origin):
            exists = place.is_dir()
            report.searched.append(Location(origin, place, exists))
            if exists:
                yield from scan(origin, place)


def _screen(items: Iterator[Item], library: ModelLibrary,
            report: ImportReport) -> Iterator[tuple[Found, int, str | None]]:
    """Yield the candidates worth registering; file the rest in the report with a reason."""
    installed = library.list()
    by_path = {Path(m.path).resolve(): m.id for m in installed}
    by_hash = {m.sha256: m.id for m in installed if m.sha256}
    claimed_paths: dict[Path, Found] = {}  # taken earlier in this same run
    claimed_hashes: dict[str, Found] = {}
    for item in items:
        if isinstance(item, Rejected):
            report.skipped.append(item)
            continue
        found = item

        def skip(reason: str, found: Found = found) -> None:
            report.skipped.append(Rejected(found.path, found.origin, reason))

        resolved = found.path.resolve()
        known = by_path.get(resolved) or (by_hash.get(found.sha256) if found.sha256 else None)
        if known:
            report.present.append(Present(found, known))
            continue
        twin = claimed_paths.get(resolved) or (
            claimed_hashes.get(found.sha256) if found.sha256 else None)
        if twin is not None:
            skip(f"{found.name} is the same model as {twin.name} ({LABELS[twin.origin]}); "
                 f"imported once")
            continue
        if found.format == "mlx":  # a folder: config.json, safetensors headers, tokenizer
            try:
                folder = read_model_dir(resolved)
            except ModelDirError as exc:
                skip(str(exc))
                continue
            claimed_paths[resolved] = found
            yield found, folder.size_bytes, folder.quantization
            continue
        split = _SPLIT.match(found.path.name)
        if split:
            reason = _split_problem(found, split)
            if reason:
                skip(reason)
                continue
            stem = split["stem"]
            found = Found(found.path, found.origin, stem, stem, found.source, found.sha256)
        try:
            summary = read_summary(resolved)
        except GGUFError as exc:
            skip(str(exc))
            continue
        except OSError as exc:
            skip(f"cannot be read ({exc.strerror or exc})")
            continue
        if summary.architecture == "clip":
            skip("a vision projector (mmproj) that goes with another model; not a model to "
                 "chat with")
            continue
        if summary.architecture in _EMBEDDING_ARCHITECTURES:
            skip(f"an embedding model ({summary.architecture}): it turns text into vectors "
                 f"for search and cannot answer a chat")
            continue
        claimed_paths[resolved] = found
        if found.sha256:
            claimed_hashes[found.sha256] = found
        yield found, summary.size_bytes, summary.file_type


def _split_problem(found: Found, split: re.Match[str]) -> str | None:
    """None when this is the first part of a complete split model, else why it is skipped."""
    part, count, stem = int(split["part"]), int(split["count"]), split["stem"]
    if part != 1:
        return f"part {part} of {count} of {stem}; the model is registered through part 1"
    if found.path.is_symlink() and found.origin == "hf":
        # llama.cpp finds parts 2.. by name next to part 1; a cache blob is named by hash.
        return (f"{stem} is split over {count} files, which llama.cpp can load only side by "
                f"side under their own names; the cache keeps them as hash-named blobs. Merge "
                f"them with llama-gguf-split --merge and import the result")
    digits, suffix = len(split["part"]), found.path.suffix
    missing = [str(n) for n in range(2, count + 1)
               if not (found.path.parent / f"{stem}-{n:0{digits}d}-of-{split['count']}{suffix}")
               .exists()]
    if missing:
        return f"{stem} is split over {count} files and part(s) {', '.join(missing)} are missing"
    return None
