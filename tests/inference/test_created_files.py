"""The ledger of files Stillroom made: a download records the blob it wrote, never one that
was in the HF cache before; the download queue (the GUI's pulls) records too."""

from pathlib import Path

from inference.engines.types import ModelInfo
from inference.hub.downloads import DownloadQueue, library_registrar
from inference.hub.transfer import choose_file, download, repo_files
from inference.models.created_files import CreatedFiles, content_digest
from inference.models.library import ModelLibrary
from tests.inference.fake_hub import FakeHub
from tests.inference.test_downloads import Watcher

REPO = "acme/Smol-GGUF"
FILE = "Smol-135M-Instruct-Q4_1.gguf"


def test_a_download_records_the_blob_it_made_with_its_hash(
        fake_hub: FakeHub, model: ModelInfo, stillroom_home: Path) -> None:
    fake_hub.add(REPO, {FILE: Path(model.path)})
    created = CreatedFiles(stillroom_home)
    blob = download(choose_file(REPO, repo_files(REPO), FILE), created=created)
    assert created.owns(blob) and content_digest(blob) == model.sha256


def test_a_blob_already_in_the_cache_is_not_recorded(fake_hub: FakeHub, model: ModelInfo,
                                                     stillroom_home: Path) -> None:
    fake_hub.add(REPO, {FILE: Path(model.path)})
    remote = choose_file(REPO, repo_files(REPO), FILE)
    theirs = download(remote)  # another tool (no ledger) filled the cache first
    created = CreatedFiles(stillroom_home)
    assert download(remote, created=created) == theirs
    assert not created.lists(theirs) and not created.owns(theirs)


def test_the_download_queue_records_what_it_fetched(fake_hub: FakeHub, model: ModelInfo,
                                                    stillroom_home: Path,
                                                    tmp_path: Path) -> None:
    fake_hub.add(REPO, {FILE: Path(model.path)})
    created = CreatedFiles(stillroom_home)
    queue = DownloadQueue(tmp_path / "downloads.json",
                          library_registrar(ModelLibrary(stillroom_home)), lambda: None,
                          autostart=False, created=created)
    watcher = Watcher()
    queue.subscribe(watcher)
    try:
        queue.add(choose_file(REPO, repo_files(REPO), FILE))
        queue.start()
        done = watcher.wait_for(lambda job: job.state in ("done", "failed"))
    finally:
        queue.close()
    assert done.state == "done", done.error
    blob = ModelLibrary(stillroom_home).get(str(done.model_id)).path
    assert created.owns(Path(blob))
