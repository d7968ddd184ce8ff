"""Downloads through huggingface-hub from a loopback Hub: resume, retries, verification."""

import sys
from pathlib import Path

import pytest

from inference.engines.types import ModelInfo
from inference.files import sha256_file
from inference.hub.transfer import (
    ChecksumMismatchError,
    DownloadProgress,
    HubError,
    cache_dir,
    choose_file,
    download,
    parse_reference,
    quantization_from_filename,
    repo_files,
)
from tests.inference.fake_hub import FakeHub

REPO = "acme/Smol-GGUF"
FILE = "Smol-135M-Instruct-Q4_1.gguf"


@pytest.fixture
def hub(fake_hub: FakeHub, model: ModelInfo) -> FakeHub:
    fake_hub.add(REPO, {FILE: Path(model.path), "README.md": b"# Smol\n"})
    return fake_hub


def _file_gets(hub: FakeHub) -> list[dict[str, str]]:
    return [r.headers for r in hub.requests if r.method == "GET" and "/resolve/" in r.path]


def test_repo_files_carry_size_hash_and_quantization(hub: FakeHub, model: ModelInfo) -> None:
    files = {f.filename: f for f in repo_files(REPO)}
    gguf = files[FILE]
    assert (gguf.size_bytes, gguf.sha256, gguf.quantization) == \
        (model.size_bytes, model.sha256, "Q4_1")
    assert choose_file(REPO, list(files.values()), None) == gguf


def test_a_download_lands_in_the_hf_cache_verified(hub: FakeHub, model: ModelInfo) -> None:
    remote = choose_file(REPO, repo_files(REPO), FILE)
    seen: list[DownloadProgress] = []
    path = download(remote, on_progress=seen.append)
    repo_cache = cache_dir() / "models--acme--Smol-GGUF"
    assert path == repo_cache / "blobs" / model.sha256
    assert sha256_file(path) == model.sha256
    # The layout huggingface-hub reads: its own lookup finds our file, offline.
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(REPO, FILE, cache_dir=cache_dir())
    assert Path(found).resolve() == path
    assert seen[-1].downloaded_bytes == model.size_bytes == seen[-1].total_bytes


def test_a_cut_connection_resumes_with_a_range_request(hub: FakeHub, model: ModelInfo) -> None:
    hub.cut_after[FILE] = 30_000_000
    slept: list[float] = []
    path = download(choose_file(REPO, repo_files(REPO), FILE), sleep=slept.append)
    assert [g.get("range") for g in _file_gets(hub)] == [None, "bytes=30000000-"]
    assert slept == [1.0]
    assert sha256_file(path) == model.sha256


def test_a_transfer_cut_in_an_earlier_run_resumes_where_it_stopped(
        hub: FakeHub, model: ModelInfo) -> None:
    """The .incomplete file an interrupted process left behind is continued, not redone."""
    blobs = cache_dir() / "models--acme--Smol-GGUF" / "blobs"
    blobs.mkdir(parents=True)
    partial = Path(model.path).read_bytes()[:12_345_678]
    (blobs / f"{model.sha256}.incomplete").write_bytes(partial)
    path = download(choose_file(REPO, repo_files(REPO), FILE))
    assert [g.get("range") for g in _file_gets(hub)] == ["bytes=12345678-"]
    assert not (blobs / f"{model.sha256}.incomplete").exists()
    assert sha256_file(path) == model.sha256


def test_server_errors_are_retried_with_backoff(hub: FakeHub, model: ModelInfo) -> None:
    hub.unavailable = 2
    slept: list[float] = []
    path = download(choose_file(REPO, repo_files(REPO), FILE), sleep=slept.append)
    assert slept == [1.0, 2.0]
    assert sha256_file(path) == model.sha256


def test_retries_give_up_with_a_clear_message(hub: FakeHub) -> None:
    hub.unavailable = 100
    with pytest.raises(HubError, match=r"failed 3 times in a row.*pull again to resume"):
        download(choose_file(REPO, repo_files(REPO), FILE), attempts=3, sleep=lambda s: None)


def test_corrupted_bytes_are_rejected_and_deleted(hub: FakeHub) -> None:
    hub.corrupt.add(FILE)
    with pytest.raises(ChecksumMismatchError, match=r"is corrupt.*deleted and not registered"):
        download(choose_file(REPO, repo_files(REPO), FILE))
    repo_cache = cache_dir() / "models--acme--Smol-GGUF"
    assert [p for p in repo_cache.rglob("*") if p.is_file() or p.is_symlink()] == []


def test_a_gated_repo_needs_the_token(fake_hub: FakeHub, model: ModelInfo) -> None:
    fake_hub.add("acme/Gated-GGUF", {FILE: Path(model.path)}, gated=True)
    with pytest.raises(HubError, match=r"is gated.*stillroom keys set huggingface"):
        repo_files("acme/Gated-GGUF")
    remote = choose_file("acme/Gated-GGUF", repo_files("acme/Gated-GGUF",
                                                       token=fake_hub.token), FILE)
    with pytest.raises(HubError, match="is gated"):
        download(remote)
    assert sha256_file(download(remote, token=fake_hub.token)) == model.sha256


def test_not_enough_disk_is_refused_before_any_transfer(hub: FakeHub,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 10**6, 10**6))
    with pytest.raises(HubError, match="Not enough disk space"):
        download(choose_file(REPO, repo_files(REPO), FILE))
    assert _file_gets(hub) == []


@pytest.mark.parametrize(("name", "quant"), [
    ("Llama-3.2-1B-Instruct-Q4_K_M.gguf", "Q4_K_M"),
    ("qwen2.5-0.5b-instruct-q8_0.gguf", "Q8_0"),
    ("Phi-3-mini-4k-instruct-IQ3_XS.gguf", "IQ3_XS"),
    ("model-f16.gguf", "F16"),
    ("tinyllama.BF16.gguf", "BF16"),
    ("README.md", None),
])
def test_quantization_is_read_from_the_file_name(name: str, quant: str | None) -> None:
    assert quantization_from_filename(name) == quant


def test_references_are_checked() -> None:
    assert parse_reference("a/b:c.gguf") == ("a/b", "c.gguf")
    assert parse_reference("a/b") == ("a/b", None)
    with pytest.raises(HubError, match="ORG/REPO"):
        parse_reference("just-a-name")


def test_refs_main_is_rewritten_only_when_the_commit_changes(hub: FakeHub,
                                                             model: ModelInfo) -> None:
    download(choose_file(REPO, repo_files(REPO), FILE))
    refs = cache_dir() / "models--acme--Smol-GGUF" / "refs" / "main"
    first = refs.stat()
    download(choose_file(REPO, repo_files(REPO), "README.md"))  # same repository, same commit
    assert refs.stat().st_ino == first.st_ino  # not replaced
    hub.commit = "f" * 40
    download(choose_file(REPO, repo_files(REPO), FILE))  # cached blob, a new commit
    assert refs.read_text() == "f" * 40
    assert (refs.parent.parent / "snapshots" / ("f" * 40) / FILE).resolve() == \
        Path(cache_dir() / "models--acme--Smol-GGUF" / "blobs" / model.sha256)


_audited: list[str] | None = None  # collecting while a list; the hook cannot be removed


def _count_audit_events(event: str, args: tuple[object, ...]) -> None:
    if _audited is not None:
        _audited.append(event)


def test_the_transfer_raises_no_audit_events_per_block(hub: FakeHub, model: ModelInfo) -> None:
    """The offline guard's audit hook (routing/offline.py) runs on every audit event of the
    process: a transfer must raise its events per connection, never per block."""
    global _audited
    sys.addaudithook(_count_audit_events)
    files = {f.filename: f for f in repo_files(REPO)}
    counts = []
    for name in ("README.md", FILE):  # 7 bytes, then ~94 blocks of 1 MiB
        _audited = []
        try:
            download(files[name], on_progress=lambda update: None)
        finally:
            events, _audited = _audited, None
        counts.append(len(events))
    assert model.size_bytes > 50 * (1 << 20)
    assert counts[1] <= counts[0] + 5, counts
