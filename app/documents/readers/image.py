"""Scanned pages as images (PNG, JPEG, TIFF; a multi-page TIFF is one page per frame):
OCR'd by tesseract, or "needs_ocr" with the install hint where it is not installed."""

from __future__ import annotations

from pathlib import Path

from app.documents.document import Document, Part
from app.documents.readers import ReadOptions, register, result
from app.documents.readers.ocr import INSTALL_HINT, OcrError, ocr_image, tesseract_path

_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")


def register_reader() -> None:
    register("image", (".png", ".jpg", ".jpeg", ".tif", ".tiff"), _MAGIC, read_image)


def read_image(path: Path, options: ReadOptions) -> Document:
    tesseract = tesseract_path() if options.ocr else None
    if tesseract is None:
        return result("needs_ocr", f"{path.name}: is a scanned image; {INSTALL_HINT}.")
    try:
        pages = ocr_image(tesseract, path)
    except OcrError as exc:
        return result("corrupt", f"{path.name}: the image cannot be read ({exc}).")
    parts = tuple(Part(text=text, page=number, label=f"page {number}", ocr=True)
                  for number, text in enumerate(pages, start=1))
    return Document(path="", sha256="", kind="image", status="read", parts=parts)
