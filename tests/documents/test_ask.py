"""app.documents.ask with the real model's tokenizer: chunks that fit, page provenance kept,
map-reduce over the partial answers, citations checked against the documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.documents.ask import Step, ask, cited_pages, excerpts_of
from app.documents.document import Document, Part
from app.documents.readers import read_document
from inference.engines.types import ChatMessage
from tests.documents import corpus


@pytest.fixture
def count(engine):
    return lambda prompt: engine.count_tokens([ChatMessage("user", prompt)])


def paged(pages: list[str], path: str = "/x/lease.pdf") -> Document:
    return Document(path=path, sha256="", kind="pdf", status="read",
                    parts=tuple(Part(text, n, f"page {n}") for n, text in
                                enumerate(pages, start=1)))


class Recorder:
    """Answers each step by citing the first page its prompt shows, so the reduce step's
    input is checkable; records every prompt and step."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Step]] = []

    def __call__(self, prompt: str, step: Step) -> str:
        self.calls.append((prompt, step))
        pages = re.findall(r"\[(?:[^\]]*, )?(?:answer from )?page (\d+)", prompt)
        return f"The clause is on page {pages[0]}." if pages else "See page 999."


def test_small_document_is_one_prompt(count) -> None:
    answerer = Recorder()
    result = ask("When does it end?", [paged(["Rent 900.", "Ends 2027."])], count=count,
                 prompt_limit=2048, answer=answerer)
    assert result.mode == "single" and result.chunks == (("page 1", "page 2"),)
    ((prompt, step),) = answerer.calls
    assert step.final and step.kind == "single"
    assert "[page 1]\nRent 900." in prompt and "[page 2]\nEnds 2027." in prompt
    assert prompt.endswith("Question: When does it end?")
    assert result.citations == ("page 1",) and result.unknown_citations == ()


def test_long_document_goes_map_reduce_every_prompt_fits(count) -> None:
    pages = corpus.numbered_pages(40)
    answerer = Recorder()
    limit = 600
    result = ask("What is clause 7?", [paged(pages)], count=count, prompt_limit=limit,
                 answer=answerer)
    assert result.mode == "map_reduce"
    maps = [(p, s) for p, s in answerer.calls if s.kind == "map"]
    reduces = [(p, s) for p, s in answerer.calls if s.kind == "reduce"]
    assert len(maps) == len(result.chunks) > 1
    assert all(count(prompt) <= limit for prompt, _ in answerer.calls)
    # every page in exactly one chunk, in order, and each map prompt carries its pages' text
    flat = [label for chunk in result.chunks for label in chunk]
    assert flat == [f"page {n}" for n in range(1, 41)]
    for (prompt, step), chunk in zip(maps, result.chunks, strict=True):
        assert step.labels == chunk and f"of {len(maps)} of a long document" in prompt
        for label in chunk:
            number = int(label.split()[1])
            assert f"[{label}]\nPage marker {number}." in prompt
    final_prompt, final_step = reduces[-1]
    assert final_step.final and not any(step.final for _, step in maps)
    for chunk in result.chunks:  # the reduce prompt names every chunk's partial answer
        assert f"[answer from {chunk[0]} to {chunk[-1]}]" in final_prompt
        assert f"The clause is on {chunk[0]}." in final_prompt
    assert result.citations == ("page 1",)


def test_a_page_longer_than_a_prompt_is_split_and_keeps_its_label(count) -> None:
    long_page = " ".join(f"word{n}" for n in range(2000))
    answerer = Recorder()
    result = ask("q?", [paged(["short", long_page])], count=count, prompt_limit=400,
                 answer=answerer)
    labels = [label for chunk in result.chunks for label in chunk]
    assert labels[0] == "page 1" and set(labels[1:]) == {"page 2"} and len(labels) > 3
    sent = " ".join(prompt for prompt, step in answerer.calls if step.kind == "map")
    assert all(f"word{n} " in sent or f"word{n}\n" in sent for n in range(0, 2000, 97))


def test_partial_answers_too_long_for_one_prompt_are_reduced_in_groups(count) -> None:
    calls: list[Step] = []

    def wordy(prompt: str, step: Step) -> str:
        calls.append(step)
        return "page 2 " + "detail " * 120 if step.kind == "map" else "short, page 3"

    result = ask("q?", [paged(corpus.numbered_pages(30))], count=count, prompt_limit=500,
                 answer=wordy)
    kinds = [step.kind for step in calls]
    assert kinds.count("reduce") > 1 and calls[-1].final and calls[-1].kind == "reduce"
    assert result.text == "short, page 3" and result.citations == ("page 3",)


def test_citations_checked_against_the_pages() -> None:
    assert cited_pages("see page 3 and pages 5-7, also Page 3") == [3, 5, 6, 7]
    answerer = lambda prompt, step: "It is on page 2 and page 9."  # noqa: E731
    result = ask("q?", [paged(["a", "b", "c"])], count=len, prompt_limit=10_000,
                 answer=answerer)
    assert result.citations == ("page 2",) and result.unknown_citations == ("page 9",)


def test_several_files_and_attachments_are_named(tmp_path: Path) -> None:
    pdf = corpus.text_pdf(tmp_path / "lease.pdf", ["one", "two"])
    mail = read_document(corpus.eml_with_pdf(tmp_path / "mail.eml", pdf))
    labels = [excerpt.label for excerpt in excerpts_of([mail])]
    assert labels == ["mail.eml, body", "mail.eml, attachment lease.pdf, page 1",
                      "mail.eml, attachment lease.pdf, page 2"]


def test_no_text_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no text"):
        ask("q?", [paged(["", "  "])], count=len, prompt_limit=100,
            answer=lambda p, s: "")


def test_the_document_gate_uses_the_policys_context_threshold(tmp_path: Path) -> None:
    # Role + matter scores 0.70: under the default threshold (0.8) the document may go to a
    # cloud model; where the policy says 0.5 the same file is kept local.
    from app.documents.ask import documents_sensitive
    from app.services import Services

    note = tmp_path / "note.txt"
    note.write_text("The client asked whether the settlement offer was fair.\n", encoding="utf-8")
    document = read_document(note)
    for threshold, sensitive in ((None, False), (0.5, True)):
        data = tmp_path / f"data-{threshold}"
        data.mkdir()
        if threshold is not None:
            (data / "policy.toml").write_text(
                f"[sensitivity]\ncontext_threshold = {threshold}\n", encoding="utf-8")
        services = Services.open(data)
        try:
            assert not services.warnings, services.warnings
            assert documents_sensitive(services.chat(), [document]) is sensitive
        finally:
            services.close()
