"""A job's results as files: CSV and JSONL (every field, plus the source path, pages and
SHA-256), DOCX (a formatted table, landscape: for the privilege-log template, the log as a
court receives it) and XLSX.

Rows are the job's current documents in folder order, failed ones included with their
reason, so nothing is silently missing from a log."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.documents.templates import Template
from app.store.jobs import JobInfo, JobItem
from inference.files import write_text_atomic

FORMATS = ("csv", "jsonl", "docx", "xlsx")
# Before and after the template's own fields.
LEAD_COLUMNS = ("doc_id",)
TAIL_COLUMNS = ("status", "error", "source_path", "pages", "sha256")
# Column headings a court expects on a privilege log (FRCP 26(b)(5)(A)).
HEADINGS = {
    "doc_id": "Doc ID / Bates", "date": "Date", "doc_type": "Type", "author": "Author",
    "recipients_to": "To", "recipients_cc": "CC", "recipients_bcc": "BCC",
    "description": "Description", "privilege_basis": "Privilege basis",
    "treatment": "Withheld / redacted", "attorneys": "Attorneys named",
    "status": "Status", "error": "Problem", "source_path": "Source", "pages": "Pages",
    "sha256": "SHA-256", "text": "Result", "label": "Label", "reason": "Reason",
}


def doc_id(item: JobItem, prefix: str = "DOC") -> str:
    return f"{prefix}-{item.seq:06d}"


def columns(template: Template) -> tuple[str, ...]:
    return (*LEAD_COLUMNS, *template.fields, *TAIL_COLUMNS)


def records(template: Template, items: Sequence[JobItem]) -> list[dict[str, Any]]:
    """One dict per document, every column present (None where there is no value)."""
    rows = []
    for item in items:
        result = item.result if isinstance(item.result, dict) else {}
        row: dict[str, Any] = {"doc_id": doc_id(item)}
        row.update({name: result.get(name) for name in template.fields})
        row.update(status=item.status, error=item.error, source_path=item.path,
                   pages=item.pages, sha256=item.sha256)
        rows.append(row)
    return rows


def flat(value: Any) -> str:
    """A cell's text: lists joined with "; ", nothing for None."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(flat(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def export(job: JobInfo, template: Template, items: Sequence[JobItem], fmt: str,
           out: Path) -> Path:
    if fmt not in FORMATS:
        raise ValueError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}.")
    rows = records(template, items)
    names = columns(template)
    {"csv": _csv, "jsonl": _jsonl, "docx": _docx, "xlsx": _xlsx}[fmt](
        job, template, names, rows, out)
    return out


def _csv(_job: JobInfo, _template: Template, names: Sequence[str],
         rows: list[dict[str, Any]], out: Path) -> None:
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(names)
    for row in rows:
        writer.writerow([flat(row[name]) for name in names])
    # utf-8-sig: Excel and LibreOffice then read non-English text correctly.
    write_text_atomic(out, "\ufeff" + buffer.getvalue())


def _jsonl(_job: JobInfo, _template: Template, names: Sequence[str],
           rows: list[dict[str, Any]], out: Path) -> None:
    write_text_atomic(out, "".join(
        json.dumps({name: row[name] for name in names}, ensure_ascii=False) + "\n"
        for row in rows))


def _title(job: JobInfo, template: Template) -> str:
    return "Privilege log" if template.name == "privilege-log" \
        else f"{template.description or template.name}"


def _docx(job: JobInfo, template: Template, names: Sequence[str],
          rows: list[dict[str, Any]], out: Path) -> None:
    from docx import Document as WordDocument
    from docx.enum.section import WD_ORIENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    word = WordDocument()
    section = word.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    word.add_heading(_title(job, template), level=1)
    word.add_paragraph(f"Job {job.id} · template {template.name} · folder {job.folder} · "
                       f"{len(rows)} documents")
    # The hash and path are in the CSV/JSONL; a printed log keeps to what a reader needs.
    shown = [n for n in names if n not in ("sha256", "error")] if rows else list(names)
    table = word.add_table(rows=1, cols=len(shown))
    table.style = "Table Grid"
    header = table.rows[0]
    # Repeat the heading row on every printed page.
    header._tr.get_or_add_trPr().append(_flag(OxmlElement, qn, "w:tblHeader"))
    for cell, name in zip(header.cells, shown, strict=True):
        run = cell.paragraphs[0].add_run(HEADINGS.get(name, name.replace("_", " ").title()))
        run.bold = True
        run.font.size = Pt(8)
    for row in rows:
        cells = table.add_row().cells
        for cell, name in zip(cells, shown, strict=True):
            value = row[name]
            if name == "status" and row["error"]:
                value = f"{value}: {row['error']}"
            cell.paragraphs[0].add_run(flat(value)).font.size = Pt(8)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    word.save(str(partial))
    partial.replace(out)


def _flag(make: Any, qn: Any, tag: str) -> Any:
    element = make(tag)
    element.set(qn("w:val"), "true")
    return element


def _xlsx(job: JobInfo, template: Template, names: Sequence[str],
          rows: list[dict[str, Any]], out: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Privilege log" if template.name == "privilege-log" else "Results"
    sheet.append([HEADINGS.get(n, n) for n in names])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row[n] if isinstance(row[n], int | float) and not isinstance(row[n], bool)
                      else flat(row[n]) for n in names])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    book.save(str(partial))
    partial.replace(out)
