"""A provider key goes into the Authorization header and nowhere else: not into our errors
(str, repr, traceback), not into any log record at DEBUG level, not into a provider's repr."""

from __future__ import annotations

import logging
import traceback

import pytest

from routing.cloud import CloudError, stream_chat
from routing.providers import make_provider
from tests.routing.fake_openai_server import (
    AuthFailed,
    CutMidAnswer,
    FakeOpenAIServer,
    RateLimited,
    Reply,
    ServerError,
    Slow,
)

KEY = "sk-proj-SECRET-b7e6d5c4b3a29180"


@pytest.mark.parametrize("plans", [
    [Reply("fine")],
    [AuthFailed(401, echo_key=True)],
    [AuthFailed(403, echo_key=True)],
    [RateLimited("600")],
    [ServerError(500), ServerError(502)],
    [CutMidAnswer()],
    [Slow(delay_s=30)],
], ids=["ok", "401-echoing-key", "403-echoing-key", "429", "5xx", "cut", "timeout"])
def test_the_key_is_in_no_error_and_no_log(fake_server: FakeOpenAIServer, caplog, plans) -> None:
    caplog.set_level(logging.DEBUG)  # everything any library logs, ours and the SDK's
    fake_server.script(*plans)
    provider = make_provider("fakecloud", base_url=fake_server.base_url, models=["m"])
    error: CloudError | None = None
    try:
        for _ in stream_chat(provider, "m", [{"role": "user", "content": "hi"}], api_key=KEY,
                             timeout=0.3, max_retries=1, sleep=lambda _s: None):
            pass
    except CloudError as exc:
        error = exc
    if error is not None:
        shown = [str(error), repr(error), "".join(traceback.format_exception(error))]
        assert all(KEY not in text for text in shown), shown
        assert error.__cause__ is None and error.__context__ is None  # no SDK object rides along
    logged = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    assert KEY not in logged
    assert fake_server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in repr(provider)
