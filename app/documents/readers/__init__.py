"""read_document: pick a reader by the file's content (magic bytes first, the suffix second),
hash it, and never raise for a bad file: every problem is a Document status with one line.

Readers plug in with `register(kind, suffixes, magic, reader)`. A reader gets the path and
ReadOptions and returns a Document; read_document fills in path, sha256 and kind, and turns
anything the reader raises into status "corrupt" with the reason, so a batch job goes on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.documents.document import Document, DocumentStatus

MIB = 1024 * 1024
DEFAULT_MAX_BYTES = 200 * MIB
_HEAD_BYTES = 8192  # enough for every magic we know and for sniffing an e-mail's headers
_BLOCK = MIB


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What a reader may need besides the path. `depth` counts nested attachments."""

    max_bytes: int = DEFAULT_MAX_BYTES
    ocr: bool = True
    head: bytes = b""  # the file's first bytes, already read for detection
    depth: int = 0


Reader = Callable[[Path, ReadOptions], Document]


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: str
    suffixes: tuple[str, ...]
    magic: tuple[bytes, ...]
    reader: Reader


_REGISTRY: list[_Entry] = []


def register(kind: str, suffixes: tuple[str, ...], magic: tuple[bytes, ...],
             reader: Reader) -> None:
    """Add a reader. Suffixes are lower-case with the dot (".pdf"); magic are prefixes of
    the file's first bytes. A later registration of the same kind replaces the earlier."""
    _REGISTRY[:] = [entry for entry in _REGISTRY if entry.kind != kind]
    _REGISTRY.append(_Entry(kind, tuple(s.lower() for s in suffixes), magic, reader))


def result(status: DocumentStatus, reason: str, *, path: Path | str = "", sha256: str = "",
           kind: str = "") -> Document:
    """A Document that carries only a status and its one-line reason."""
    return Document(path=str(path), sha256=sha256, kind=kind, status=status, reason=reason)


def read_document(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, ocr: bool = True,
                  _depth: int = 0) -> Document:
    """Read one file into a Document. Never raises for a bad file.

    Zero bytes -> "empty"; over max_bytes -> "too_large" (decided from its size, before
    reading it, so sha256 is empty); a file we cannot open -> "unreadable" (sha256 empty);
    no reader for its content or suffix -> "unsupported".
    """
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return result("unreadable", f"{name}: no such file; check the path.", path=path)
    except OSError as exc:
        return result("unreadable", f"{name}: cannot be read ({exc.strerror}); check the "
                      f"path and its permissions.", path=path)
    if not path.is_file():
        return result("unsupported", f"{name}: is not a regular file (a folder or device).",
                      path=path)
    if size > max_bytes:
        return result("too_large", f"{name}: is {_mib(size)}, over the {_mib(max_bytes)} "
                      f"limit; split it or raise the limit.", path=path)
    try:
        sha256, head = _hash_and_head(path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return result("unreadable", f"{name}: cannot be read ({reason}); check its "
                      f"permissions (chmod u+r) or whether another program locks it.",
                      path=path)
    if size == 0:
        return result("empty", f"{name}: the file is empty (0 bytes).", path=path,
                      sha256=sha256)
    entry = _pick(head, path.suffix.lower())
    if entry is None:
        return result("unsupported", f"{name}: not a format Stillroom reads (PDF, DOCX, "
                      f"EML, TXT, Markdown, HTML, PNG/JPEG/TIFF scans).", path=path,
                      sha256=sha256)
    options = ReadOptions(max_bytes=max_bytes, ocr=ocr, head=head, depth=_depth)
    try:
        document = entry.reader(path, options)
    except MemoryError:
        document = result("too_large", f"{name}: ran out of memory while reading it.")
    except Exception as exc:  # a reader's bug or a library's complaint: one line, job goes on
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        document = result("corrupt", f"{name}: could not be read as {entry.kind.upper()} "
                          f"({first_line}).")
    return dataclasses.replace(document, path=str(path), sha256=sha256,
                               kind=document.kind or entry.kind)


def _pick(head: bytes, suffix: str) -> _Entry | None:
    _ensure_builtin_readers()
    for entry in _REGISTRY:
        if any(head.startswith(magic) for magic in entry.magic):
            return entry
    for entry in _REGISTRY:
        if suffix in entry.suffixes:
            return entry
    return None


def _hash_and_head(path: Path) -> tuple[str, bytes]:
    """SHA-256 streamed in 1 MiB blocks (a 200 MiB file never sits in memory) and the
    first bytes for detection, in one pass."""
    digest = hashlib.sha256()
    head = b""
    with path.open("rb") as stream:
        while block := stream.read(_BLOCK):
            if not head:
                head = block[:_HEAD_BYTES]
            digest.update(block)
    return digest.hexdigest(), head


def _mib(size: int) -> str:
    return f"{size / MIB:.1f} MiB" if size >= MIB else f"{size} bytes"


_builtin_loaded = False
_builtin_lock = threading.Lock()  # a job reads several documents at once, on its workers


def _ensure_builtin_readers() -> None:
    """Register our readers on first use (imported lazily: pypdfium2 and python-docx are
    only loaded when a document is read). Marked loaded only once all are registered, so
    a second thread never picks from a half-filled registry."""
    global _builtin_loaded
    if _builtin_loaded:
        return
    with _builtin_lock:
        if not _builtin_loaded:
            _register_builtin_readers()
            _builtin_loaded = True


def _register_builtin_readers() -> None:
    from app.documents.readers import docx, eml, image, ole, pdf

    for module in (pdf, docx, eml, image, ole):
        module.register_reader()
    try:  # the plain-text readers (TXT, Markdown, HTML) live beside ours
        plain = importlib.import_module("app.documents.readers.plain")
    except ModuleNotFoundError as exc:  # not merged yet; any other missing module is a bug
        if exc.name != "app.documents.readers.plain":
            raise
        return
    register_plain = getattr(plain, "register_reader", None)
    if register_plain is not None:
        register_plain()


__all__ = ["DEFAULT_MAX_BYTES", "ReadOptions", "Reader", "read_document", "register",
           "result"]
