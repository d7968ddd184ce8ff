import threading

from inference.engines.owner_thread import OwnerThread


def test_pending_counts_running_and_queued_calls() -> None:
    owner = OwnerThread("test-owner")
    release = threading.Event()
    started = threading.Event()

    def blocking() -> str:
        started.set()
        release.wait()
        return "done"

    try:
        assert owner.pending == 0
        first = owner.submit(blocking)
        started.wait()
        second = owner.submit(lambda: "next")
        assert owner.pending == 2  # one running, one waiting: what the capacity rule reads
        release.set()
        assert (first.result(), second.result()) == ("done", "next")
        assert owner.pending == 0
    finally:
        release.set()
        owner.stop()


def test_errors_reach_the_caller_and_the_thread_survives() -> None:
    owner = OwnerThread("test-owner")
    try:
        failing = owner.submit(lambda: 1 / 0)
        try:
            failing.result()
        except ZeroDivisionError:
            pass
        else:
            raise AssertionError("the error was swallowed")
        assert owner.call(lambda: 42) == 42
    finally:
        owner.stop()
