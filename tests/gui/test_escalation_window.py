"""Confidence escalation in the window: the unsure local answer stays, and the second answer
from the loopback stand-in for the cloud streams below it with its reason on the badge."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from routing.providers import ProviderStore, make_provider
from routing.router import PROVIDERS_FILE
from tests.app.test_escalation import (
    CLOUD_ANSWER,
    CLOUD_MODEL,
    ESCALATE_EVERYTHING,
    KEY,
    PROXIES,
    write_policy,
)
from tests.gui.conftest import ask
from tests.routing.fake_openai_server import FakeOpenAIServer, Reply


@pytest.fixture
def cloud(stillroom_home: Path, monkeypatch: pytest.MonkeyPatch
          ) -> Iterator[FakeOpenAIServer]:
    for name in PROXIES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STILLROOM_KEY_FAKECLOUD", KEY)
    with FakeOpenAIServer(default=Reply(CLOUD_ANSWER)) as server:
        write_policy(stillroom_home, ESCALATE_EVERYTHING)
        ProviderStore(stillroom_home / PROVIDERS_FILE).add(
            make_provider("fakecloud", base_url=server.base_url, models=[CLOUD_MODEL]))
        yield server


def test_an_unsure_answer_is_asked_again_and_both_are_shown(qtbot, cloud, windows) -> None:
    window = windows.open()
    escalations: list[dict] = []
    window.workers.worker.sig_escalation_started.connect(
        lambda _rid, details: escalations.append(details))
    ask(qtbot, window, "Write a short poem about the sea.", max_tokens=12)

    (details,) = escalations
    assert details["target"] == "cloud" and details["provider"] == "fakecloud"
    assert details["confidence"]["escalate"] is True
    question, local, second = window.chat_view.messages
    assert question.text() == "Write a short poem about the sea."
    assert local.text() and local.text() != CLOUD_ANSWER
    assert second.text() == CLOUD_ANSWER
    assert second.badge.text().startswith(f"Cloud · {CLOUD_MODEL} · ")
    assert details["reason"] in second.badge.text()
    (request,) = cloud.requests
    assert request.user_texts[-1] == "Write a short poem about the sea."
    stored = window.services.store.messages(window.conversation_id)
    assert [(m.role, m.route_target) for m in stored] == [
        ("user", None), ("assistant", "local"), ("assistant", "cloud")]
    # The meters showed the local answer's own figures before the second answer began.
    assert details["local"]["message_id"] == stored[1].id
    assert details["local"]["completion_tokens"] > 0
