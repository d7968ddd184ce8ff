"""Will a model on the Hub fit this machine? Answered before downloading it.

Only the GGUF header is read, with HTTP Range requests: the architecture's shape (layers,
heads, width) is all the estimate needs besides the file's size, which the Hub lists. A
header is usually well under 1 MiB, but it holds the whole vocabulary, so large
vocabularies (150k+ tokens with their merges) make it several MiB: we read a first range
and, while the header goes on past it, fetch more in growing steps, up to a cap.

A model split into shards (…-00001-of-00003.gguf) is described by its first shard's
header; its size is the sum of the shards'.
"""

from __future__ import annotations

import dataclasses
import http.client
import re
import urllib.error
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from inference.hardware import detect_gpus
from inference.hub.transfer import (
    _QUANT_IN_NAME,
    HubError,
    RemoteFile,
    http_error,
    open_file,
    repo_files,
)
from inference.models.fit import FitEstimate, estimate_fit
from inference.models.gguf_file import (
    MAX_HEADER_BYTES,  # no real header is this large; stops a runaway on a bad file
    GGUFError,
    GGUFSummary,
    HeaderIncompleteError,
    summarize,
)

FIRST_READ_BYTES = 1 << 20
_GROWTH = 4  # each further read asks for 4x what we have: 1, 4, 16, 64 MiB
_SHARD = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class RemoteModel:
    """One loadable model in a repository: a GGUF file, or the shards of one."""

    repo_id: str
    filename: str  # the file (or first shard) to load
    shards: tuple[RemoteFile, ...]
    quantization: str | None
    size_bytes: int | None
    kind: str  # "model", or "projector" (a vision encoder loaded beside a model)
    fit: FitEstimate | None = None
    error: str | None = None  # why there is no fit (header unreadable, no size)

    @property
    def first(self) -> RemoteFile:
        return self.shards[0]


def shard_of(filename: str) -> tuple[int, int] | None:
    """(index, count) for '…-00002-of-00003.gguf', else None."""
    match = _SHARD.search(filename)
    return (int(match.group(1)), int(match.group(2))) if match else None


def read_remote_summary(remote: RemoteFile, *, token: str | None = None,
                        total_size: int | None = None) -> GGUFSummary:
    """The header of a file on the Hub, read by ranges; size_bytes is `total_size` (the
    sum of a sharded model's files) or the file's own size."""
    size = remote.size_bytes
    buffer = bytearray()
    want = FIRST_READ_BYTES
    while True:
        chunk, reported = _read_range(remote, len(buffer), want - 1, token)
        size = size or reported
        if not chunk:
            raise HubError(f"{remote.filename}: the Hub sent no bytes at {len(buffer):,}.")
        buffer += chunk
        if size is None:
            raise HubError(f"The Hub does not say how large {remote.filename} is.")
        try:
            summary = summarize(buffer, Path(remote.filename), size)
        except HeaderIncompleteError:
            if len(buffer) >= min(size, MAX_HEADER_BYTES):
                raise HubError(f"{remote.filename}: its GGUF header is larger than "
                               f"{MAX_HEADER_BYTES >> 20} MiB; not a model we can "
                               f"describe.") from None
            want = min(len(buffer) * _GROWTH, MAX_HEADER_BYTES, size)
            continue
        except GGUFError as exc:
            raise HubError(f"{remote.repo_id}:{remote.filename}: {exc}") from exc
        return dataclasses.replace(summary, size_bytes=total_size or size)


def _read_range(remote: RemoteFile, start: int, end: int, token: str | None
                ) -> tuple[bytes, int | None]:
    """Bytes start..end (inclusive) and the file's full size when the server says it."""
    try:
        with open_file(remote, token, start, end) as response:
            total = None
            content_range = response.headers.get("Content-Range", "")
            if "/" in content_range and content_range.rsplit("/", 1)[1].isdigit():
                total = int(content_range.rsplit("/", 1)[1])
            if response.status == 206:
                return response.read(end - start + 1), total
            # The server ignored the Range and sends the whole file: take what we asked for.
            length = response.headers.get("Content-Length")
            data = response.read(end + 1)
            return data[start:], total or (int(length) if length else None)
    except urllib.error.HTTPError as exc:
        raise (http_error(exc, remote) or HubError(
            f"The Hub answered HTTP {exc.code} for {remote.filename}; try again.")) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise HubError(f"Could not read {remote.filename} from the Hub: {exc}") from exc


def _shards_of(remote: RemoteFile, siblings: Sequence[RemoteFile] | None,
               token: str | None) -> tuple[RemoteFile, ...]:
    shard = shard_of(remote.filename)
    if shard is None:
        return (remote,)
    if siblings is None:
        siblings = repo_files(remote.repo_id, token=token)
    prefix = _SHARD.sub("", remote.filename)
    shards = sorted((f for f in siblings if shard_of(f.filename)
                     and _SHARD.sub("", f.filename) == prefix),
                    key=lambda f: shard_of(f.filename) or (0, 0))
    if len(shards) != shard[1]:
        raise HubError(f"{remote.repo_id} lists {len(shards)} of the {shard[1]} shards of "
                       f"{prefix}.gguf; the model is incomplete on the Hub.")
    return tuple(shards)


def remote_fit(remote: RemoteFile, context_length: int, *, token: str | None = None,
               siblings: Sequence[RemoteFile] | None = None) -> FitEstimate:
    """Fit estimate (with GPU offload advice) for a GGUF on the Hub, from its header.
    For a shard, every shard's size counts; `siblings` (the repo's files) saves a request."""
    shards = _shards_of(remote, siblings, token)
    sizes = [s.size_bytes for s in shards]
    total = sum(s for s in sizes if s) if all(sizes) else None
    summary = read_remote_summary(shards[0], token=token, total_size=total)
    return estimate_fit(summary, context_length)


def _family(filename: str) -> str:
    """Files that differ only in quantization share an architecture (and so a header's
    shape): the name without its quantization, shard suffix and extension."""
    stem = _SHARD.sub("", Path(filename).name).removesuffix(".gguf")
    return _QUANT_IN_NAME.sub("", stem).lower()


def list_repo_models(repo_id: str, context_length: int, *, token: str | None = None,
                     files: Sequence[RemoteFile] | None = None) -> list[RemoteModel]:
    """The repository's GGUF models (shards grouped) with quantization, size and a fit.

    One header is read per family of files (quantizations of the same weights have the
    same shape), so a repository with twenty quantizations costs one header read."""
    files = list(files) if files is not None else repo_files(repo_id, token=token)
    models: list[RemoteModel] = []
    for remote in sorted(files, key=lambda f: f.filename):
        if not remote.filename.lower().endswith(".gguf"):
            continue
        shard = shard_of(remote.filename)
        if shard is not None and shard[0] != 1:
            continue
        try:
            shards = _shards_of(remote, files, token)
        except HubError as exc:
            models.append(RemoteModel(repo_id, remote.filename, (remote,),
                                      remote.quantization, None, "model", None, str(exc)))
            continue
        sizes = [s.size_bytes for s in shards]
        total = sum(s for s in sizes if s) if all(sizes) else None
        kind = "projector" if "mmproj" in remote.filename.lower() else "model"
        models.append(RemoteModel(repo_id, remote.filename, shards, remote.quantization,
                                  total, kind))
    headers: dict[str, GGUFSummary | str] = {}
    gpus = detect_gpus()  # once for the listing, not once per file
    result = []
    for model in models:
        if model.kind != "model" or model.error or model.size_bytes is None:
            result.append(model)
            continue
        family = _family(model.filename)
        if family not in headers:
            try:
                headers[family] = read_remote_summary(model.first, token=token)
            except HubError as exc:
                headers[family] = str(exc)
        header = headers[family]
        if isinstance(header, str):
            result.append(dataclasses.replace(model, error=header))
            continue
        summary = dataclasses.replace(header, size_bytes=model.size_bytes)
        result.append(dataclasses.replace(model, fit=estimate_fit(summary, context_length,
                                                                       gpus=gpus)))
    return result
