"""The one seam between batch jobs and the readers: read(path) -> Document, every format
read_document knows (PDF with OCR, DOCX, EML, TXT, Markdown, HTML, scans)."""

from __future__ import annotations

from pathlib import Path

from app.documents.document import Document
from app.documents.readers import read_document

# One document's bytes; larger files are refused with a reason, not loaded.
DEFAULT_MAX_BYTES = 50 * 1024 * 1024


def read(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    return read_document(path, max_bytes=max_bytes)
