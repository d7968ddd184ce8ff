"""The office server hosted in the desktop's own process (as the window's Server tab does):
the desktop's chat and the server's clients answered by one loaded model and one scheduler.
Real model, real loopback HTTP, the official `openai` SDK."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from app.server.answering import ANONYMOUS_OWNER
from app.server.hosting import Hosted, ServeOptions, prepare
from app.services import Services
from app.turn.chat_turn import ChatOptions
from app.turn.service import DESKTOP_OWNER
from inference.engines.batching import BatchedLlamaEngine
from tests.server.conftest import MODEL, PROXIES


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXIES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def services(stillroom_home: Path) -> Iterator[Services]:
    opened = Services.open()
    yield opened
    opened.close()


def _serve(services: Services, lines: list[str], **options) -> tuple[Hosted, threading.Thread]:
    hosted = prepare(services, ServeOptions(port=0, **options), lines.append)
    thread = threading.Thread(target=hosted.run, name="test-server")
    thread.start()
    return hosted, thread


def test_a_desktop_turn_and_an_sdk_client_share_one_model_and_one_scheduler(
        services: Services) -> None:
    share = services.share_engines(slots=3)
    hosted, thread = _serve(services, [], slots=3)
    try:
        assert hosted.url.startswith("http://127.0.0.1:") and hosted.model_id == MODEL
        engine = services.engines.engine_for(services.chat().resolve_model(MODEL))
        assert isinstance(engine, BatchedLlamaEngine)
        seen_owners: list[str] = []
        real_stream = engine.stream

        def recording_stream(request, cancel=None, owner="local"):
            seen_owners.append(owner)
            return real_stream(request, cancel, owner)

        engine.stream = recording_stream  # type: ignore[method-assign]

        # The desktop's answer is under way (its first chunk read) when the client asks.
        desktop = services.chat().start("Write a short poem about rivers.",
                                        options=ChatOptions(max_tokens=24, temperature=0))
        chunks = iter(desktop)
        next(chunks)
        client = openai.OpenAI(base_url=hosted.url, api_key="none", max_retries=0)
        reply = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Say hello."}], max_tokens=6,
            temperature=0)
        for _chunk in chunks:
            pass
        assert reply.choices[0].message.content and reply.usage.completion_tokens > 0
        assert desktop.result is not None and desktop.result.completion_tokens > 0
        assert desktop.text
        assert [m.id for m in services.engines.loaded()] == [MODEL]  # one copy in memory
        assert seen_owners[0] == DESKTOP_OWNER and ":" in DESKTOP_OWNER
        assert seen_owners[1:] == [ANONYMOUS_OWNER]  # a client without a key: not the desktop
    finally:
        hosted.stop()
        thread.join()
        share.release()
    # Stopped: the port is free and the desktop goes on (one stream at a time once idle).
    with pytest.raises(openai.APIConnectionError):
        openai.OpenAI(base_url=hosted.url, api_key="none", max_retries=0).models.list()
    after = services.chat().start("Hello again.", options=ChatOptions(max_tokens=4))
    for _chunk in after:
        pass
    assert after.result is not None and after.result.completion_tokens > 0
    assert not isinstance(services.engines.engine_for(
        services.chat().resolve_model(MODEL)), BatchedLlamaEngine)


def test_a_port_in_use_is_one_line_and_nothing_is_left_listening(services: Services) -> None:
    hosted, thread = _serve(services, [])
    try:
        port = int(hosted.url.rsplit(":", 1)[1].split("/")[0])
        with pytest.raises(ValueError) as refused:
            prepare(services, ServeOptions(port=port), print)
        message = str(refused.value)
        assert "\n" not in message and f"--port {port}: cannot listen there" in message
    finally:
        hosted.stop()
        thread.join()


def test_tls_files_that_cannot_be_used_are_one_line(services: Services,
                                                     tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("not a certificate")
    key.write_text("not a key")
    with pytest.raises(ValueError) as refused:
        prepare(services, ServeOptions(port=0, tls_cert=cert, tls_key=key), print)
    assert "\n" not in str(refused.value) and "cannot be used" in str(refused.value)
    with pytest.raises(ValueError, match="go together"):
        prepare(services, ServeOptions(port=0, tls_cert=cert), print)
