"""Where a job's documents go: on this machine by default; `--route cloud` only where the
policy allows it, said before the job starts; and a document holding a client's card
number never reaches the cloud (a recording OpenAI-compatible server on 127.0.0.1) even
then. Every document is routed and audited like a chat message."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.documents.jobs_helpers import docs, rows
from tests.routing.fake_openai_server import FakeOpenAIServer, Reply

pytestmark = pytest.mark.slow

KEY = "sk-docs-job-0a1b2c3d4e5f6789"
CARD = "4539 1488 0343 6467"
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
ENV = {**{name: "" for name in PROXIES if name in os.environ}, "STILLROOM_KEY_FAKECLOUD": KEY}


@pytest.fixture
def cloud(stillroom_home: Path) -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(default=Reply("A short note about a delivery.")) as server:
        added = run_cli("providers", "add", "fakecloud", "--base-url", server.base_url,
                        "--model", "gpt-4o-mini", home=stillroom_home)
        assert added.returncode == 0, added.stderr
        yield server


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "matter"
    folder.mkdir()
    (folder / "a-delivery.txt").write_text("The steel beams arrive on Tuesday at dock 4.",
                                           encoding="utf-8")
    (folder / "b-retainer.txt").write_text(
        f"Please charge the client's card {CARD} (exp 09/27) for the retainer.",
        encoding="utf-8")
    return folder


def test_a_card_number_never_reaches_the_cloud_even_when_the_policy_allows_it(
        stillroom_home: Path, cloud: FakeOpenAIServer, folder: Path) -> None:
    home = stillroom_home
    result = docs(home, "run", str(folder), "--template", "summary", "--route", "cloud",
                  "--max-tokens", "6", env=ENV)
    assert result.returncode == 0, result.stderr
    assert ("This job sends each document that is not sensitive to fakecloud (gpt-4o-mini), "
            "off this machine; sensitive documents stay here") in result.stderr
    # The announcement comes before any document is answered.
    assert result.stderr.index("off this machine") < result.stderr.index("1/2 done")
    (request,) = cloud.requests
    sent = json.dumps(request.body)
    assert "steel beams" in sent
    assert CARD not in sent and CARD.replace(" ", "") not in sent and "retainer" not in sent
    by_file = {Path(path).name: (target, status) for path, target, status in rows(
        home, "SELECT path, route_target, status FROM document_job_items")}
    assert by_file == {"a-delivery.txt": ("cloud", "done"), "b-retainer.txt": ("local", "done")}
    audit = rows(home, "SELECT target, rule, sensitive, categories FROM audit ORDER BY seq")
    assert [(t, r, bool(s)) for t, r, s, _ in audit] == [
        ("cloud", "forced", False), ("local", "sensitivity", True)]
    assert "financial" in audit[1][3] and CARD not in json.dumps(audit)


def test_a_cloud_job_the_policy_does_not_allow_is_refused_before_it_starts(
        stillroom_home: Path, cloud: FakeOpenAIServer, folder: Path) -> None:
    home = stillroom_home
    (home / "settings.json").write_text(json.dumps({"offline": True}), encoding="utf-8")
    result = docs(home, "run", str(folder), "--template", "summary", "--route", "cloud",
                  env=ENV)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "stillroom: refused: a job with --route cloud: you asked for fakecloud (gpt-4o-mini), "
        "but offline mode is on and fakecloud is a cloud provider; run it with --route local, "
        "or change the policy.")
    assert cloud.requests == []
    assert rows(home, "SELECT count(*) FROM document_jobs") == [(0,)]


def test_no_cloud_provider_is_a_one_line_refusal(stillroom_home: Path, folder: Path) -> None:
    result = docs(stillroom_home, "run", str(folder), "--template", "summary", "--route",
                  "cloud")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "stillroom: refused: a job with --route cloud: you asked for 'cloud', but no cloud "
        "provider is configured; run it with --route local, or change the policy."]
