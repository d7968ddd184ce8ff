"""PDF: the text layer page by page with pypdfium2 (BSD/Apache; PyMuPDF's AGPL does not fit
an app we distribute). One Part per page, "page N". Each page and its text page are closed
as soon as they are read, so a 300-page PDF never holds all its pages.

A page with no text layer that draws something (a scanned image, text turned into outlines)
is OCR'd with tesseract when it is installed (Part.ocr=True), else the document is
"needs_ocr" naming those pages. A page that draws nothing is blank and stays an empty part;
a PDF of blank pages only is "empty", never a silently empty "read".
"""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from app.documents.document import Document, Part
from app.documents.readers import ReadOptions, register, result
from app.documents.readers.ocr import INSTALL_HINT, OcrError, ocr_image, pgm, tesseract_path

OCR_DPI = 300
_POINTS_PER_INCH = 72


def register_reader() -> None:
    register("pdf", (".pdf",), (b"%PDF-",), read_pdf)


def read_pdf(path: Path, options: ReadOptions) -> Document:
    name = path.name
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            return result("encrypted", f"{name}: the PDF is password-protected; save an "
                          f"unprotected copy (print to PDF) and read that.")
        return result("corrupt", f"{name}: the PDF is damaged or truncated ({exc}); "
                      f"get a fresh copy.")
    try:
        return _read_pages(pdf, name, options)
    finally:
        pdf.close()


def _read_pages(pdf: pdfium.PdfDocument, name: str, options: ReadOptions) -> Document:
    tesseract = tesseract_path() if options.ocr else None
    parts: list[Part] = []
    scanned: list[int] = []
    for index in range(len(pdf)):
        number = index + 1
        try:
            page = pdf[index]
        except pdfium.PdfiumError as exc:
            return result("corrupt", f"{name}: page {number} cannot be loaded ({exc}); the "
                          f"PDF is damaged or truncated; get a fresh copy.")
        try:
            text = _page_text(page)
            if text.strip() or not _draws_something(page):
                parts.append(Part(text=text, page=number, label=f"page {number}"))
            elif tesseract is None:
                scanned.append(number)
            else:
                try:
                    parts.append(Part(text=_ocr_page(page, tesseract), page=number,
                                      label=f"page {number}", ocr=True))
                except OcrError as exc:
                    return result("corrupt", f"{name}: OCR failed on page {number} ({exc}).")
        finally:
            page.close()
    if scanned:
        return Document(path="", sha256="", kind="pdf", status="needs_ocr",
                        reason=f"{name}: {_scanned(scanned)} (a scan, or text drawn as "
                        f"shapes); "
                        f"{INSTALL_HINT}.", parts=tuple(parts))
    if not any(part.text.strip() for part in parts):
        return result("empty", f"{name}: its {len(parts)} page(s) hold no text and draw "
                      f"nothing to read.")
    return Document(path="", sha256="", kind="pdf", status="read", parts=tuple(parts))


def _page_text(page: pdfium.PdfPage) -> str:
    textpage = page.get_textpage()
    try:
        # pdfium ends lines with CRLF; one newline per line is what every consumer expects.
        return textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n")
    finally:
        textpage.close()


def _draws_something(page: pdfium.PdfPage) -> bool:
    """Any page object at all: an image (a scan), but also paths (text converted to
    outlines) or text with no Unicode mapping; only OCR can read those."""
    return next(iter(page.get_objects(max_depth=1)), None) is not None


def _ocr_page(page: pdfium.PdfPage, tesseract: str) -> str:
    bitmap = page.render(scale=OCR_DPI / _POINTS_PER_INCH, grayscale=True)
    try:
        if bitmap.n_channels == 1:
            image = pgm(bitmap.width, bitmap.height, bitmap.stride, memoryview(bitmap.buffer))
        else:  # pdfium chose a colour format anyway: hand tesseract a PNG via Pillow
            image = _png(bitmap)
    finally:
        bitmap.close()
    return "\n".join(ocr_image(tesseract, image))


def _png(bitmap: pdfium.PdfBitmap) -> bytes:
    import io

    buffer = io.BytesIO()
    bitmap.to_pil().save(buffer, format="PNG")
    return buffer.getvalue()


def _scanned(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:10]) + (" ..." if len(numbers) > 10 else "")
    return f"page {shown} has no text layer" if len(numbers) == 1 \
        else f"pages {shown} have no text layer"
