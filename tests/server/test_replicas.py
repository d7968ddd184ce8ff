"""Two Stillroom servers on loopback as replicas behind a third (`serve --replica URL`), the
official `openai` SDK as the client: the front sends each request to the least-busy
healthy replica, keeps its users and ledger, and when a replica dies mid-run the requests
go on succeeding on the other."""

from __future__ import annotations

import http.client
import json
import os
import signal
import time
from pathlib import Path

from app.server.replicas import replica_key_name
from routing.keys import environment_variable
from tests.conftest import run_cli
from tests.server.conftest import MODEL, ServeProcess
from tests.server.streams import open_long_stream

HELLO = [{"role": "user", "content": "Say hello."}]


def _health(server: ServeProcess) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", server.port)
    connection.request("GET", "/health")
    return json.loads(connection.getresponse().read())


def _replica(front: ServeProcess, replica: ServeProcess) -> dict:
    (shown,) = [r for r in _health(front)["replicas"] if r["url"] == replica.root]
    return shown


def _wait_for(front: ServeProcess, replica: ServeProcess, what: str, test) -> dict:
    """The front's view of a replica once ``test`` holds for it (its probe runs every 2 s);
    bounded by a number of looks, not a clock."""
    for _look in range(300):
        shown = _replica(front, replica)
        if test(shown):
            return shown
        time.sleep(0.1)
    raise AssertionError(f"the front never saw {replica.root} {what}: {shown}")


def _add_user(home: Path, name: str) -> str:
    added = run_cli("users", "add", name, home=home)
    assert added.returncode == 0, added.stderr
    return added.stdout.strip().splitlines()[-1]


def _answers(server: ServeProcess) -> int:
    return server.query("SELECT count(*) FROM usage")[0][0]


def test_the_front_spreads_by_load_and_survives_a_replica_dying(
        serve: type[ServeProcess], stillroom_home: Path, tmp_path: Path) -> None:
    # Replica one has users, so the front must present the key it keeps for it (here the
    # keyring's environment override); replica two is open, on loopback.
    front_key = _add_user(tmp_path / "one", "front")
    one = serve("--slots", "2", home=tmp_path / "one")
    two = serve("--slots", "2", home=tmp_path / "two")
    ana = _add_user(stillroom_home, "ana")
    key_variable = environment_variable(replica_key_name(one.root))
    front = serve("--replica", one.root, "--replica", f"{two.root}/v1",
                  env={key_variable: front_key})
    assert {r["url"]: (r["kind"], r["healthy"], r["slots"]) for r in
            _health(front)["replicas"]} == {one.root: ("stillroom", True, 2),
                                            two.root: ("stillroom", True, 2)}
    client = front.client(ana)
    answered = []

    # Replica one is busy with a long answer of its own; the front sees it and sends the
    # next requests to replica two.
    with open_long_stream(one.port, front_key, tokens=3):
        _wait_for(front, one, "busy", lambda r: r["busy"] >= 1)
        for _ in range(3):
            answered.append(client.chat.completions.create(model=MODEL, messages=HELLO,
                                                           max_tokens=6))
        assert (_answers(one), _answers(two)) == (0, 3)
    _wait_for(front, one, "idle again", lambda r: r["busy"] == 0)

    # Both idle: the front evens out what it sent (replica one has had none of its own).
    for _ in range(2):
        answered.append(client.chat.completions.create(model=MODEL, messages=HELLO,
                                                       max_tokens=6))
    # One's ledger also holds its own long answer (cancelled when the socket closed).
    assert (_answers(one), _answers(two)) == (3, 3)

    # Replica two dies while one is busy. The front does not know yet and sends the next
    # request to two, the less busy; it fails before any byte reached the client and is
    # answered by one instead, and so are the requests after it.
    with open_long_stream(one.port, front_key, tokens=3):
        _wait_for(front, one, "busy", lambda r: r["busy"] >= 1)
        before = _answers(one)
        os.kill(two.process.pid, signal.SIGKILL)
        two.process.wait(timeout=60)
        for _ in range(3):
            answered.append(client.chat.completions.create(model=MODEL, messages=HELLO,
                                                           max_tokens=6))
        # All three went to one; its own held-open answer may also have ended by itself
        # meanwhile (a usage row is written when an answer ends), so one row more at most.
        assert before + 3 <= _answers(one) <= before + 4
        down = _replica(front, two)
        assert down["healthy"] is False and down["problem"]

    # The front's ledger has every answer, for its user, with the replicas' usage.
    rows = front.query("SELECT user, prompt_tokens, completion_tokens, route_target "
                       "FROM usage ORDER BY id")
    assert rows == [("ana", a.usage.prompt_tokens, a.usage.completion_tokens, "local")
                    for a in answered]
    assert all(a.choices[0].message.content for a in answered)
    verified = run_cli("audit", "verify", home=stillroom_home)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_replica_that_refuses_the_fronts_key_is_skipped(
        serve: type[ServeProcess], stillroom_home: Path, tmp_path: Path) -> None:
    _add_user(tmp_path / "keyed", "someone")
    keyed = serve("--slots", "1", home=tmp_path / "keyed")  # the front holds no key for it
    open_one = serve("--slots", "1", home=tmp_path / "open")
    front = serve("--replica", keyed.root, "--replica", open_one.root)
    for _ in range(2):
        answer = front.client().chat.completions.create(model=MODEL, messages=HELLO,
                                                        max_tokens=4)
        assert answer.choices[0].message.content
    assert (_answers(keyed), _answers(open_one)) == (0, 2)
    refused = _replica(front, keyed)
    assert refused["healthy"] is False and "key" in refused["problem"]
