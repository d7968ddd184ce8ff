"""The document test corpus, built from code (no downloads): PDFs with a text layer made by
fpdf2 (German, Polish and Japanese too), a scan (text drawn by Pillow, wrapped in a PDF), an
encrypted PDF (qpdf), a truncated PDF, a DOCX with a table, comments, a header and a tracked
change, an e-mail with a PDF attachment, and a 300-page PDF."""

from __future__ import annotations

import io
import shutil
import subprocess
from email.message import EmailMessage
from pathlib import Path

LATIN_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
# Japanese needs a CJK font: Debian fonts-ipafont-gothic (packaging/test-system-packages.txt).
CJK_FONTS = (Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
             Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),
             Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"))

GERMAN = "Die Größe der Straße übersteigt das Maß: Übergabe am Dienstag."
POLISH = "Zażółć gęślą jaźń: umowa najmu podpisana w Łodzi."
JAPANESE = "東京の契約書は秘密です。"
SCANNED_TEXT = "INVOICE 4471 PAID IN FULL"


def cjk_font() -> Path | None:
    return next((font for font in CJK_FONTS if font.exists()), None)


def qpdf_available() -> bool:
    return shutil.which("qpdf") is not None


def text_pdf(path: Path, pages: list[str], *, japanese_pages: frozenset[int] = frozenset()
             ) -> Path:
    """One page per string (1-based `japanese_pages` use the CJK font)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_font("latin", fname=str(LATIN_FONT))
    font = cjk_font()
    if japanese_pages and font is not None:
        pdf.add_font("cjk", fname=str(font))
    for number, text in enumerate(pages, start=1):
        pdf.add_page()
        pdf.set_font("cjk" if number in japanese_pages else "latin", size=11)
        pdf.set_xy(15, 15)
        pdf.multi_cell(180, 6, text)
    pdf.output(str(path))
    return path


def multilingual_pdf(path: Path) -> Path:
    return text_pdf(path, ["Lease agreement between Alder Ltd and Birch GmbH.", GERMAN,
                           POLISH, JAPANESE], japanese_pages=frozenset({4}))


def numbered_pages(count: int, words_per_page: int = 60) -> list[str]:
    """Pages that say which page they are, so a reader that mixes pages up is caught."""
    sentence = ("The tenant shall keep the premises in good repair and return them at the "
                "end of the term in the condition received.")
    filler = sentence.split(" ")
    body = " ".join(filler[i % len(filler)] for i in range(words_per_page))
    return [f"Page marker {n}. Clause {n}: {body}" for n in range(1, count + 1)]


def long_pdf(path: Path, pages: int = 300) -> Path:
    return text_pdf(path, numbered_pages(pages))


def scan_image(text: str = SCANNED_TEXT, *, width: int = 1700, height: int = 2200):
    """A page as a scanner makes it: black text on white pixels, no text layer."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(LATIN_FONT), 64)
    draw.text((150, 300), text, fill=0, font=font)
    return image


def scanned_png(path: Path, text: str = SCANNED_TEXT) -> Path:
    scan_image(text).save(path, format="PNG")
    return path


def scanned_pdf(path: Path, text: str = SCANNED_TEXT, *, text_first_page: bool = False
                ) -> Path:
    """A scanned page (an image, no text layer); with text_first_page, a typed page before
    it, as in a letter with a scanned enclosure."""
    from fpdf import FPDF

    buffer = io.BytesIO()
    scan_image(text).save(buffer, format="PNG")
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    if text_first_page:
        pdf.add_font("latin", fname=str(LATIN_FONT))
        pdf.add_page()
        pdf.set_font("latin", size=11)
        pdf.set_xy(15, 15)
        pdf.multi_cell(180, 6, "Cover letter: the signed invoice is enclosed.")
    pdf.add_page()
    buffer.seek(0)
    pdf.image(buffer, x=0, y=0, w=210, h=297)
    pdf.output(str(path))
    return path


def encrypted_pdf(path: Path, user_password: str = "secret") -> Path:
    plain = text_pdf(path.with_name(path.stem + "-plain.pdf"), ["Privileged and confidential."])
    subprocess.run(["qpdf", "--encrypt", user_password, "owner-" + user_password, "256", "--",
                    str(plain), str(path)], check=True, capture_output=True)
    plain.unlink()
    return path


def truncated_pdf(path: Path) -> Path:
    whole = text_pdf(path.with_name(path.stem + "-whole.pdf"), numbered_pages(3))
    data = whole.read_bytes()
    whole.unlink()
    path.write_bytes(data[: len(data) // 3])
    return path


def docx_file(path: Path) -> Path:
    """A contract draft: paragraphs, a table, a comment, a header and footer, one tracked
    insertion and one tracked deletion, and core properties."""
    import datetime

    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    word = docx.Document()
    word.core_properties.author = "Dana Counsel"
    word.core_properties.title = "Supply agreement draft"
    word.core_properties.created = datetime.datetime(2026, 3, 4, 9, 30)
    word.sections[0].header.paragraphs[0].text = "PRIVILEGED & CONFIDENTIAL"
    word.sections[0].footer.paragraphs[0].text = "Draft 3 of the supply agreement"
    word.add_paragraph("Supply agreement between Alder Ltd and Birch GmbH.")
    commented = word.add_paragraph("The price is fixed for two years.")
    word.add_comment(commented.runs, text="Check the indexation clause.", author="Eve Partner",
                     initials="EP")
    table = word.add_table(rows=2, cols=3)
    for row, values in zip(table.rows, (("Item", "Qty", "Price"), ("Valves", "40", "1200")),
                              strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    changed = word.add_paragraph("Delivery within ")

    def tracked(tag: str, text: str, text_tag: str):
        change = OxmlElement(tag)
        change.set(qn("w:id"), "1" if tag == "w:ins" else "2")
        change.set(qn("w:author"), "Dana Counsel")
        run = OxmlElement("w:r")
        piece = OxmlElement(text_tag)
        piece.set(qn("xml:space"), "preserve")
        piece.text = text
        run.append(piece)
        change.append(run)
        return change

    changed._p.append(tracked("w:del", "30", "w:delText"))
    changed._p.append(tracked("w:ins", "45", "w:t"))
    tail = OxmlElement("w:r")
    tail_text = OxmlElement("w:t")
    tail_text.set(qn("xml:space"), "preserve")
    tail_text.text = " days of the order."
    tail.append(tail_text)
    changed._p.append(tail)
    word.save(str(path))
    return path


def eml_with_pdf(path: Path, pdf: Path) -> Path:
    message = EmailMessage()
    message["From"] = "Dana Counsel <dana@alder.example>"
    message["To"] = "Eve Partner <eve@birch.example>"
    message["Cc"] = "Legal <legal@alder.example>"
    message["Bcc"] = "Archive <archive@alder.example>"
    message["Date"] = "Tue, 03 Mar 2026 10:15:00 +0100"
    message["Subject"] = "Lease: signed copy attached"
    message.set_content("Eve, the signed lease is attached. Regards, Dana")
    message.add_alternative("<html><body><p>Eve, the <b>signed</b> lease is attached.</p>"
                            "<img src='http://tracker.example/p.gif'></body></html>",
                            subtype="html")
    message.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf",
                           filename=pdf.name)
    path.write_bytes(bytes(message))
    return path
