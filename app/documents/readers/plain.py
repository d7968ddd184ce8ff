"""Plain-text readers: TXT, Markdown and HTML (its text only).

HTML is parsed with the standard library's HTMLParser, which never fetches anything: linked
images, stylesheets and scripts stay links, and script/style bodies are dropped, so a saved
web page is read as the words a person would see."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from app.documents.document import Document, Part

PLAIN_KINDS = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md",
               ".html": "html", ".htm": "html"}
# Elements whose content is code or metadata, not text a reader sees.
_HIDDEN = {"script", "style", "template", "noscript", "head"}
# Elements that end a line of text.
_BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table",
           "section", "article", "blockquote", "pre", "hr", "ul", "ol", "title"}


def read_plain(path: Path, sha256: str, *, max_bytes: int) -> Document:
    """One Part with the file's text; a status and a one-line reason instead of raising."""
    kind = PLAIN_KINDS.get(path.suffix.lower(), "txt")

    def failed(status: str, reason: str) -> Document:
        return Document(path=str(path), sha256=sha256, kind=kind, status=status,  # type: ignore[arg-type]
                        reason=reason)

    try:
        size = path.stat().st_size
        if size == 0:
            return failed("empty", f"{path.name} is empty (0 bytes).")
        if size > max_bytes:
            return failed("too_large", f"{path.name} is {size:,} bytes, over the "
                                       f"{max_bytes:,}-byte limit for one document.")
        raw = path.read_bytes()
    except OSError as exc:
        return failed("unreadable", f"{path.name} cannot be read: {exc.strerror or exc}.")
    text = _decode(raw)
    if text is None:
        return failed("unsupported", f"{path.name} is not text (binary bytes); convert it to "
                                     f"text, PDF or DOCX.")
    if kind == "html":
        text = html_text(text)
    text = text.strip()
    if not text:
        return failed("empty", f"{path.name} has no text.")
    return Document(path=str(path), sha256=sha256, kind=kind, status="read",
                    parts=(Part(text=text, label="whole file"),))


def _decode(raw: bytes) -> str | None:
    """UTF-8 (with or without BOM), else UTF-16 with a BOM, else Windows-1252 for old files;
    None for binary content (NUL bytes outside UTF-16)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    if b"\x00" in raw:
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden_depth += 1
        elif tag in _BLOCKS:
            self.pieces.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in _BLOCKS:
            self.pieces.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.pieces.append(data)


def html_text(markup: str) -> str:
    parser = _TextOnly()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.pieces).splitlines())
    return "\n".join(line for line in lines if line)


def register_reader() -> None:
    """Plug the plain-text readers into read_document's registry (it calls this once). No
    magic bytes: text has none, so these are picked by suffix, after every binary format."""
    from app.documents.readers import ReadOptions, register

    def read(path: Path, options: ReadOptions) -> Document:
        return read_plain(path, "", max_bytes=options.max_bytes)  # read_document hashes

    for kind in ("txt", "md", "html"):
        suffixes = tuple(suffix for suffix, of in PLAIN_KINDS.items() if of == kind)
        register(kind, suffixes, (), read)
