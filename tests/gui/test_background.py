"""app.gui.background: work off the UI thread, answers on it, nothing for a closed widget."""

from __future__ import annotations

import threading

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject

from app.gui.background import run_in_background
from inference.hub.transfer import HubError


def test_work_runs_off_the_ui_thread_and_answers_arrive_on_it_in_order(qtbot) -> None:
    owner = QObject()
    where: dict[str, threading.Thread] = {}
    progress: list[tuple[int, threading.Thread]] = []
    done: list[tuple[str, threading.Thread]] = []

    def work(report) -> str:
        where["work"] = threading.current_thread()
        report(1)
        report(2)
        return "finished"

    run_in_background(owner, work, lambda value: done.append((value, threading.current_thread())),
                      on_progress=lambda value: progress.append(
                          (value, threading.current_thread())))
    qtbot.waitUntil(lambda: bool(done))
    assert where["work"] is not threading.main_thread()
    assert [value for value, _ in progress] == [1, 2] and done[0][0] == "finished"
    assert all(thread is threading.main_thread() for _, thread in progress + done)


def test_a_failure_arrives_as_one_sentence(qtbot) -> None:
    owner = QObject()
    errors: list[str] = []

    def fail(exc: Exception):
        def work() -> None:
            raise exc
        return work

    run_in_background(owner, fail(HubError("The Hub refused x (HTTP 403).")), print,
                      errors.append)
    run_in_background(owner, fail(KeyError("k")), print, errors.append)
    qtbot.waitUntil(lambda: len(errors) == 2)
    assert sorted(errors) == ["The Hub refused x (HTTP 403).", "Unexpected error: KeyError: 'k'"]


def test_an_answer_for_a_deleted_owner_is_dropped(qtbot) -> None:
    owner = QObject()
    release = threading.Event()
    done: list[object] = []
    thread = run_in_background(owner, lambda: release.wait() and "late", done.append)
    shiboken6.delete(owner)  # the widget was closed while the work ran
    release.set()
    qtbot.waitUntil(lambda: not thread.is_alive())
    QCoreApplication.processEvents()  # a (wrongly) queued delivery would run here
    assert done == []
