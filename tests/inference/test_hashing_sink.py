"""The download sink: bytes land in order, the hash covers a resumed file's prefix, and a
failed write reaches the reading thread."""

import errno
import hashlib
import itertools
import os
import threading
from pathlib import Path

import pytest

from inference.hub import hashing_sink
from inference.hub.hashing_sink import HashingWriter

# A guard against a hang, not a performance limit: every wait below ends far sooner.
HANG_GUARD_S = 60


def _feed(writer: HashingWriter, data: bytes, step: int) -> None:
    for start in range(0, len(data), step):
        buffer = writer.buffer()
        chunk = data[start:start + step]
        buffer[:len(chunk)] = chunk
        writer.submit(buffer, len(chunk))


def test_blocks_are_written_in_order_and_hashed_with_the_prefix(tmp_path: Path) -> None:
    data = os.urandom(5 * hashing_sink.BLOCK_BYTES + 12345)
    path = tmp_path / "blob.incomplete"
    path.write_bytes(data[:777_777])  # left by an earlier, cut transfer
    writer = HashingWriter(path, prefix_bytes=777_777)
    _feed(writer, data[777_777:], hashing_sink.BLOCK_BYTES)
    assert writer.finish() == hashlib.sha256(data).hexdigest()
    assert path.read_bytes() == data


def test_truncate_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "blob.incomplete"
    path.write_bytes(b"stale bytes from a server that ignored the Range")
    writer = HashingWriter(path, prefix_bytes=path.stat().st_size, truncate=True)
    _feed(writer, b"fresh", 1 << 20)
    assert writer.finish() == hashlib.sha256(b"fresh").hexdigest()
    assert path.read_bytes() == b"fresh"


def test_close_keeps_what_was_submitted(tmp_path: Path) -> None:
    path = tmp_path / "blob.incomplete"
    writer = HashingWriter(path, truncate=True)
    _feed(writer, b"x" * 3000, 1000)
    writer.close()
    assert path.stat().st_size == 3000


def test_a_full_disk_reaches_the_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    writer = HashingWriter(tmp_path / "blob.incomplete", truncate=True)
    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError, match="No space left"):
        _feed(writer, b"x" * 10, 10)
    monkeypatch.undo()
    writer.close()


def test_buffers_are_made_as_the_reader_gets_ahead_and_never_more_than_depth(
        tmp_path: Path) -> None:
    empty = HashingWriter(tmp_path / "empty.incomplete", truncate=True)
    assert empty.finish() == hashlib.sha256(b"").hexdigest()
    assert empty.buffers_made == 0  # nothing was asked for, nothing was allocated

    data = os.urandom(3 * hashing_sink.DEPTH * 1000)
    writer = HashingWriter(tmp_path / "blob.incomplete", truncate=True)
    _feed(writer, data, 1000)  # far more blocks than DEPTH
    assert writer.finish() == hashlib.sha256(data).hexdigest()
    assert 1 <= writer.buffers_made <= hashing_sink.DEPTH


@pytest.mark.skipif(hashing_sink._SYNC_FILE_RANGE is None, reason="sync_file_range is Linux's")
def test_writeback_is_started_by_the_hash_thread_over_written_bytes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The socket thread must not make the call: it can block while the disk is busy."""
    real = hashing_sink._SYNC_FILE_RANGE
    calls: list[tuple[str, int, int, int]] = []

    def recording(fd: int, offset: int, count: int, flags: int) -> int:
        path = tmp_path / "blob.incomplete"
        calls.append((threading.current_thread().name, offset, count, path.stat().st_size))
        return real(fd, offset, count, flags)

    monkeypatch.setattr(hashing_sink, "_SYNC_FILE_RANGE", recording)
    prefix = 100_000
    data = os.urandom(prefix + 3 * hashing_sink.WRITEBACK_EVERY + 5)
    path = tmp_path / "blob.incomplete"
    path.write_bytes(data[:prefix])
    writer = HashingWriter(path, prefix_bytes=prefix)
    _feed(writer, data[prefix:], hashing_sink.BLOCK_BYTES)
    assert writer.finish() == hashlib.sha256(data).hexdigest()

    assert calls and {name for name, *_ in calls} == {"sha256"}
    assert calls[0][1] == prefix  # the ranges follow each other from the resumed end
    for (_, offset, count, _), (_, following, _, _) in itertools.pairwise(calls):
        assert offset + count == following
    for _, offset, count, size_then in calls:
        assert count >= hashing_sink.WRITEBACK_EVERY and offset + count <= size_then


def test_the_reader_does_not_wait_while_a_resumed_prefix_is_hashed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hashing gigabytes already on disk takes seconds: the transfer goes on meanwhile, and
    the blocks no buffer was free for are read back from the file."""
    hash_may_go = threading.Event()
    real = HashingWriter._hash_from_file

    def held_back(self: HashingWriter, stream: object, count: int) -> None:
        hash_may_go.wait(HANG_GUARD_S)  # the prefix hash, slow as a large file's
        real(self, stream, count)

    monkeypatch.setattr(HashingWriter, "_hash_from_file", held_back)
    prefix, step = 100_000, 64 * 1024
    data = os.urandom(prefix + (3 * hashing_sink.DEPTH + 5) * step)
    path = tmp_path / "blob.incomplete"
    path.write_bytes(data[:prefix])
    writer = HashingWriter(path, prefix_bytes=prefix)
    feeder = threading.Thread(target=_feed, args=(writer, data[prefix:], step))
    feeder.start()
    try:
        feeder.join(HANG_GUARD_S)
        assert not feeder.is_alive(), "the reader waited for the prefix's hash"
        assert path.read_bytes() == data
    finally:
        hash_may_go.set()
        feeder.join()
    assert writer.finish() == hashlib.sha256(data).hexdigest()
    assert writer.buffers_made == hashing_sink.DEPTH


def test_close_abandons_the_hash_of_a_resumed_prefix(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pause right after resuming a large partial must not wait until it is hashed."""
    hashing, hash_may_go = threading.Event(), threading.Event()
    real = HashingWriter._hash_from_file

    def held_back(self: HashingWriter, stream: object, count: int) -> None:
        hashing.set()
        hash_may_go.wait(HANG_GUARD_S)
        real(self, stream, count)

    monkeypatch.setattr(HashingWriter, "_hash_from_file", held_back)
    path = tmp_path / "blob.incomplete"
    path.write_bytes(os.urandom(3 * hashing_sink._HASH_CHUNK))
    writer = HashingWriter(path, prefix_bytes=path.stat().st_size)
    assert hashing.wait(HANG_GUARD_S)
    closing = threading.Thread(target=writer.close)
    closing.start()
    assert writer._abandoned.wait(HANG_GUARD_S)  # close() has begun: let the hash go on
    hash_may_go.set()
    closing.join(HANG_GUARD_S)
    assert not closing.is_alive()
    assert writer.digest.hexdigest() == hashlib.sha256().hexdigest()  # none of it hashed
    assert path.stat().st_size == 3 * hashing_sink._HASH_CHUNK  # the partial is kept
