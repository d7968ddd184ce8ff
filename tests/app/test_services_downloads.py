"""The composition root's download queue: shared state file, registration in the library."""

import threading
from pathlib import Path

from app.services import Services
from inference.engines.types import ModelInfo
from inference.hub.downloads import DownloadJob
from inference.hub.transfer import choose_file, repo_files
from tests.inference.fake_hub import FakeHub

REPO = "acme/Smol-GGUF"
FILE = "Smol-135M-Instruct-Q4_1.gguf"


def test_a_download_through_services_lands_in_the_library(
        stillroom_home: Path, fake_hub: FakeHub, model: ModelInfo) -> None:
    fake_hub.add(REPO, {FILE: Path(model.path)})
    services = Services.open()
    try:
        assert services._downloads is None  # nothing resumes until the queue is asked for
        finished = threading.Event()
        services.downloads.subscribe(lambda job: job.state == "done" and finished.set())
        services.downloads.add(choose_file(REPO, repo_files(REPO), FILE))
        assert finished.wait(120)
        (job,) = services.downloads.jobs()
        assert isinstance(job, DownloadJob)
        installed = services.library.get(job.model_id)
        assert installed.sha256 == model.sha256 and installed.id == "smol-135m-instruct-q4-1"
        assert (stillroom_home / "downloads.json").exists()
    finally:
        services.close()
