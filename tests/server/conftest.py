"""The office server as users meet it: `stillroom serve` in a child process on a free
loopback port, the embedded model answering, and the official `openai` SDK as the client."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import REPO_ROOT, run_cli

PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
MODEL = "smollm2-135m-instruct-q4_1"


class ServeProcess:
    """`stillroom serve --port 0` over a data directory; ``url`` is read from its first line."""

    def __init__(self, home: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.home = home
        # Where its store lives: the URL every `stillroom` process of the test is given
        # (tests/conftest.py store_url), else the data directory's SQLite file.
        self.database_url = os.environ.get("STILLROOM_DATABASE_URL") or \
            f"sqlite:///{home / 'stillroom.db'}"
        environment = {key: value for key, value in os.environ.items() if key not in PROXIES}
        environment.update({"STILLROOM_HOME": str(home), **(env or {})})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli.main", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
            cwd=REPO_ROOT)
        line = self.process.stdout.readline()  # type: ignore[union-attr]
        if "Serving" not in line:
            self.process.kill()
            raise AssertionError(f"serve did not start: {line}{self.process.stderr.read()}")
        self.base_url = line.split(" at ", 1)[1].split()[0]  # http://127.0.0.1:PORT/v1
        self.root = self.base_url.removesuffix("/v1")
        self.port = int(self.root.rsplit(":", 1)[1])

    def client(self, key: str | None = None) -> openai.OpenAI:
        # No retries: a 429 must reach the test as the RateLimitError it is.
        return openai.OpenAI(base_url=self.base_url, api_key=key or "none", max_retries=0)

    def users(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli("users", *args, home=self.home)

    def add_user(self, name: str, *options: str) -> str:
        result = self.users("add", name, *options)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    def query(self, sql: str) -> list[tuple]:
        """Read the server's database (plaintext: no keyring in these tests). Quote the
        column "user": it is a reserved word in PostgreSQL."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(sql))]
        finally:
            engine.dispose()

    def stop(self) -> str:
        """Stop it as Ctrl+C does; its stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        _out, err = self.process.communicate(timeout=60)
        return err


@pytest.fixture
def serve(stillroom_home: Path, store_url: str) -> Iterator[type[ServeProcess]]:
    """Start servers with ``serve(home, *args)``; every one started is stopped after. On
    SQLite unless the test is marked ``on_both_databases`` (tests/conftest.py)."""
    started: list[ServeProcess] = []

    def start(*args: str, env: dict[str, str] | None = None,
              home: Path | None = None) -> ServeProcess:
        server = ServeProcess(home or stillroom_home, *args, env=env)
        started.append(server)
        return server

    yield start  # type: ignore[misc]
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """One server without users (loopback: no keys asked), shared by a module's tests."""
    server = ServeProcess(tmp_path_factory.mktemp("open-server") / "home")
    yield server
    server.stop()
