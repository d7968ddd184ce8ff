"""Document jobs on the batched engine, in-process with the embedded model: several
documents at once give the same results as one at a time, and a desktop chat turn asked
during a job is answered beside the documents in flight, not after them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.documents.jobs.runner import JobRunner
from app.documents.templates import load_templates
from app.services import Services
from app.store.jobs import JobInfo, JobLedger
from app.turn.chat_turn import ChatOptions
from inference.engines.batching import BatchedLlamaEngine
from tests.documents.text_corpus import DOCUMENTS, make_corpus

pytestmark = pytest.mark.slow


@pytest.fixture
def services(stillroom_home: Path) -> Iterator[Services]:
    opened = Services.open()
    yield opened
    opened.close()


def _job(services: Services, folder: Path, max_tokens: int) -> tuple[JobRunner, JobInfo]:
    template = load_templates(services.data_dir).get("summary")
    ledger = JobLedger(services.store.engine)
    model = services.chat().resolve_model(None)
    job = ledger.create(folder=str(folder), template="summary", model_id=model.id,
                        route="local", options={"max_tokens": max_tokens, "seed": 7,
                                                "temperature": 0.0})
    return JobRunner(services.chat(), ledger, template, job), job


def _results(services: Services, job: JobInfo) -> dict[str, str]:
    return {Path(item.path).name: item.result for item in
            JobLedger(services.store.engine).items(job.id)}


def test_several_documents_at_once_give_the_one_at_a_time_results(
        services: Services, tmp_path: Path) -> None:
    names = list(DOCUMENTS)[:5]
    one = make_corpus(tmp_path / "one", names)
    many = make_corpus(tmp_path / "many", names)
    runner, sequential = _job(services, one, max_tokens=12)
    assert runner.parallelism() == 1  # alone, the desktop answers one stream at a time
    assert runner.run() == "done"
    with services.share_engines(slots=4):
        runner, batched = _job(services, many, max_tokens=12)
        assert runner.parallelism() == 3  # one slot stays open for the desktop's chat
        progress = []
        assert runner.run(progress.append) == "done"
    assert _results(services, batched) == _results(services, sequential)
    assert [p.done for p in progress] == [1, 2, 3, 4, 5]
    info = JobLedger(services.store.engine).get(batched.id)
    assert (info.status, info.done, info.failed) == ("done", 5, 0)


def test_a_chat_turn_during_a_job_is_answered_beside_its_documents(
        services: Services, tmp_path: Path) -> None:
    folder = make_corpus(tmp_path / "docs", list(DOCUMENTS)[:5])
    share = services.share_engines(slots=3)
    try:
        model = services.chat().resolve_model(None)
        engine = services.engines.engine_for(model)
        assert isinstance(engine, BatchedLlamaEngine)
        runner, job = _job(services, folder, max_tokens=160)
        ledger = JobLedger(services.store.engine)
        ended: list[str] = []
        worker = threading.Thread(target=lambda: ended.append(runner.run()))
        worker.start()
        while engine.stats().running < 2:  # both of the job's documents are being answered
            assert worker.is_alive(), ended
            time.sleep(0.002)
        in_flight = {i.id for i in ledger.items(job.id) if i.status == "running"}

        turn = services.chat().start("Say hi.", options=ChatOptions(max_tokens=4,
                                                                    temperature=0))
        for _chunk in turn:
            pass
        items = {i.id: i.status for i in ledger.items(job.id)}
        worker.join()
    finally:
        share.release()
    assert turn.result is not None and turn.result.completion_tokens > 0
    # Answered while documents of the job were still pending, and while a document that
    # was being answered when the chat asked still was: it did not wait behind them.
    assert "pending" in items.values()
    assert any(items[i] == "running" for i in in_flight), (in_flight, items)
    assert ended == ["done"]
    assert ledger.get(job.id).done == 5
