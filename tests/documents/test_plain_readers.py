"""The plain-text readers: TXT, Markdown and HTML as text only, statuses instead of errors."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from app.documents.jobs.reading import read
from app.documents.readers.plain import html_text
from tests.documents.text_corpus import DOCUMENTS, make_corpus


def test_text_markdown_and_non_english_text_read_whole(tmp_path: Path) -> None:
    folder = make_corpus(tmp_path / "docs")
    for name in ("02-meeting.md", "04-brief-de.txt", "05-note-pl.txt", "06-fax-ja.txt"):
        document = read(folder / name)
        assert document.ok and document.reason == ""
        assert document.text() == DOCUMENTS[name].strip()
        assert document.kind == ("md" if name.endswith(".md") else "txt")
        assert len(document.sha256) == 64


def test_html_keeps_the_visible_words_and_drops_scripts_and_styles(tmp_path: Path) -> None:
    document = read(make_corpus(tmp_path / "docs") / "03-notice.html")
    assert document.ok and document.kind == "html"
    text = document.text()
    assert "Rent of USD 2,100 is due on the first of each month." in text
    assert "Rent notice" in text
    assert "track()" not in text and "color:red" not in text and "<p>" not in text


def test_html_with_linked_resources_fetches_nothing(tmp_path: Path) -> None:
    """A page that links an image, a stylesheet and a script on a live loopback server:
    reading it sends that server no request."""
    hits: list[str] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        page = tmp_path / "linked.html"
        page.write_text(f"<html><head><link rel=stylesheet href='{base}/s.css'>"
                        f"<script src='{base}/a.js'></script></head><body><p>Hello</p>"
                        f"<img src='{base}/i.png'><iframe src='{base}/f'></iframe></body>"
                        f"</html>", encoding="utf-8")
        document = read(page)
        # The probe: a request made by a reader would have arrived by the time a request of
        # our own, sent after it, is answered.
        import urllib.request
        urllib.request.urlopen(f"{base}/probe", timeout=30).close()
    finally:
        server.shutdown()
        server.server_close()
    assert document.ok and document.text() == "Hello"
    assert hits == ["/probe"]


def test_bad_files_get_a_status_and_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x00\x01\x02\xffbinary, not text")
    large = tmp_path / "large.md"
    large.write_text("x" * 2000, encoding="utf-8")
    blank = tmp_path / "blank.html"
    blank.write_text("<html><script>only()</script></html>", encoding="utf-8")
    unknown = tmp_path / "data.xyz"
    unknown.write_bytes(b"no reader for this")
    found = {p.name: read(p, max_bytes=1000) for p in (empty, binary, large, blank, unknown)}
    assert {name: d.status for name, d in found.items()} == {
        "empty.txt": "empty", "blob.txt": "unsupported", "large.md": "too_large",
        "blank.html": "empty", "data.xyz": "unsupported"}
    for name, document in found.items():
        assert name in document.reason and "\n" not in document.reason
        assert document.parts == ()


def test_legacy_encodings_are_read_not_refused(tmp_path: Path) -> None:
    old = tmp_path / "old.txt"
    old.write_bytes("Café in Köln, 5 €".encode("cp1252"))
    wide = tmp_path / "wide.txt"
    wide.write_bytes("Zażółć gęślą jaźń".encode("utf-16"))
    assert read(old).text() == "Café in Köln, 5 €"
    assert read(wide).text() == "Zażółć gęślą jaźń"


def test_html_entities_and_blocks() -> None:
    assert html_text("<p>A &amp; B</p><p>C&nbsp;D</p>") == "A & B\nC D"
