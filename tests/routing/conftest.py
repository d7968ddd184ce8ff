"""Fixtures for the routing tests that talk HTTP: a fake provider on loopback, and a guard
that makes any attempt to reach beyond loopback fail the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from routing import offline
from tests.routing.fake_openai_server import FakeOpenAIServer

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                    "all_proxy")


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Offline mode for the test: a connection to anything but loopback raises OfflineError.

    Proxy variables are cleared so that the HTTP client talks to 127.0.0.1 directly instead
    of through a proxy the machine might define.
    """
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    was_enabled = offline.is_enabled()
    offline.enable()
    yield
    if not was_enabled:
        offline.disable()


@pytest.fixture
def fake_server(loopback_only: None) -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server
