"""E-mail (.eml, RFC 5322/MIME) with the standard library: From/To/Cc/Bcc/Date/Subject as
fields, the body (text/plain preferred; else the HTML turned into text, nothing fetched),
and each attachment read through read_document into `attachments` (a PDF attachment is a
PDF Document whose parts are labelled "attachment notes.pdf, page 2").
"""

from __future__ import annotations

import dataclasses
import email
import re
import tempfile
from email.message import EmailMessage
from email.policy import default
from html.parser import HTMLParser
from pathlib import Path

from app.documents.document import Document, Part
from app.documents.readers import ReadOptions, register, result

HEADER_FIELDS = ("From", "To", "Cc", "Bcc", "Date", "Subject")
# Headers only a mail system writes; plain text rarely starts with them. "From:" and
# "Date:" are left to the suffix: a note can start with those.
_MAGIC = (b"Return-Path:", b"Received:", b"Delivered-To:", b"MIME-Version:",
          b"X-Mozilla-Status:")
# E-mails inside e-mails inside e-mails: a bound, so a crafted message cannot recurse forever.
MAX_DEPTH = 5


def register_reader() -> None:
    register("eml", (".eml",), _MAGIC, read_eml)


def read_eml(path: Path, options: ReadOptions) -> Document:
    with path.open("rb") as stream:
        message = email.message_from_binary_file(stream, policy=default)
    assert isinstance(message, EmailMessage)  # policy=default builds EmailMessage
    if not any(message.get(header) for header in ("From", "To", "Subject", "Date")):
        return result("unsupported", f"{path.name}: has no e-mail headers (From, To, "
                      f"Subject, Date); is it an e-mail?")
    fields = {header.lower(): _header(message, header) for header in HEADER_FIELDS
              if message.get(header) is not None}
    parts = [Part(text=_body(message), label="body")]
    attachments = tuple(_attachments(message, path, options))
    fields["attachments"] = str(len(attachments))
    return Document(path="", sha256="", kind="eml", status="read", parts=tuple(parts),
                    fields=fields, attachments=attachments)


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message[name])
    except Exception:  # a malformed header: keep its raw text rather than lose the mail
        return str(message.get_all(name, [""])[0])


def _body(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    content = body.get_content()
    if not isinstance(content, str):
        return ""
    if body.get_content_subtype() == "html":
        return html_to_text(content)
    return content.strip()


def _attachments(message: EmailMessage, path: Path, options: ReadOptions):
    from app.documents.readers import read_document

    for index, attachment in enumerate(message.iter_attachments(), start=1):
        name = _safe_name(attachment.get_filename() or "", index, attachment)
        virtual_path = f"{path}#{name}"
        if options.depth >= MAX_DEPTH:
            yield result("unsupported", f"{name}: attachments nested deeper than "
                         f"{MAX_DEPTH} levels are not read.", path=virtual_path)
            continue
        payload = attachment.get_payload(decode=True)
        if isinstance(attachment.get_payload(), list):  # a message/rfc822 attachment
            payload = attachment.get_payload()[0].as_bytes()
        with tempfile.TemporaryDirectory(prefix="stillroom-attachment-") as folder:
            copy = Path(folder) / name
            copy.write_bytes(payload or b"")
            inner = read_document(copy, max_bytes=options.max_bytes, ocr=options.ocr,
                                  _depth=options.depth + 1)
        yield _relabelled(inner, name, virtual_path)


def _relabelled(document: Document, name: str, virtual_path: str) -> Document:
    parts = tuple(dataclasses.replace(part, label=f"attachment {name}, {part.label}"
                                      if part.label else f"attachment {name}")
                  for part in document.parts)
    reason = document.reason.replace(f"{name}:", f"attachment {name}:", 1)
    return dataclasses.replace(document, path=virtual_path, parts=parts, reason=reason)


def _safe_name(filename: str, index: int, part: EmailMessage) -> str:
    """The attachment's own base name (never a path it carries), or one made up from its
    type, so the suffix still helps to detect its format."""
    base = re.sub(r"[^\w.\- ]", "_", Path(filename.replace("\\", "/")).name).strip(" .")
    if base:
        return base[:120]
    extension = {"message/rfc822": ".eml", "application/pdf": ".pdf"}.get(
        part.get_content_type(), "")
    return f"attachment-{index}{extension}"


class _TextOfHtml(HTMLParser):
    """Visible text of an HTML body. Only text is kept: no image, stylesheet or link is
    ever fetched (this parser never follows anything)."""

    _BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table",
               "blockquote", "pre", "hr"})
    _HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self.hidden += 1
        elif tag in self._BLOCKS:
            self.pieces.append("\n")
        elif tag == "td":
            self.pieces.append("\t")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self._BLOCKS:
            self.pieces.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.pieces.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    text = "".join(parser.pieces)
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
