"""DOCX with python-docx: body paragraphs and tables in document order, headers and footers,
comments, tracked changes (their text kept and marked, and flagged in fields), and the core
properties. Body parts are labelled by paragraph range ("paragraphs 1-24"); a table counts
as one paragraph in that numbering and its rows are tab-separated lines.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import docx
from docx.document import Document as WordDocument
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree

from app.documents.document import Document, Part
from app.documents.readers import ReadOptions, register, result

# A part is closed after this many characters (at a paragraph boundary): small enough that
# a chunk of the context holds several, large enough that a citation names a place.
PART_CHARS = 3000
_ZIP_MAGIC = b"PK\x03\x04"


def register_reader() -> None:
    register("docx", (".docx", ".docm"), (_ZIP_MAGIC,), read_docx)


def read_docx(path: Path, options: ReadOptions) -> Document:
    name = path.name
    try:
        with zipfile.ZipFile(path) as archive:
            if "word/document.xml" not in archive.namelist():
                return result("unsupported", f"{name}: a ZIP archive but not a Word document "
                              f"(no word/document.xml); unpack it and read the files inside.")
    except zipfile.BadZipFile as exc:
        return result("corrupt", f"{name}: the DOCX is damaged or truncated ({exc}); get a "
                      f"fresh copy.")
    try:
        word = docx.Document(str(path))
    except (zipfile.BadZipFile, zlib.error, KeyError, etree.XMLSyntaxError, ValueError) as exc:
        # A part that fails its CRC or does not parse: a damaged file, not a bug of ours.
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return result("corrupt", f"{name}: the DOCX is damaged ({detail}); get a fresh copy.")
    changes = _TrackedChanges()
    parts = list(_body_parts(word, changes))
    parts.extend(_header_footer_parts(word, changes))
    comments = _comment_lines(word, changes)
    if comments:
        parts.append(Part(text="\n".join(comments), label="comments"))
    fields = _core_fields(word)
    fields["tracked_changes"] = "yes" if changes.insertions or changes.deletions else "no"
    if changes.insertions or changes.deletions:
        fields["insertions"] = str(changes.insertions)
        fields["deletions"] = str(changes.deletions)
    fields["comments"] = str(len(comments))
    return Document(path="", sha256="", kind="docx", status="read", parts=tuple(parts),
                    fields=fields)


class _TrackedChanges:
    """Counts w:ins / w:del while paragraphs are turned into text."""

    def __init__(self) -> None:
        self.insertions = 0
        self.deletions = 0

    def paragraph_text(self, element: BaseOxmlElement) -> str:  # a w:p
        return "".join(self._pieces(element))

    def _pieces(self, element: BaseOxmlElement) -> Iterator[str]:
        for child in element:
            tag = child.tag
            if tag == qn("w:ins"):
                self.insertions += 1
                yield f"[inserted: {''.join(self._pieces(child))}]"
            elif tag == qn("w:del"):
                self.deletions += 1
                yield f"[deleted: {''.join(self._pieces(child))}]"
            elif tag in (qn("w:t"), qn("w:delText")):
                yield child.text or ""
            elif tag == qn("w:tab"):
                yield "\t"
            elif tag in (qn("w:br"), qn("w:cr")):
                yield "\n"
            elif tag in (qn("w:pPr"), qn("w:rPr")):
                continue  # formatting (a paragraph mark's own change lives here)
            else:  # runs, hyperlinks, smart tags, content controls: their text in order
                yield from self._pieces(child)


def _block_text(block: Paragraph | Table, changes: _TrackedChanges) -> str:
    if isinstance(block, Paragraph):
        return changes.paragraph_text(block._p)
    rows = []
    for row in block.rows:
        cells = []
        for cell in row.cells:
            cells.append(" ".join(changes.paragraph_text(p._p) for p in cell.paragraphs))
        rows.append("\t".join(cells))
    return "\n".join(rows)


def _body_parts(word: WordDocument, changes: _TrackedChanges) -> Iterator[Part]:
    texts: list[str] = []
    first = number = 0
    size = 0
    for number, block in enumerate(word.iter_inner_content(), start=1):
        if not texts:
            first = number
        text = _block_text(block, changes)
        texts.append(text)
        size += len(text)
        if size >= PART_CHARS:
            yield _paragraphs(texts, first, number)
            texts, size = [], 0
    if texts:
        yield _paragraphs(texts, first, number)


def _paragraphs(texts: list[str], first: int, last: int) -> Part:
    label = f"paragraph {first}" if first == last else f"paragraphs {first}-{last}"
    return Part(text="\n".join(texts).strip("\n"), label=label)


def _header_footer_parts(word: WordDocument, changes: _TrackedChanges) -> Iterator[Part]:
    seen: set[tuple[str, str]] = set()
    for section in word.sections:
        for label, story in (("header", section.header), ("footer", section.footer),
                             ("first-page header", section.first_page_header),
                             ("first-page footer", section.first_page_footer),
                             ("even-page header", section.even_page_header),
                             ("even-page footer", section.even_page_footer)):
            if story.is_linked_to_previous:
                continue
            text = "\n".join(_block_text(block, changes)
                             for block in story.iter_inner_content()).strip()
            if text and (label, text) not in seen:
                seen.add((label, text))
                yield Part(text=text, label=label)


def _comment_lines(word: WordDocument, changes: _TrackedChanges) -> list[str]:
    lines = []
    for comment in word.comments:
        text = "\n".join(changes.paragraph_text(p._p) for p in comment.paragraphs).strip()
        author = comment.author or "unknown"
        lines.append(f"Comment by {author}: {text}")
    return lines


def _core_fields(word: WordDocument) -> dict[str, str]:
    core = word.core_properties
    values = {"author": core.author, "title": core.title, "subject": core.subject,
              "last_modified_by": core.last_modified_by,
              "created": core.created.isoformat() if core.created else "",
              "modified": core.modified.isoformat() if core.modified else ""}
    return {key: value for key, value in values.items() if value}
