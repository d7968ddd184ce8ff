"""The one seam between batch jobs and the readers: read(path) -> Document.

Until the reader registry (app/documents/readers/__init__.py: read_document) is on this
branch, plain-text formats go to readers/plain.py and anything else is "unsupported" with a
one-line reason; the merge replaces the body of `read` with a call to read_document."""

from __future__ import annotations

from pathlib import Path

from app.documents.document import Document
from app.documents.readers.plain import PLAIN_KINDS, read_plain
from inference.files import sha256_file

# One document's bytes are read whole; larger files are refused with a reason, not loaded.
DEFAULT_MAX_BYTES = 50 * 1024 * 1024


def read(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, sha256: str | None = None
         ) -> Document:
    digest = sha256 or sha256_file(path)
    if path.suffix.lower() in PLAIN_KINDS:
        return read_plain(path, digest, max_bytes=max_bytes)
    return Document(path=str(path), sha256=digest, kind=path.suffix.lower().lstrip(".") or "?",
                    status="unsupported",
                    reason=f"{path.name}: this build reads .txt, .md and .html files only.")
