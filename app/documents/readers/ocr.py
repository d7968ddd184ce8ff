"""OCR with the `tesseract` binary (Debian tesseract-ocr, Homebrew tesseract). Called per
page image; where tesseract is not on PATH the readers report "needs_ocr" with INSTALL_HINT.

The binary, not pytesseract: pytesseract is a thin wrapper around the same subprocess, and
the binary reads PNG/JPEG/TIFF itself and a grayscale PGM that we write without Pillow.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

INSTALL_HINT = ("install Tesseract to read scanned pages (Debian/Ubuntu: apt-get install "
                "tesseract-ocr; macOS: brew install tesseract), then read it again")
# Latin-script languages read together cost little; Japanese triples the time, so it is
# used only where the user's text calls for it (not guessed here).
_PREFERRED_LANGUAGES = ("eng", "deu", "pol")
# One page at 300 dpi takes a few seconds; a stuck tesseract must not stall a batch job.
_PAGE_TIMEOUT_S = 300


class OcrError(Exception):
    """Tesseract ran but failed; the message is its last line of complaint."""


def tesseract_path() -> str | None:
    """Looked up on every read: PATH can change (and the tests take it away)."""
    return shutil.which("tesseract")


@lru_cache(maxsize=4)
def _languages(binary: str) -> str:
    listed = subprocess.run([binary, "--list-langs"], capture_output=True, text=True,
                            timeout=60, check=False)
    installed = set(listed.stdout.split()) | set(listed.stderr.split())
    chosen = [lang for lang in _PREFERRED_LANGUAGES if lang in installed]
    return "+".join(chosen) or "eng"


def ocr_image(binary: str, image: bytes | Path) -> list[str]:
    """Text per page of one image (a multi-page TIFF gives several), read by tesseract."""
    source = str(image) if isinstance(image, Path) else "stdin"
    data = None if isinstance(image, Path) else image
    done = subprocess.run([binary, source, "stdout", "-l", _languages(binary)], input=data,
                          capture_output=True, timeout=_PAGE_TIMEOUT_S, check=False)
    if done.returncode != 0:
        complaint = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OcrError(complaint[-1] if complaint else f"tesseract exited {done.returncode}")
    text = done.stdout.decode("utf-8", "replace")
    pages = text.split("\f")  # tesseract ends each page with a form feed
    if len(pages) > 1 and not pages[-1].strip():
        pages.pop()
    return [page.strip() for page in pages]


def pgm(width: int, height: int, stride: int, pixels: bytes | memoryview) -> bytes:
    """A binary PGM (P5) of an 8-bit grayscale bitmap whose rows are `stride` bytes apart."""
    rows = bytes(pixels) if stride == width else b"".join(
        bytes(pixels[row * stride: row * stride + width]) for row in range(height))
    return b"P5\n%d %d\n255\n" % (width, height) + rows
