"""What every document reader returns: the text in parts that can be cited (a page, a
paragraph range, an e-mail attachment), the fields a format carries (an e-mail's From/To,
a DOCX's author), and a status with a one-line reason when the text could not be read.

Readers (app/documents/readers/) never raise for a bad file: an encrypted, corrupt, empty,
oversized or unknown file is a Document with that status, so a batch job goes on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

# "read": text extracted; "needs_ocr": scanned pages and no Tesseract here (the reason says
# how to install it); the others: nothing usable, the reason says why in one line.
DocumentStatus = Literal["read", "needs_ocr", "encrypted", "corrupt", "empty", "too_large",
                         "unsupported", "unreadable"]


@dataclass(frozen=True, slots=True)
class Part:
    """One citable piece of a document's text."""

    text: str
    # 1-based page for paged formats (PDF, a scanned image); None where a format has none.
    page: int | None = None
    # How an answer cites it: "page 3", "paragraphs 10-24", "attachment notes.pdf, page 2".
    label: str = ""
    # True where the text came from OCR (it may hold recognition errors).
    ocr: bool = False


@dataclass(frozen=True, slots=True)
class Document:
    path: str
    sha256: str
    kind: str  # "pdf", "docx", "eml", "txt", "md", "html", "image", ...
    status: DocumentStatus
    reason: str = ""  # one line for the user; empty when status is "read"
    parts: tuple[Part, ...] = ()
    # Format fields: e-mail From/To/Cc/Bcc/Date/Subject; DOCX core properties (author,
    # created); flags such as "tracked_changes": "yes". Values are plain strings.
    fields: Mapping[str, str] = field(default_factory=dict)
    # Documents found inside this one (e-mail attachments), read the same way.
    attachments: tuple[Document, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "read"

    def text(self) -> str:
        return "\n\n".join(part.text for part in self.parts)

    def walk(self) -> Iterator[Document]:
        """This document, then its attachments, depth first."""
        yield self
        for attachment in self.attachments:
            yield from attachment.walk()
