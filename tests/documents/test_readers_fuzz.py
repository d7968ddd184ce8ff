"""read_document never raises, whatever the bytes: real files of each format, damaged by
hypothesis (cut, bytes flipped, junk appended), come back as a Document with a status from
the contract and, when not "read", a one-line reason naming the file."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import get_args

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.documents.document import DocumentStatus
from app.documents.readers import read_document
from tests.documents import corpus

STATUSES = set(get_args(DocumentStatus))
_SEEDS: dict[str, bytes] = {}


def seeds() -> dict[str, bytes]:
    """One good file per format, made once."""
    if not _SEEDS:
        with tempfile.TemporaryDirectory() as folder:
            base = Path(folder)
            pdf = corpus.text_pdf(base / "a.pdf", corpus.numbered_pages(2))
            _SEEDS["a.pdf"] = pdf.read_bytes()
            _SEEDS["a.docx"] = corpus.docx_file(base / "a.docx").read_bytes()
            _SEEDS["a.eml"] = corpus.eml_with_pdf(base / "a.eml", pdf).read_bytes()
    return _SEEDS


# Damage as fractions of the file, applied in the test: the seeds are made outside the
# strategy (fpdf2 and python-docx draw random ids, which hypothesis rightly objects to).
DAMAGE = st.tuples(
    st.sampled_from(("a.pdf", "a.docx", "a.eml")),
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1,
             max_size=8),
    st.floats(0, 1),
    st.binary(max_size=64))


def apply(name: str, flips: list[tuple[float, int]], keep: float, junk: bytes) -> bytes:
    data = bytearray(seeds()[name])
    for where, value in flips:
        data[int(where * len(data))] = value
    return bytes(data[: int(keep * len(data))]) + junk


# No deadline: the machine is shared and noisy; only the outcome is checked.
@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=DAMAGE)
def test_damaged_files_get_a_status_never_an_exception(
        tmp_path: Path, case: tuple[str, list[tuple[float, int]], float, bytes]) -> None:
    name = case[0]
    path = tmp_path / name
    path.write_bytes(apply(*case))
    document = read_document(path, ocr=False)
    assert document.status in STATUSES
    for inner in document.walk():
        assert inner.status in STATUSES
        if not inner.ok:
            assert inner.reason and "\n" not in inner.reason
    if not document.ok:
        assert document.reason.startswith(f"{name}:")
