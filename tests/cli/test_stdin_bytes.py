"""A prompt piped on stdin that is not UTF-8 is refused before anything is stored: one line
naming the byte and where it is, exit code 2, no empty conversation left behind."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


def _chat_with_stdin(home: Path, data: bytes, locale: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "STILLROOM_HOME": str(home), "LC_ALL": locale, "LANG": locale}
    env.pop("PYTHONIOENCODING", None)
    return subprocess.run([sys.executable, "-m", "app.cli.main", "chat"], input=data,
                          capture_output=True, env=env, cwd=REPO_ROOT, timeout=300)


def _conversations(home: Path) -> list:
    from app.config import database_url
    from app.store.conversations import ConversationStore
    from app.store.db import open_engine

    if not (home / "stillroom.db").exists():
        return []
    store = ConversationStore(open_engine(database_url(home)))
    try:
        return store.list()
    finally:
        store.engine.dispose()


@pytest.mark.parametrize("locale", ["C.UTF-8", "C"])
def test_latin1_bytes_on_stdin_are_refused_and_nothing_is_stored(
        stillroom_home: Path, locale: str) -> None:
    done = _chat_with_stdin(stillroom_home, "Résumé of the café meeting".encode("latin-1"),
                            locale)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.decode().strip().splitlines()
    assert lines == ["stillroom: stdin is not UTF-8 text: byte 0xe9 at offset 1 "
                     "cannot be decoded. Convert it first, e.g. "
                     "`iconv -f latin1 -t utf-8 FILE | stillroom chat`."], lines
    assert done.stdout == b""
    assert _conversations(stillroom_home) == []
