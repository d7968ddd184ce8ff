"""Write a stream to a file and SHA-256 it, off the thread that reads the network.

A download spends its time in three places: receiving, hashing (SHA-256 runs at about
1.8 GB/s on a core with SHA extensions) and writing. Done in turn on one thread they add
up. Here the reading thread receives into reused buffers (readinto: no allocation per
block) and writes them — the two cheap steps, in order, as a plain download does — and a
second thread hashes each buffer in order and gives it back for reuse. hashlib, file
writes and socket reads all release the GIL, so hashing overlaps the transfer when a core
is free for it (when none is, its CPU time adds to the download's: nothing can hide it).

The last fsync of a large file waits for all its dirty pages; on Linux the hashing thread
asks the kernel to start writing each hashed stretch back as it goes (sync_file_range, no
wait), so that fsync finds little left to do. That call can block for milliseconds while
the disk is busy, which is why the socket thread never makes it. Durability is unchanged:
finish() fsyncs before it returns.

A resumed download hashes the bytes already on disk first (SHA-256 is one sequence), which
takes a second or more for gigabytes. The reader does not wait for it: while the prefix is
being hashed and every buffer is queued, it fills a spare buffer of its own, writes it, and
leaves that stretch for the hash thread to read back from the file (the page cache).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import os
import queue
import sys
import threading
from pathlib import Path
from typing import BinaryIO

# 1 MiB buffers stay in the CPU cache between the socket copy, the write and the hash;
# 4 MiB ones measured slower here. Up to DEPTH of them let the reader run 8 MiB ahead of the
# hash; they are made as the reader gets ahead, so a hash that keeps up needs two or three.
BLOCK_BYTES = 1 << 20
DEPTH = 8
# Writeback is started every 4 MiB: the closing fsync then waits for about that much (16 MiB
# left a 98 MB download's fsync three times longer, see bench/download.py).
WRITEBACK_EVERY = 4 << 20
_HASH_CHUNK = 4 << 20


def _sync_file_range() -> object | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        function = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_SYNC_FILE_RANGE = _sync_file_range()
_SYNC_FILE_RANGE_WRITE = 2  # start writeback of dirty pages; do not wait


class _Abandoned(Exception):
    """close() was called: the digest will not be asked for."""


class HashingWriter:
    """Appends blocks to `path` (truncating it first when `truncate`) and hashes the whole
    file, including the `prefix_bytes` already there (hashed on the writer thread too,
    while the first blocks arrive).

    Use: `buf = w.buffer()`, fill it, `w.submit(buf, n)` (written now, hashed behind);
    then `finish()` (fsync, return the hex digest) or `close()` on failure (what was
    submitted is in the file, not fsynced).
    """

    def __init__(self, path: Path, *, prefix_bytes: int = 0, truncate: bool = False) -> None:
        self.path = path
        self.digest = hashlib.sha256()
        self._prefix = 0 if truncate else prefix_bytes
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if truncate else 0),
                           0o644)
        os.lseek(self._fd, 0, os.SEEK_END)
        self._hashed_to = self._prefix  # written and hashed up to here (the hash thread's)
        self._synced_to = self._prefix
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        self.buffers_made = 0  # the reader's alone: at most DEPTH
        self._spare: bytearray | None = None  # the reader's, while the prefix is hashed
        self._prefix_hashed = threading.Event()
        self._scratch = memoryview(bytearray(0))  # the hash thread's, to read the file back
        # (buffer, length), or (None, length): that stretch is read back from the file.
        self._work: queue.SimpleQueue[tuple[bytearray | None, int] | None] = \
            queue.SimpleQueue()
        self._error: BaseException | None = None
        self._abandoned = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)
        self._thread.start()

    def buffer(self) -> bytearray:
        """A free buffer to fill (waits while all DEPTH are queued: the hash sets the pace)."""
        self._raise_if_failed()
        try:
            return self._free.get_nowait()
        except queue.Empty:
            if self.buffers_made < DEPTH:
                self.buffers_made += 1
                return bytearray(BLOCK_BYTES)
            if not self._prefix_hashed.is_set():
                if self._spare is None:
                    self._spare = bytearray(BLOCK_BYTES)
                return self._spare
        return self._free.get()

    def submit(self, buffer: bytearray, length: int) -> None:
        self._raise_if_failed()
        spare = buffer is self._spare
        if length:
            self._write(memoryview(buffer)[:length])
            self._work.put((None, length) if spare else (buffer, length))
        elif not spare:
            self._free.put(buffer)

    def finish(self) -> str:
        """fsync, and return the SHA-256 of the whole file. The fsync runs while the hash
        thread finishes the last buffers: the two waits overlap instead of adding up."""
        try:
            os.fsync(self._fd)
        finally:
            self._stop()
            os.close(self._fd)
        self._raise_if_failed()
        return self.digest.hexdigest()

    def close(self) -> None:
        """After a failure or a stop: what was submitted is in the file (its length is
        where a resume continues); stop hashing and close it. A hash still reading a
        resumed prefix is abandoned within one chunk, so a pause does not wait for it."""
        self._abandoned.set()
        with contextlib.suppress(Exception):
            self._stop()
        os.close(self._fd)

    def _stop(self) -> None:
        if self._thread.is_alive():
            self._work.put(None)
            self._thread.join()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        stream = None  # the file, read back: the prefix, and blocks the reader did not queue
        try:
            if self._prefix:
                stream = self.path.open("rb")
                self._hash_from_file(stream, self._prefix)
            self._prefix_hashed.set()
            while (item := self._work.get()) is not None:
                buffer, length = item
                if buffer is None:
                    stream = stream or self.path.open("rb")
                    stream.seek(self._hashed_to)  # where this stretch starts: hashed in order
                    self._hash_from_file(stream, length)
                else:
                    self.digest.update(memoryview(buffer)[:length])
                    self._free.put(buffer)
                self._hashed_to += length
                if self._hashed_to - self._synced_to >= WRITEBACK_EVERY:
                    self._start_writeback()
        except BaseException as exc:  # handed to the reading thread
            self._error = exc
            self._prefix_hashed.set()
            # Keep the reader from waiting forever for a buffer.
            for _ in range(DEPTH):
                self._free.put(bytearray(0))
        finally:
            if stream is not None:
                stream.close()

    def _hash_from_file(self, stream: BinaryIO, count: int) -> None:
        if len(self._scratch) < min(_HASH_CHUNK, count):
            self._scratch = memoryview(bytearray(min(_HASH_CHUNK, max(count, BLOCK_BYTES))))
        buffer = self._scratch
        while count:
            if self._abandoned.is_set():
                raise _Abandoned
            read = stream.readinto(buffer[:min(len(buffer), count)])
            if not read:
                raise OSError(f"{self.path.name} shrank while being downloaded")
            self.digest.update(buffer[:read])
            count -= read

    def _write(self, view: memoryview) -> None:
        while view:
            view = view[os.write(self._fd, view):]

    def _start_writeback(self) -> None:
        """Every hashed byte was written first (submit writes, then queues the buffer)."""
        if _SYNC_FILE_RANGE is not None:  # advisory: a failure only leaves more for fsync
            _SYNC_FILE_RANGE(self._fd, self._synced_to, self._hashed_to - self._synced_to,
                             _SYNC_FILE_RANGE_WRITE)
        self._synced_to = self._hashed_to
