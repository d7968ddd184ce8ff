"""The OpenAI-compatible client against a real HTTP server on loopback: streaming, usage,
retries with Retry-After, no retry after partial text, classified errors, cancellation."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime

import pytest

from inference.engines.types import ChatMessage
from routing.cloud import (
    NO_KEY_PLACEHOLDER,
    CloudAuthError,
    CloudBadRequestError,
    CloudConnectionError,
    CloudOfflineError,
    CloudRateLimitedError,
    CloudSensitiveContentError,
    CloudServerError,
    CloudStreamCutError,
    CloudTimeoutError,
    RetryPolicy,
    parse_retry_after,
    scrub,
    stream_chat,
)
from routing.policy import SensitivityPolicy
from routing.providers import make_provider
from tests.routing.fake_openai_server import (
    AuthFailed,
    CutMidAnswer,
    ErrorEvent,
    FakeOpenAIServer,
    RateLimited,
    RejectStreamOptions,
    Reply,
    ServerError,
    Slow,
)

KEY = "sk-test-9d8c7b6a5f4e3d2c1b0a"
HELLO = [{"role": "user", "content": "Say hello."}]


class RecordingSleep:
    """Stands in for time.sleep: records each wait, waits for nothing."""

    def __init__(self, on_sleep=None) -> None:
        self.waits: list[float] = []
        self.on_sleep = on_sleep

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.on_sleep:
            self.on_sleep()


@pytest.fixture
def provider(fake_server: FakeOpenAIServer):
    return make_provider("fakecloud", base_url=fake_server.base_url, models=["fake-model"])


def collect(provider, messages=HELLO, **options):
    options.setdefault("api_key", KEY)
    options.setdefault("sleep", RecordingSleep())
    options.setdefault("rng", lambda: 0.0)
    chunks = list(stream_chat(provider, "fake-model", messages, **options))
    return "".join(c.text for c in chunks), chunks[-1]


def test_streams_text_deltas_then_finish_and_usage(fake_server, provider) -> None:
    fake_server.script(Reply("Hello there, how can I help?", pieces=5))
    chunks = list(stream_chat(provider, "fake-model", HELLO, api_key=KEY))
    assert "".join(c.text for c in chunks) == "Hello there, how can I help?"
    assert len([c for c in chunks if c.text]) == 5
    last = chunks[-1]
    assert (last.text, last.finish_reason, last.attempts) == ("", "stop", 1)
    assert last.usage is not None and last.usage.prompt_tokens == 11
    assert last.usage.completion_tokens == 5
    assert all(c.finish_reason is None for c in chunks[:-1])

    (request,) = fake_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.body["model"] == "fake-model" and request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}
    assert request.body["messages"] == HELLO
    assert request.headers["authorization"] == f"Bearer {KEY}"


def test_messages_may_be_engine_chat_messages(fake_server, provider) -> None:
    text, _ = collect(provider, [ChatMessage("system", "Be brief."), ChatMessage("user", "Hi")])
    assert text
    assert fake_server.requests[0].body["messages"] == [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


def test_temperature_and_max_tokens_are_passed(fake_server, provider) -> None:
    collect(provider, temperature=0.0, max_tokens=12)
    body = fake_server.requests[0].body
    assert (body["temperature"], body["max_tokens"]) == (0.0, 12)


def test_a_server_that_ignores_include_usage_still_finishes(fake_server, provider) -> None:
    fake_server.script(Reply("No usage here.", honour_usage=False))
    text, last = collect(provider)
    assert text == "No usage here." and last.finish_reason == "stop" and last.usage is None


def test_a_server_that_rejects_stream_options_is_asked_again_plainly(fake_server,
                                                                     provider) -> None:
    fake_server.script(RejectStreamOptions(Reply("Plain answer.")))
    sleep = RecordingSleep()
    text, last = collect(provider, sleep=sleep)
    assert text == "Plain answer." and last.usage is None and last.attempts == 1
    first, second = fake_server.requests
    assert "stream_options" in first.body and "stream_options" not in second.body
    assert sleep.waits == []  # a protocol fallback, not a retry


def test_429_waits_at_least_retry_after_then_succeeds(fake_server, provider) -> None:
    fake_server.script(RateLimited(retry_after="7"), Reply("After the wait."))
    sleep = RecordingSleep()
    text, last = collect(provider, sleep=sleep)
    assert text == "After the wait." and last.attempts == 2
    assert len(sleep.waits) == 1 and sleep.waits[0] >= 7
    assert len(fake_server.requests) == 2


def test_retry_after_ms_is_honoured(fake_server, provider) -> None:
    fake_server.script(RateLimited(retry_after=None, retry_after_ms="2500"), Reply("ok"))
    sleep = RecordingSleep()
    collect(provider, sleep=sleep)
    assert sleep.waits[0] >= 2.5


def test_a_retry_after_longer_than_we_will_wait_gives_up_at_once(fake_server, provider) -> None:
    fake_server.script(RateLimited(retry_after="600"))
    sleep = RecordingSleep()
    with pytest.raises(CloudRateLimitedError) as caught:
        collect(provider, sleep=sleep)
    assert caught.value.retry_after_s == 600 and caught.value.status == 429
    assert sleep.waits == [] and len(fake_server.requests) == 1


def test_server_errors_back_off_exponentially_then_give_up(fake_server, provider) -> None:
    fake_server.script(ServerError(500), ServerError(502), ServerError(503))
    sleep = RecordingSleep()
    with pytest.raises(CloudServerError) as caught:
        collect(provider, sleep=sleep, max_retries=2,
                retry=RetryPolicy(base_delay_s=1.0, max_delay_s=60.0))
    assert caught.value.attempts == 3 and caught.value.status == 503
    assert sleep.waits == [0.5, 1.0]  # base * 2^(n-1), times the jitter factor 0.5 + 0/2
    assert len(fake_server.requests) == 3


def test_jitter_stays_between_half_and_full_backoff() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=8.0)
    assert policy.delay(1, None, lambda: 0.0) == 0.5
    assert policy.delay(3, None, lambda: 0.999) == pytest.approx(3.998)
    assert policy.delay(10, None, lambda: 0.999) < 8.0
    assert policy.delay(1, 20.0, lambda: 0.5) == 20.0


def test_a_server_error_then_success_is_invisible_but_counted(fake_server, provider) -> None:
    fake_server.script(ServerError(500), Reply("Second time lucky."))
    text, last = collect(provider)
    assert text == "Second time lucky." and last.attempts == 2


def test_auth_errors_are_not_retried(fake_server, provider) -> None:
    fake_server.script(AuthFailed(401), Reply("never"))
    sleep = RecordingSleep()
    with pytest.raises(CloudAuthError) as caught:
        collect(provider, sleep=sleep)
    assert caught.value.status == 401 and "keys set fakecloud" in str(caught.value)
    assert sleep.waits == [] and len(fake_server.requests) == 1


def test_403_is_an_auth_error_too(fake_server, provider) -> None:
    fake_server.script(AuthFailed(403, echo_key=False))
    with pytest.raises(CloudAuthError):
        collect(provider)


def test_a_slow_server_times_out_and_is_retried(fake_server, provider) -> None:
    fake_server.script(Slow(delay_s=60), Reply("Faster now."))
    text, last = collect(provider, timeout=0.5, max_retries=1)
    assert text == "Faster now." and last.attempts == 2


def test_a_slow_server_without_retries_is_a_timeout(fake_server, provider) -> None:
    fake_server.script(Slow(delay_s=60))
    with pytest.raises(CloudTimeoutError):
        collect(provider, timeout=0.5, max_retries=0)


@pytest.mark.parametrize("dirty", [True, False], ids=["connection-dropped", "ended-early"])
def test_a_cut_after_text_is_reported_not_retried(fake_server, provider, dirty: bool) -> None:
    fake_server.script(CutMidAnswer("Half of the answer", dirty=dirty), Reply("never"))
    sleep = RecordingSleep()
    received: list[str] = []
    with pytest.raises(CloudStreamCutError) as caught:
        for chunk in stream_chat(provider, "fake-model", HELLO, api_key=KEY, sleep=sleep,
                                 max_retries=3):
            received.append(chunk.text)
    assert "".join(received) == "Half of the answer"
    assert caught.value.partial_chars == len("Half of the answer")
    assert sleep.waits == [] and len(fake_server.requests) == 1


def test_an_error_event_before_any_text_is_retried(fake_server, provider) -> None:
    fake_server.script(ErrorEvent(), Reply("Recovered."))
    text, last = collect(provider)
    assert text == "Recovered." and last.attempts == 2


def test_an_error_event_after_text_is_a_cut(fake_server, provider) -> None:
    fake_server.script(ErrorEvent(text_before="Some text"))
    with pytest.raises(CloudStreamCutError):
        collect(provider)
    assert len(fake_server.requests) == 1


def test_an_unknown_model_is_a_bad_request_and_not_retried(fake_server, provider) -> None:
    fake_server.script(ServerError(404))
    with pytest.raises(CloudBadRequestError):
        collect(provider)
    assert len(fake_server.requests) == 1


def test_connection_refused_is_retried_then_reported(loopback_only) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    nobody = make_provider("nobody", base_url=f"http://127.0.0.1:{port}/v1")
    sleep = RecordingSleep()
    with pytest.raises(CloudConnectionError) as caught:
        collect(nobody, sleep=sleep, max_retries=1)
    assert caught.value.attempts == 2 and len(sleep.waits) == 1


def test_cancel_between_chunks_ends_with_a_cancelled_chunk(fake_server, provider) -> None:
    fake_server.script(Reply("one two three four five six", pieces=6))
    cancel = threading.Event()
    received = []
    for chunk in stream_chat(provider, "fake-model", HELLO, api_key=KEY, cancel=cancel):
        received.append(chunk)
        if chunk.text:
            cancel.set()
    assert received[-1].finish_reason == "cancelled"
    assert len([c for c in received if c.text]) == 1


def test_cancel_during_a_backoff_wait_stops_without_another_request(fake_server,
                                                                    provider) -> None:
    fake_server.script(ServerError(500), Reply("never"))
    cancel = threading.Event()
    text, last = collect(provider, cancel=cancel, sleep=RecordingSleep(on_sleep=cancel.set))
    assert text == "" and last.finish_reason == "cancelled"
    assert len(fake_server.requests) == 1


# ------------------------------------------------------------------ checks before sending


def test_a_missing_key_is_refused_before_connecting(fake_server, provider) -> None:
    with pytest.raises(CloudAuthError, match="keys set fakecloud"):
        stream_chat(provider, "fake-model", HELLO, api_key=None)
    assert fake_server.requests == []


def test_offline_mode_refuses_a_remote_provider_before_connecting(loopback_only) -> None:
    remote = make_provider("openai")
    with pytest.raises(CloudOfflineError, match="Offline mode is on"):
        stream_chat(remote, "gpt-4o-mini", HELLO, api_key=KEY)


def test_sensitive_text_is_never_sent_to_a_cloud_provider(fake_server, provider) -> None:
    history = [{"role": "user", "content": "My card is 4539 1488 0343 6467, can you help?"},
               {"role": "assistant", "content": "Sure."},
               {"role": "user", "content": "Thanks, summarise our chat."}]
    with pytest.raises(CloudSensitiveContentError) as caught:
        stream_chat(provider, "fake-model", history, api_key=KEY)
    assert caught.value.categories == ("financial",)
    with pytest.raises(CloudSensitiveContentError):
        stream_chat(provider, "fake-model", [{"role": "user", "content": "Status of Halyard?"}],
                    api_key=KEY, sensitivity=SensitivityPolicy(custom_terms=("Halyard",)))
    assert fake_server.requests == []


def test_an_onprem_provider_may_receive_sensitive_text(fake_server) -> None:
    onprem = make_provider("office", base_url=fake_server.base_url, tier="onprem",
                           key_name=None)
    text, _ = collect(onprem, [{"role": "user", "content": "PRIVILEGED & CONFIDENTIAL memo"}],
                      api_key=None)
    assert text and len(fake_server.requests) == 1


def test_ambient_openai_variables_reach_no_provider(fake_server, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-users-own-openai-key-123456")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-users-own")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-users-own")
    monkeypatch.setenv("OPENAI_CUSTOM_HEADERS",
                       "X-Users-Own: yes\nAuthorization: Bearer sk-users-own-ambient-99")
    onprem = make_provider("ollama", base_url=fake_server.base_url)
    assert onprem.key_name is None
    collect(onprem, api_key=None)
    collect(make_provider("fakecloud", base_url=fake_server.base_url))
    keyless, keyed = ({k.lower(): v for k, v in r.headers.items()} for r in fake_server.requests)
    assert keyless["authorization"] == f"Bearer {NO_KEY_PLACEHOLDER}"
    assert keyed["authorization"] == f"Bearer {KEY}"
    for headers in (keyless, keyed):
        assert "openai-organization" not in headers and "openai-project" not in headers
        assert "x-users-own" not in headers
    assert "users-own" not in fake_server.everything_received()


# ------------------------------------------------------------------ helpers


def test_parse_retry_after_forms() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after({"retry-after": "3"}) == 3
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": "Thu, 01 Jan 2026 12:00:30 GMT"},
                             now=lambda: now) == 30
    assert parse_retry_after({"retry-after": "Thu, 01 Jan 2026 11:00:00 GMT"},
                             now=lambda: now) == 0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after": "-4"}) == 0
    assert parse_retry_after({}) is None and parse_retry_after(None) is None


def test_scrub_removes_the_key_and_key_shaped_strings() -> None:
    assert KEY not in scrub(f"Incorrect API key provided: {KEY}", KEY)
    assert "sk-proj-abcdef123456" not in scrub("bad key sk-proj-abcdef123456", None)
    assert "Bearer" not in scrub("header was Bearer abc.def", None)
    assert len(scrub("x" * 1000, None)) <= 201


def test_the_cloud_check_uses_the_policys_context_threshold(fake_server, provider) -> None:
    # Role + matter scores 0.70: under the default threshold (0.8) it may leave; a firm that set
    # 0.5 keeps it local, on the cloud client's own last check too, not only in the router.
    question = [{"role": "user",
                 "content": "The client asked whether the settlement offer was fair."}]
    strict = SensitivityPolicy(context_threshold=0.5)
    assert strict.scan(question[0]["content"]).sensitive
    with pytest.raises(CloudSensitiveContentError) as caught:
        stream_chat(provider, "fake-model", question, api_key=KEY, sensitivity=strict)
    assert caught.value.categories == ("litigation",)
    assert fake_server.requests == []
    answer = "".join(chunk.text for chunk in
                     stream_chat(provider, "fake-model", question, api_key=KEY))
    assert answer and len(fake_server.requests) == 1
