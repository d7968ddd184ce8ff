"""Hugging Face Hub: describe, search and download model files into the standard HF cache.

huggingface-hub answers the API (repository files with their LFS SHA-256, search). The
transfer is ours (see download() for why) but lands in the standard HF cache layout, so
files already there are reused and other tools find ours. Before a transfer: a free-disk
check; during: retries with backoff, resuming with Range requests; after: the SHA-256
against the Hub's published hash *before* anything may use the file — a file that fails
it is deleted, so it can never be picked up later.

The endpoint comes from HF_ENDPOINT (huggingface-hub reads it), which tests point at a
loopback server. Tokens are passed in by the caller (the app reads them from the keyring).

Nothing the server sends chooses a path: repository ids, file names, commits and hashes pass
remote_names' checks before they are used, and every cache path built from them is checked
to stay in the cache (see remote_names for why).
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import os
import re
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inference.engines.types import EngineError
from inference.files import sha256_file, write_text_atomic
from inference.hub.hashing_sink import HashingWriter
from inference.hub.remote_names import (
    check_commit,
    check_filename,
    check_repo_id,
    check_sha256,
    check_size,
    within,
)
from inference.models.created_files import CreatedFiles

_DISK_MARGIN_BYTES = 256 * 1024 * 1024
_READ_TIMEOUT_S = 60  # per socket read: a stalled connection is retried, not waited on forever
_USER_AGENT = "stillroom (huggingface-hub cache layout)"
# Quantization names as they appear in GGUF file names (…-Q4_K_M.gguf, …IQ3_XS…, …f16…).
_QUANT_IN_NAME = re.compile(
    r"(?<![A-Za-z0-9])(I?Q\d(?:_[A-Z0-9]+)*|BF16|F16|F32|FP16)(?![A-Za-z0-9])", re.IGNORECASE)
# Preferred file when the user names only a repository: the usual quality/size balance.
_PREFERRED_QUANTS = ("Q4_K_M", "Q4_K_S", "Q5_K_M", "Q4_0", "Q8_0")


class HubError(EngineError):
    """A search or download that cannot go on; the message says why and what to do."""


class ChecksumMismatchError(HubError):
    pass


class DownloadStopped(Exception):
    """The caller's stop event was set (pause or cancel); the partial file is kept."""


@dataclass(frozen=True, slots=True)
class RemoteFile:
    repo_id: str
    filename: str
    size_bytes: int | None
    sha256: str | None
    quantization: str | None
    revision: str | None = None


@dataclass(frozen=True, slots=True)
class DownloadProgress:
    filename: str
    downloaded_bytes: int
    total_bytes: int | None
    attempt: int


def quantization_from_filename(filename: str) -> str | None:
    stem = Path(filename).name
    found = _QUANT_IN_NAME.findall(stem)
    if not found:
        return None
    name = found[-1].upper()
    return "F16" if name == "FP16" else name


def parse_reference(reference: str) -> tuple[str, str | None]:
    """'org/repo' or 'org/repo:file.gguf' -> (repo_id, filename or None)."""
    repo_id, _, filename = reference.partition(":")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise HubError(f"'{reference}' is not a Hub model reference; expected ORG/REPO or "
                       f"ORG/REPO:FILE.gguf.")
    check_repo_id(repo_id)
    return repo_id, filename or None


def endpoint() -> str:
    """HF_ENDPOINT as it is now (huggingface-hub reads it once, at import)."""
    from huggingface_hub import constants

    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def _api(token: str | None):  # -> HfApi; imported lazily, it is a large package
    from huggingface_hub import HfApi

    return HfApi(endpoint=endpoint(), token=token or False)


def _explain(exc: Exception, repo_id: str, filename: str | None = None) -> HubError | None:
    """A user-facing error for the Hub's answers that retrying cannot fix, else None."""
    from huggingface_hub import errors

    what = f"{repo_id}:{filename}" if filename else repo_id
    if isinstance(exc, errors.GatedRepoError):
        return HubError(f"{repo_id} is gated: accept its terms on huggingface.co, then store "
                        f"your token with `stillroom keys set huggingface`.")
    if isinstance(exc, errors.RepositoryNotFoundError):
        return HubError(f"No repository {repo_id} on the Hub (or it is private and no token "
                        f"with access is stored).")
    if isinstance(exc, errors.RevisionNotFoundError | errors.EntryNotFoundError):
        return HubError(f"{what} does not exist on the Hub.")
    if isinstance(exc, errors.HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else None
        if status is not None and status < 500 and status not in (408, 429):
            return HubError(f"The Hub refused {what} (HTTP {status}).")
    return None


def repo_files(repo_id: str, *, token: str | None = None) -> list[RemoteFile]:
    """Every file of a repository with its size and published SHA-256."""
    try:
        info = _api(token).model_info(repo_id, files_metadata=True)
    except Exception as exc:
        raise (_explain(exc, repo_id) or HubError(
            f"Could not reach the Hub for {repo_id}: {exc}")) from exc
    # One hostile value refuses the whole listing: such a server is not to be trusted at all.
    revision = check_commit(info.sha) if info.sha is not None else None
    files = []
    for sibling in info.siblings or []:
        filename = check_filename(sibling.rfilename)
        lfs = sibling.lfs
        sha256 = check_sha256(lfs.sha256, f"sha256 of {filename}") if lfs is not None else None
        files.append(RemoteFile(repo_id, filename, check_size(sibling.size, f"size of {filename}"),
                                sha256, quantization_from_filename(filename), revision))
    return files


def check_remote(remote: RemoteFile) -> RemoteFile:
    """Every value of `remote` that can become part of a path or URL, checked (a RemoteFile
    may come from the API, the download list or the GUI)."""
    check_repo_id(remote.repo_id)
    check_filename(remote.filename)
    if remote.sha256 is not None:
        check_sha256(remote.sha256, f"sha256 of {remote.filename}")
    if remote.revision is not None:
        check_commit(remote.revision)
    check_size(remote.size_bytes, f"size of {remote.filename}")
    return remote


def choose_file(repo_id: str, files: list[RemoteFile], filename: str | None) -> RemoteFile:
    ggufs = [f for f in files if f.filename.lower().endswith(".gguf")]
    if filename is not None:
        for remote in files:
            if remote.filename == filename:
                return remote
        raise HubError(f"{repo_id} has no file {filename}. GGUF files: "
                       f"{', '.join(f.filename for f in ggufs) or 'none'}.")
    if len(ggufs) == 1:
        return ggufs[0]
    for quant in _PREFERRED_QUANTS:
        matching = [f for f in ggufs if f.quantization == quant]
        if len(matching) == 1:
            return matching[0]
    if not ggufs:
        raise HubError(f"{repo_id} has no GGUF file.")
    raise HubError(f"{repo_id} has several GGUF files; name one as {repo_id}:FILE. "
                   f"Files: {', '.join(f.filename for f in ggufs)}.")


def cache_dir() -> Path:
    """The standard HF cache (HF_HUB_CACHE, else HF_HOME/hub), as the environment says now."""
    from huggingface_hub import constants

    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    return Path(constants.HF_HUB_CACHE)


def _incomplete_bytes(remote: RemoteFile) -> int:
    """Bytes of this file already fetched by an earlier, cut transfer (resumed, not redone)."""
    path = partial_path(remote)
    try:
        return path.stat().st_size if path is not None else 0
    except FileNotFoundError:
        return 0


def check_free_space(remote: RemoteFile) -> None:
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    remaining = (remote.size_bytes or 0) - _incomplete_bytes(remote)
    free = shutil.disk_usage(directory).free
    if remaining + _DISK_MARGIN_BYTES > free:
        raise HubError(f"Not enough disk space for {remote.filename}: it needs "
                       f"{remaining / 1e9:.2f} GB more, {free / 1e9:.2f} GB are free in "
                       f"{directory}.")


def partial_path(remote: RemoteFile) -> Path | None:
    """Where a transfer of this file keeps its bytes until they are verified."""
    if not remote.sha256:
        return None
    blobs = _repo_cache(remote.repo_id) / "blobs"
    return within(blobs, blobs / f"{check_sha256(remote.sha256)}.incomplete", "partial file")


def _blob_path(remote: RemoteFile) -> Path:
    blobs = _repo_cache(remote.repo_id) / "blobs"
    return within(blobs, blobs / check_sha256(remote.sha256), "blob")


def _repo_cache(repo_id: str) -> Path:
    root = cache_dir()
    return within(root, root / f"models--{check_repo_id(repo_id).replace('/', '--')}",
                  "repository folder")


def _resolve_url(remote: RemoteFile) -> str:
    check_remote(remote)
    return (f"{endpoint()}/{remote.repo_id}/resolve/{remote.revision or 'main'}/"
            f"{urllib.parse.quote(remote.filename)}")


def open_file(remote: RemoteFile, token: str | None, start: int = 0,
              end: int | None = None) -> http.client.HTTPResponse:
    """GET the file (from byte `start` to `end` inclusive, with a Range request when not the
    whole file). The caller checks `status`: a server may ignore the Range (200)."""
    request = urllib.request.Request(_resolve_url(remote), headers={"User-Agent": _USER_AGENT})
    if token:
        # Unredirected: the Hub redirects large files to a CDN that must not see the token.
        request.add_unredirected_header("Authorization", f"Bearer {token}")
    if start or end is not None:
        request.add_header("Range", f"bytes={start}-{'' if end is None else end}")
    return urllib.request.urlopen(request, timeout=_READ_TIMEOUT_S)


def _transfer(remote: RemoteFile, partial: Path, token: str | None,
              on_progress: Callable[[int], None], stop: threading.Event | None) -> str:
    """Append the rest of the file to `partial` (a Range request when some is there) and
    return the whole file's SHA-256, hashed as it streams on another thread (see
    hashing_sink): a second pass over a large file would cost more than the transfer on a
    fast link, and hashing in the reading thread would slow the transfer."""
    offset = partial.stat().st_size if partial.exists() else 0
    if remote.size_bytes is not None and offset > remote.size_bytes:
        partial.unlink()
        offset = 0
    with open_file(remote, token, offset) as response:
        restart = bool(offset) and response.status != 206  # the server ignored the Range
        if restart:
            offset = 0
        sink = HashingWriter(partial, prefix_bytes=offset, truncate=restart or not offset)
        try:
            while True:
                buffer = sink.buffer()
                count = response.readinto(buffer)
                sink.submit(buffer, count)
                if not count:
                    break
                offset += count
                on_progress(offset)
                if stop is not None and stop.is_set():
                    raise DownloadStopped(remote.filename)
        except BaseException:
            sink.close()  # what arrived is written: the next attempt continues from it
            raise
    if remote.size_bytes is not None and offset != remote.size_bytes:
        sink.close()
        raise ConnectionError(f"the transfer ended at {offset:,} of {remote.size_bytes:,} bytes")
    return sink.finish()


def http_error(exc: urllib.error.HTTPError, remote: RemoteFile) -> HubError | None:
    """A user-facing error for answers that retrying cannot fix, else None (retry)."""
    code = exc.headers.get("X-Error-Code", "") if exc.headers else ""
    if code == "GatedRepo" or exc.code in (401, 403):
        return HubError(f"{remote.repo_id} is gated or private: accept its terms on "
                        f"huggingface.co, then store your token with `stillroom keys set "
                        f"huggingface`.")
    if exc.code == 404:
        return HubError(f"{remote.repo_id}:{remote.filename} does not exist on the Hub.")
    if exc.code < 500 and exc.code not in (408, 429):
        return HubError(f"The Hub refused {remote.filename} (HTTP {exc.code}).")
    return None


def download(remote: RemoteFile, *, token: str | None = None,
             on_progress: Callable[[DownloadProgress], None] | None = None,
             attempts: int = 4, backoff_s: float = 1.0,
             sleep: Callable[[float], None] = time.sleep,
             stop: threading.Event | None = None,
             created: CreatedFiles | None = None) -> Path:
    """Fetch one file into the HF cache and return its blob path once its SHA-256 matches.

    huggingface-hub 2.x downloads into a per-process temporary file that it deletes on
    failure, so a cut transfer would start over; we keep `blobs/<sha256>.incomplete`
    instead and continue it with a Range request — on the next attempt or the next run.
    The finished file goes where huggingface-hub puts it (blobs/ + a snapshots/ link), so
    its own tools and other apps find it.

    `stop` (pause/cancel from a download queue) is checked between blocks and during
    backoff: DownloadStopped is raised and the `.incomplete` file is left for a resume.

    `created` (the data directory's ledger) records the blob when this call made it; a
    blob already in the cache (another tool's, or an earlier pull's) is not recorded.
    """
    if not remote.sha256:
        raise HubError(f"The Hub publishes no SHA-256 for {remote.filename}, so it cannot be "
                       f"verified; not downloaded.")
    check_remote(remote)
    blob = _blob_path(remote)
    _snapshot_link(remote)  # a name that would lead outside the cache fails before any transfer
    if blob.exists():  # already in the cache (ours or another app's): verify, don't refetch
        _verify(blob, remote)
        _link_snapshot(remote, blob)
        return blob
    check_free_space(remote)
    blob.parent.mkdir(parents=True, exist_ok=True)
    partial = blob.with_name(blob.name + ".incomplete")
    failures = 0
    attempt = 0

    def report(done: int) -> None:
        if on_progress is not None:
            on_progress(DownloadProgress(remote.filename, done, remote.size_bytes, attempt))

    while True:
        attempt += 1
        if stop is not None and stop.is_set():
            raise DownloadStopped(remote.filename)
        before = partial.stat().st_size if partial.exists() else 0
        try:
            actual = _transfer(remote, partial, token, report, stop)
            break
        except urllib.error.HTTPError as exc:
            explained = http_error(exc, remote)
            if explained is not None:
                raise explained from exc
            error: Exception = exc
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, cut, timeout
            if getattr(exc, "errno", None) == errno.ENOSPC:
                raise HubError(f"The disk filled up while downloading {remote.filename}; "
                               f"free some space and pull again (it resumes).") from exc
            error = exc
        progressed = partial.exists() and partial.stat().st_size > before
        failures = 0 if progressed else failures + 1  # only stalls count against the limit
        if failures >= attempts:
            raise HubError(f"Downloading {remote.filename} failed {attempts} times in a row "
                           f"({error}); pull again to resume.") from error
        delay = backoff_s * 2 ** max(failures - 1, 0)
        if stop is not None:
            stop.wait(delay)  # a pause during backoff takes effect at once
        else:
            sleep(delay)
    _verify(partial, remote, actual)
    partial.replace(blob)
    if created is not None:
        created.record(blob, sha256=actual)
    _link_snapshot(remote, blob)
    return blob


def _link_snapshot(remote: RemoteFile, blob: Path) -> None:
    """snapshots/<commit>/<file> -> ../../blobs/<sha256> and refs/main -> <commit>, as
    huggingface-hub lays them out (remote.revision is the commit `main` resolved to)."""
    link = _snapshot_link(remote)
    if link is None:
        return
    refs = _repo_cache(remote.repo_id) / "refs" / "main"
    commit = check_commit(remote.revision)
    if _current_ref(refs) != commit:  # unchanged: no rewrite (an fsync on each pull)
        write_text_atomic(refs, commit)  # another tool may read it any time
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        return
    # Without symlinks (Windows without developer mode) the blob path still works.
    with contextlib.suppress(OSError):
        link.symlink_to(os.path.relpath(blob, link.parent))


def _current_ref(refs: Path) -> str | None:
    try:
        return refs.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _snapshot_link(remote: RemoteFile) -> Path | None:
    """snapshots/<commit>/<file>, checked to stay in the snapshots folder (its folder is
    resolved, not the link itself, which points into blobs/)."""
    if not remote.revision:
        return None
    snapshots = _repo_cache(remote.repo_id) / "snapshots"
    link = snapshots / check_commit(remote.revision) / check_filename(remote.filename)
    within(snapshots, link.parent, "snapshot folder")
    return link


def _verify(path: Path, remote: RemoteFile, actual: str | None = None) -> None:
    """Check the SHA-256; on a mismatch delete the file and raise: never used, never kept."""
    actual = actual or sha256_file(path)
    if actual == remote.sha256:
        return
    path.unlink(missing_ok=True)
    raise ChecksumMismatchError(
        f"{remote.filename} is corrupt: its SHA-256 is {actual[:12]}…, the Hub publishes "
        f"{str(remote.sha256)[:12]}…. It was deleted and not registered; pull it again.")
