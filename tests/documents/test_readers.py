"""The readers over the code-built corpus: text and page numbers per format, OCR when
tesseract is installed and "needs_ocr" when it is not, and a status for every bad file."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from app.documents.readers import read_document
from tests.conftest import requires
from tests.documents import corpus

requires_tesseract = requires(shutil.which("tesseract") is not None,
                              "needs tesseract-ocr (packaging/test.sh installs it)")
requires_qpdf = requires(corpus.qpdf_available(), "needs qpdf (packaging/test.sh installs it)")
requires_cjk_font = requires(corpus.cjk_font() is not None,
                             "needs a CJK font: fonts-ipafont-gothic (packaging/test.sh)")


@pytest.fixture
def no_tesseract(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH on which tesseract does not exist, as on a machine without it."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_pdf_text_layer_one_part_per_page(tmp_path: Path) -> None:
    path = corpus.text_pdf(tmp_path / "three.pdf", corpus.numbered_pages(3))
    document = read_document(path)
    assert document.status == "read" and document.reason == ""
    assert [part.page for part in document.parts] == [1, 2, 3]
    assert [part.label for part in document.parts] == ["page 1", "page 2", "page 3"]
    for number, part in enumerate(document.parts, start=1):
        assert f"Page marker {number}." in part.text and not part.ocr
    assert document.kind == "pdf"


@requires_cjk_font
def test_pdf_german_polish_japanese_text(tmp_path: Path) -> None:
    document = read_document(corpus.multilingual_pdf(tmp_path / "multi.pdf"))
    assert document.status == "read"
    texts = [part.text for part in document.parts]
    assert texts[1].strip() == corpus.GERMAN
    assert texts[2].strip() == corpus.POLISH
    assert texts[3].strip() == corpus.JAPANESE


def test_pdf_sha256_is_the_files(tmp_path: Path) -> None:
    import hashlib

    path = corpus.text_pdf(tmp_path / "one.pdf", ["hello"])
    assert read_document(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_300_page_pdf_every_page_in_order(tmp_path: Path) -> None:
    document = read_document(corpus.long_pdf(tmp_path / "long.pdf"))
    assert document.status == "read"
    assert len(document.parts) == 300
    assert all(part.text.startswith(f"Page marker {part.page}.") for part in document.parts)


def test_300_pages_are_read_with_one_page_open_at_a_time(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Counts pdfium's open pages around the real calls: each page is closed before the next
    is loaded, so a long PDF never holds all of them (bench/documents.py: the memory)."""
    import pypdfium2 as pdfium

    path = corpus.long_pdf(tmp_path / "long.pdf")
    open_pages: set[int] = set()
    most = 0
    real_get_page, real_close = pdfium.PdfDocument.get_page, pdfium.PdfPage.close

    def get_page(self, index: int):
        nonlocal most
        page = real_get_page(self, index)
        open_pages.add(id(page))
        most = max(most, len(open_pages))
        return page

    def close(self, *args, **kwargs):
        open_pages.discard(id(self))
        return real_close(self, *args, **kwargs)

    monkeypatch.setattr(pdfium.PdfDocument, "get_page", get_page)
    monkeypatch.setattr(pdfium.PdfPage, "close", close)
    document = read_document(path)
    assert len(document.parts) == 300 and most == 1 and not open_pages


@requires_tesseract
def test_scanned_pdf_is_ocrd(tmp_path: Path) -> None:
    document = read_document(corpus.scanned_pdf(tmp_path / "scan.pdf", text_first_page=True))
    assert document.status == "read"
    cover, scan = document.parts
    assert not cover.ocr and "Cover letter" in cover.text
    assert scan.ocr and scan.page == 2 and scan.label == "page 2"
    assert corpus.SCANNED_TEXT in scan.text


@requires_tesseract
def test_scanned_png_is_ocrd(tmp_path: Path) -> None:
    document = read_document(corpus.scanned_png(tmp_path / "scan.png"))
    assert document.status == "read" and document.kind == "image"
    assert document.parts[0].ocr and corpus.SCANNED_TEXT in document.parts[0].text


@requires_tesseract
def test_multi_page_tiff_scan_is_one_part_per_frame(tmp_path: Path) -> None:
    first, second = corpus.scan_image("FIRST PAGE LEASE"), corpus.scan_image("SECOND PAGE RENT")
    first.save(tmp_path / "scan.tiff", format="TIFF", save_all=True, append_images=[second])
    document = read_document(tmp_path / "scan.tiff")
    assert document.status == "read" and document.kind == "image"
    assert [part.label for part in document.parts] == ["page 1", "page 2"]
    assert "FIRST PAGE LEASE" in document.parts[0].text
    assert "SECOND PAGE RENT" in document.parts[1].text


def test_scanned_pdf_without_tesseract_needs_ocr(tmp_path: Path, no_tesseract: None) -> None:
    path = corpus.scanned_pdf(tmp_path / "scan.pdf", text_first_page=True)
    document = read_document(path)
    assert document.status == "needs_ocr"
    assert "page 2 has no text layer (a scan" in document.reason
    assert "apt-get install tesseract-ocr" in document.reason
    assert "brew install tesseract" in document.reason
    assert [part.page for part in document.parts] == [1]  # the typed page is still there


def test_scanned_image_without_tesseract_needs_ocr(tmp_path: Path, no_tesseract: None) -> None:
    document = read_document(corpus.scanned_png(tmp_path / "scan.png"))
    assert document.status == "needs_ocr" and "tesseract" in document.reason
    assert document.reason.startswith("scan.png:")


def test_pdf_of_blank_pages_is_empty_not_silently_read(tmp_path: Path) -> None:
    document = read_document(corpus.text_pdf(tmp_path / "blank.pdf", ["", ""]))
    assert document.status == "empty"
    assert document.reason == "blank.pdf: its 2 page(s) hold no text and draw nothing to read."


def test_text_drawn_as_outlines_needs_ocr(tmp_path: Path, no_tesseract: None) -> None:
    """No text layer and no image, but the page draws (vector paths): not blank."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.rect(20, 20, 100, 30, style="F")
    pdf.output(str(tmp_path / "outlines.pdf"))
    document = read_document(tmp_path / "outlines.pdf")
    assert document.status == "needs_ocr" and "page 1 has no text layer" in document.reason


def test_ocr_off_is_needs_ocr_even_with_tesseract(tmp_path: Path) -> None:
    document = read_document(corpus.scanned_pdf(tmp_path / "scan.pdf"), ocr=False)
    assert document.status == "needs_ocr"


def test_blank_page_is_not_a_scan(tmp_path: Path, no_tesseract: None) -> None:
    document = read_document(corpus.text_pdf(tmp_path / "blank.pdf", ["first", ""]))
    assert document.status == "read"
    assert [part.text.strip() for part in document.parts] == ["first", ""]


@requires_qpdf
def test_encrypted_pdf(tmp_path: Path) -> None:
    document = read_document(corpus.encrypted_pdf(tmp_path / "locked.pdf"))
    assert document.status == "encrypted"
    assert document.reason.startswith("locked.pdf:") and "password" in document.reason
    assert document.parts == ()


def test_truncated_pdf_is_corrupt_with_pdfiums_reason(tmp_path: Path) -> None:
    document = read_document(corpus.truncated_pdf(tmp_path / "cut.pdf"))
    assert document.status == "corrupt"
    assert document.reason.startswith("cut.pdf:") and "PDFium" in document.reason
    assert "\n" not in document.reason


def test_docx_paragraphs_table_comments_header_tracked_changes(tmp_path: Path) -> None:
    document = read_document(corpus.docx_file(tmp_path / "draft.docx"))
    assert document.status == "read" and document.kind == "docx"
    body = document.parts[0]
    assert body.label == "paragraphs 1-4"
    assert "Supply agreement between Alder Ltd and Birch GmbH." in body.text
    assert "Item\tQty\tPrice\nValves\t40\t1200" in body.text
    assert "Delivery within [deleted: 30][inserted: 45] days of the order." in body.text
    labels = {part.label: part.text for part in document.parts}
    assert labels["header"] == "PRIVILEGED & CONFIDENTIAL"
    assert labels["footer"] == "Draft 3 of the supply agreement"
    assert labels["comments"] == "Comment by Eve Partner: Check the indexation clause."
    fields = document.fields
    assert fields["tracked_changes"] == "yes"
    assert (fields["insertions"], fields["deletions"]) == ("1", "1")
    assert fields["author"] == "Dana Counsel" and fields["title"] == "Supply agreement draft"
    assert fields["created"].startswith("2026-03-04T09:30")


def test_docx_without_changes_says_no(tmp_path: Path) -> None:
    import docx

    word = docx.Document()
    word.add_paragraph("plain")
    word.save(str(tmp_path / "plain.docx"))
    document = read_document(tmp_path / "plain.docx")
    assert document.fields["tracked_changes"] == "no" and document.text() == "plain"


def test_docx_long_body_is_split_by_paragraph_range(tmp_path: Path) -> None:
    import docx

    word = docx.Document()
    for number in range(1, 201):
        word.add_paragraph(f"Paragraph {number}: " + "words " * 30)
    word.save(str(tmp_path / "long.docx"))
    document = read_document(tmp_path / "long.docx")
    labels = [part.label for part in document.parts]
    assert len(labels) > 1 and labels[0].startswith("paragraphs 1-")
    # the ranges follow each other with no gap or overlap, and end at 200
    ends = [int(label.split("-")[-1]) for label in labels]
    starts = [int(label.split()[-1].split("-")[0]) for label in labels]
    assert starts[0] == 1 and ends[-1] == 200
    assert all(start == end + 1 for start, end in zip(starts[1:], ends[:-1], strict=True))


def test_eml_fields_body_and_pdf_attachment(tmp_path: Path) -> None:
    pdf = corpus.text_pdf(tmp_path / "lease.pdf", corpus.numbered_pages(2))
    document = read_document(corpus.eml_with_pdf(tmp_path / "mail.eml", pdf))
    assert document.status == "read" and document.kind == "eml"
    assert document.fields["from"] == "Dana Counsel <dana@alder.example>"
    assert document.fields["to"] == "Eve Partner <eve@birch.example>"
    assert document.fields["cc"] == "Legal <legal@alder.example>"
    assert document.fields["bcc"] == "Archive <archive@alder.example>"
    assert document.fields["subject"] == "Lease: signed copy attached"
    assert document.fields["date"] == "Tue, 03 Mar 2026 10:15:00 +0100"
    assert document.parts[0].label == "body"
    assert document.parts[0].text == "Eve, the signed lease is attached. Regards, Dana"
    (attachment,) = document.attachments
    assert attachment.kind == "pdf" and attachment.status == "read"
    assert attachment.path.endswith("mail.eml#lease.pdf")
    assert [part.label for part in attachment.parts] == [
        "attachment lease.pdf, page 1", "attachment lease.pdf, page 2"]
    assert "Page marker 2." in attachment.parts[1].text
    assert [d.kind for d in document.walk()] == ["eml", "pdf"]


def test_eml_html_only_body_is_text_and_nothing_is_fetched(tmp_path: Path) -> None:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@x.example", "b@y.example", "Hi"
    message.set_content("<html><head><style>p{color:red}</style></head><body><p>Dear "
                        "<b>Bob</b>,</p><p>see the plan.</p><img src='http://127.0.0.1:9/x'>"
                        "<script>alert(1)</script></body></html>", subtype="html")
    (tmp_path / "html.eml").write_bytes(bytes(message))
    document = read_document(tmp_path / "html.eml")
    assert document.parts[0].text == "Dear Bob,\n\nsee the plan."


def test_eml_with_unreadable_attachment_keeps_the_mail(tmp_path: Path) -> None:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@x.example", "b@y.example", "Hi"
    message.set_content("body text")
    message.add_attachment(b"%PDF-1.7\n garbage", maintype="application", subtype="pdf",
                           filename="../../etc/broken.pdf")
    (tmp_path / "m.eml").write_bytes(bytes(message))
    document = read_document(tmp_path / "m.eml")
    assert document.status == "read" and document.parts[0].text == "body text"
    (attachment,) = document.attachments
    assert attachment.status == "corrupt"
    assert attachment.reason.startswith("attachment broken.pdf:")  # its own name, no path
    assert not (tmp_path.parent / "etc").exists()


def test_msg_is_unsupported_with_convert_hint(tmp_path: Path) -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "__substg1.0_0037001F".encode(
        "utf-16-le")
    (tmp_path / "mail.msg").write_bytes(ole)
    document = read_document(tmp_path / "mail.msg")
    assert document.status == "unsupported"
    assert "convert it to .eml (Outlook: Save As > .eml)" in document.reason


def test_password_protected_docx_is_encrypted(tmp_path: Path) -> None:
    # Office writes a protected DOCX as an OLE file with these streams.
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptionInfo".encode(
        "utf-16-le") + "EncryptedPackage".encode("utf-16-le")
    (tmp_path / "locked.docx").write_bytes(ole)
    assert read_document(tmp_path / "locked.docx").status == "encrypted"


def test_content_beats_the_suffix(tmp_path: Path) -> None:
    pdf = corpus.text_pdf(tmp_path / "x.pdf", ["really a pdf"])
    renamed = pdf.rename(tmp_path / "notes.docx")
    document = read_document(renamed)
    assert document.kind == "pdf" and "really a pdf" in document.text()


def test_zero_bytes_is_empty(tmp_path: Path) -> None:
    (tmp_path / "nothing.pdf").write_bytes(b"")
    document = read_document(tmp_path / "nothing.pdf")
    assert document.status == "empty" and document.reason.startswith("nothing.pdf:")


def test_over_the_limit_is_too_large_before_reading(tmp_path: Path) -> None:
    path = corpus.text_pdf(tmp_path / "big.pdf", ["x"])
    document = read_document(path, max_bytes=100)
    assert document.status == "too_large" and "over the 100 bytes limit" in document.reason
    assert document.sha256 == ""  # decided from the size alone


def test_unknown_format_is_unsupported(tmp_path: Path) -> None:
    (tmp_path / "data.bin").write_bytes(os.urandom(64))
    document = read_document(tmp_path / "data.bin")
    assert document.status == "unsupported" and document.sha256 != ""


def test_zip_that_is_not_a_docx(tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(tmp_path / "archive.docx", "w") as archive:
        archive.writestr("readme.txt", "hi")
    document = read_document(tmp_path / "archive.docx")
    assert document.status == "unsupported" and "not a Word document" in document.reason


def test_truncated_docx_is_corrupt(tmp_path: Path) -> None:
    data = corpus.docx_file(tmp_path / "whole.docx").read_bytes()
    (tmp_path / "cut.docx").write_bytes(data[: len(data) // 2])
    document = read_document(tmp_path / "cut.docx")
    assert document.status == "corrupt" and document.reason.startswith("cut.docx:")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_no_permission_is_unreadable(tmp_path: Path) -> None:
    path = corpus.text_pdf(tmp_path / "private.pdf", ["x"])
    path.chmod(0)
    try:
        document = read_document(path)
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert document.status == "unreadable" and "permission" in document.reason.lower()


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    document = read_document(tmp_path / "gone.pdf")
    assert document.status == "unreadable" and "no such file" in document.reason


def test_a_reader_that_raises_becomes_corrupt(tmp_path: Path) -> None:
    from app.documents import readers

    def broken(path: Path, options: readers.ReadOptions):
        raise ValueError("bad xref table\nsecond line")

    readers._ensure_builtin_readers()
    saved = list(readers._REGISTRY)
    readers.register("weird", (".weird",), (b"WEIRD",), broken)
    try:
        (tmp_path / "f.weird").write_bytes(b"WEIRD data")
        document = read_document(tmp_path / "f.weird")
    finally:
        readers._REGISTRY[:] = saved
    assert document.status == "corrupt"
    assert document.reason == "f.weird: could not be read as WEIRD (bad xref table)."


def test_a_path_that_cannot_be_opened_is_unreadable(tmp_path: Path) -> None:
    # A symlink loop fails for root too (unlike a chmod 0 file).
    (tmp_path / "loop.pdf").symlink_to(tmp_path / "loop.pdf")
    document = read_document(tmp_path / "loop.pdf")
    assert document.status == "unreadable"
    assert document.reason.startswith("loop.pdf: cannot be read (")
