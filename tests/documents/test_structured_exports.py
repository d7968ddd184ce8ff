"""Structured templates: the engine's JSON-schema grammar makes every answer parse, and the
job validates it; the privilege log exported in all four formats, read back with the same
libraries that wrote them, has every field a court expects."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import pytest

from app.documents.templates import classification_schema, load_templates
from inference.engines.types import ChatMessage, GenerationRequest
from tests.documents.jobs_helpers import docs, only_job, rows
from tests.documents.text_corpus import make_corpus

pytestmark = pytest.mark.slow

FIELDS = ("doc_id", "date", "doc_type", "author", "recipients_to", "recipients_cc",
          "recipients_bcc", "description", "privilege_basis", "treatment", "attorneys",
          "status", "error", "source_path", "pages", "sha256")
HEADINGS = ("Doc ID / Bates", "Date", "Type", "Author", "To", "CC", "BCC", "Description",
            "Privilege basis", "Withheld / redacted", "Attorneys named")
LABELS = ["contract", "correspondence", "other"]


def test_the_engine_answers_in_the_schema_every_time(engine) -> None:
    schema = classification_schema(LABELS)
    for text in ("Invoice 1187 for steel beams, USD 12,400.", "Dear Ms. Park, thank you.",
                 "}{ not json ]] \"quote"):
        answer = "".join(chunk.text for chunk in engine.stream(GenerationRequest(
            [ChatMessage("system", "Classify the document."), ChatMessage("user", text)],
            max_tokens=96, temperature=0.0, seed=1, json_schema=schema)))
        jsonschema.validate(json.loads(answer), schema)


def test_a_classification_into_the_users_labels_parses_and_validates(
        stillroom_home: Path, tmp_path: Path) -> None:
    folder = make_corpus(tmp_path / "docs", ["07-invoice.txt", "10-letter.txt",
                                             "06-fax-ja.txt"])
    (stillroom_home / "templates").mkdir(parents=True)
    (stillroom_home / "templates" / "kinds.toml").write_text(
        'name = "kinds"\noutput = "json"\nmax_tokens = 96\n'
        f'labels = {json.dumps(LABELS)}\n'
        'prefix = "Classify the document."\ndocument = "{text}"\n', encoding="utf-8")
    result = docs(stillroom_home, "run", str(folder), "--template", "kinds")
    assert result.returncode == 0, result.stderr
    stored = rows(stillroom_home, "SELECT status, result FROM document_job_items")
    assert [status for status, _ in stored] == ["done"] * 3
    for _status, answer in stored:
        jsonschema.validate(json.loads(answer), classification_schema(LABELS))


def test_the_privilege_log_has_every_field_in_all_four_formats(stillroom_home: Path,
                                                               tmp_path: Path) -> None:
    # One e-mail: each privilege-log answer is ~170 tokens under the grammar, slow on a
    # shared CPU; row order and numbering are covered by the ledger and jsonl tests.
    folder = make_corpus(tmp_path / "privileged", ["08-email.txt"])
    out = tmp_path / "exports"
    result = docs(stillroom_home, "run", str(folder), "--template", "privilege-log",
                  "--out", str(out), timeout=1800)
    assert result.returncode == 0, result.stderr
    job = only_job(stillroom_home)
    schema = load_templates(None).get("privilege-log").schema
    stored = rows(stillroom_home, "SELECT status, result, sha256 FROM document_job_items "
                                  "ORDER BY seq")
    assert [status for status, _, _ in stored] == ["done"], result.stderr
    for _status, answer, _sha in stored:
        jsonschema.validate(json.loads(answer), schema)
    hashes = [sha for _, _, sha in stored]
    base = out / f"{job}-privilege-log"

    with (base.with_suffix(".csv")).open(encoding="utf-8-sig", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert tuple(table[0]) == FIELDS
    assert [r["doc_id"] for r in table] == ["DOC-000001"]
    assert [r["sha256"] for r in table] == hashes
    assert all(r["privilege_basis"] and r["treatment"] in ("withheld", "redacted")
               for r in table)

    lines = [json.loads(line) for line in base.with_suffix(".jsonl").read_text(
        encoding="utf-8").splitlines()]
    assert [tuple(line) for line in lines] == [FIELDS]
    assert [Path(line["source_path"]).name for line in lines] == ["08-email.txt"]
    assert all(isinstance(line["attorneys"], list) for line in lines)

    from docx import Document as WordDocument
    from docx.enum.section import WD_ORIENT

    word = WordDocument(str(base.with_suffix(".docx")))
    assert word.sections[0].orientation == WD_ORIENT.LANDSCAPE
    assert word.sections[0].page_width > word.sections[0].page_height
    (log,) = word.tables
    headings = tuple(cell.text for cell in log.rows[0].cells)
    assert headings[:len(HEADINGS)] == HEADINGS and "Source" in headings
    assert [row.cells[0].text for row in log.rows[1:]] == ["DOC-000001"]
    assert [row.cells[len(HEADINGS) - 2].text for row in log.rows[1:]] == [
        line["treatment"] for line in lines]

    from openpyxl import load_workbook

    sheet = load_workbook(base.with_suffix(".xlsx")).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert tuple(cells[0][:len(HEADINGS)]) == HEADINGS and cells[0][-1] == "SHA-256"
    assert [row[0] for row in cells[1:]] == ["DOC-000001"]
    assert [row[-1] for row in cells[1:]] == hashes

    again = docs(stillroom_home, "export", job[:5], "--format", "xlsx", "--out",
                 str(tmp_path / "again.xlsx"))
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again.xlsx").read_bytes()[:2] == b"PK"
