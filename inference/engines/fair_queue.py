"""Who waits, how many may wait, and who goes next when a sequence slot frees up.

`WaitLimits` is checked on the caller's thread when a request arrives: a full queue
refuses at once (EngineBusyError) instead of growing. `FairQueue` lives on the model's owner
thread: each owner (a user, the desktop chat) has its own line, and the next request comes
from the owner holding the fewest running sequences, the longest-unserved owner first on a
tie. So one owner with twenty requests queued cannot starve another's single request: the
other owner holds no sequence, so it goes first.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from itertools import count
from typing import Generic, TypeVar

from inference.engines.types import EngineBusyError

T = TypeVar("T")


class WaitLimits:
    """Counts requests waiting for a slot, overall and per owner; thread-safe."""

    def __init__(self, max_waiting: int, max_waiting_per_owner: int | None) -> None:
        self.max_waiting = max_waiting
        self.max_waiting_per_owner = max_waiting_per_owner
        self._lock = threading.Lock()
        self._total = 0
        self._by_owner: dict[str, int] = {}

    @property
    def waiting(self) -> int:
        return self._total

    def reserve(self, owner: str) -> None:
        """Count one more waiting request for `owner`, or raise EngineBusyError."""
        with self._lock:
            mine = self._by_owner.get(owner, 0)
            if self._total >= self.max_waiting:
                raise EngineBusyError(
                    f"The model is busy: {self._total} requests are already waiting (the "
                    f"limit is {self.max_waiting}). Try again in a moment.",
                    waiting=self._total,
                )
            if self.max_waiting_per_owner is not None and mine >= self.max_waiting_per_owner:
                raise EngineBusyError(
                    f"You already have {mine} requests waiting for the model (the limit is "
                    f"{self.max_waiting_per_owner} each). Wait for one to finish.",
                    waiting=self._total,
                )
            self._total += 1
            self._by_owner[owner] = mine + 1

    def release(self, owner: str) -> None:
        with self._lock:
            self._total -= 1
            left = self._by_owner[owner] - 1
            if left:
                self._by_owner[owner] = left
            else:
                del self._by_owner[owner]


class FairQueue(Generic[T]):
    """Per-owner lines of waiting items; not thread-safe (the owner thread's alone)."""

    def __init__(self) -> None:
        self._lines: dict[str, deque[T]] = {}
        self._last_served: dict[str, int] = {}
        self._clock = count()
        # Every owner that ever asked. The per-owner cap keeps a slot open for someone else;
        # while only one owner has ever asked (a server without users, a lone job) there is
        # nobody to keep it for, and the cap would only leave a slot idle.
        self._owners: set[str] = set()

    def __len__(self) -> int:
        return sum(len(line) for line in self._lines.values())

    def __iter__(self) -> Iterator[T]:
        for line in self._lines.values():
            yield from line

    def put(self, owner: str, item: T) -> None:
        self._owners.add(owner)
        self._lines.setdefault(owner, deque()).append(item)

    def pop_next(self, running: Mapping[str, int],
                 cap: int | None = None) -> tuple[str, T] | None:
        """The next item to admit: from the owner with the fewest `running` sequences,
        then the one served longest ago (never-served owners first). Owners already
        running `cap` sequences wait, once more than one owner has asked."""
        if len(self._owners) < 2:
            cap = None
        owners = [o for o in self._lines if cap is None or running.get(o, 0) < cap]
        if not owners:
            return None
        owner = min(owners, key=lambda o: (running.get(o, 0), self._last_served.get(o, -1)))
        line = self._lines[owner]
        item = line.popleft()
        if not line:
            del self._lines[owner]
        self._last_served[owner] = next(self._clock)
        return owner, item

    def remove_if(self, drop: Callable[[T], bool]) -> list[tuple[str, T]]:
        """Take out (and return) every waiting item `drop` says to; order kept otherwise."""
        removed: list[tuple[str, T]] = []
        for owner in list(self._lines):
            kept: deque[T] = deque()
            for item in self._lines[owner]:
                if drop(item):
                    removed.append((owner, item))
                else:
                    kept.append(item)
            if kept:
                self._lines[owner] = kept
            else:
                del self._lines[owner]
        return removed
