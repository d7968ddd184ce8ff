"""Who may ask how much: the per-user quotas (tokens per day, requests per minute, cloud
budget per month) and the slow-down for addresses that keep sending bad keys.

Tokens and money come from the ledger (the usage rows that name the user), so they hold
across restarts and agree with `stillroom users usage`; the per-minute count is kept in
memory (a restart forgets at most a minute)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta

from app.server.errors import ApiError
from app.store.server_users import OfficeUser, UserStore

# After this many bad keys from one address within the window, every request from it is
# answered 429 until the window passes; before that, each bad key is answered more slowly.
FAILED_AUTH_LIMIT = 10
FAILED_AUTH_WINDOW_S = 300.0
FAILED_AUTH_DELAY_STEP_S = 0.1
FAILED_AUTH_DELAY_MAX_S = 2.0
# Addresses remembered before the quiet ones are forgotten (bounds the memory a scan of many
# addresses can take).
_TRACKED_ADDRESSES = 10_000


class FailedAuthThrottle:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str, now: float) -> deque[float]:
        if len(self._failures) > _TRACKED_ADDRESSES:  # forget addresses that went quiet
            self._failures = {where: times for where, times in self._failures.items()
                              if times and now - times[-1] <= FAILED_AUTH_WINDOW_S}
        failures = self._failures.setdefault(address, deque())
        while failures and now - failures[0] > FAILED_AUTH_WINDOW_S:
            failures.popleft()
        return failures

    def check(self, address: str) -> None:
        """Raise 429 while the address is locked out."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(address, now)
            if len(failures) >= FAILED_AUTH_LIMIT:
                wait = FAILED_AUTH_WINDOW_S - (now - failures[0])
                raise ApiError(429, "Too many requests with a wrong API key from this "
                                    "address; wait, then use the key `stillroom users add` "
                                    "or `users rotate` printed.",
                               code="too_many_failed_keys", retry_after_s=math.ceil(wait))

    def failed(self, address: str) -> float:
        """Record a bad key; how long to wait before answering it (seconds)."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(address, now)
            failures.append(now)
            return min(FAILED_AUTH_DELAY_STEP_S * len(failures), FAILED_AUTH_DELAY_MAX_S)


class QuotaGate:
    def __init__(self, users: UserStore) -> None:
        self._users = users
        self._lock = threading.Lock()
        self._recent: dict[str, deque[float]] = {}

    def admit(self, user: OfficeUser) -> None:
        """Raise 429 with Retry-After when this request would exceed a limit; else count it."""
        limits = user.limits
        now = datetime.now(UTC)
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if limits.tokens_per_day is not None:
            used = self._users.usage(user.name, day).tokens
            if used >= limits.tokens_per_day:
                raise ApiError(429, f"{user.name} used {used} of {limits.tokens_per_day} "
                                    f"tokens today (UTC); the quota renews at midnight UTC.",
                               code="tokens_per_day",
                               retry_after_s=_seconds_until(day + timedelta(days=1), now))
        if limits.budget_usd_month is not None:
            month = day.replace(day=1)
            spent = self._users.usage(user.name, month).cloud_usd
            if spent >= limits.budget_usd_month:
                next_month = (month + timedelta(days=32)).replace(day=1)
                raise ApiError(429, f"{user.name} spent ${spent} of the ${limits.budget_usd_month}"
                                    f" monthly cloud budget; it renews on the 1st (UTC).",
                               code="budget_usd_month",
                               retry_after_s=_seconds_until(next_month, now))
        if limits.requests_per_minute is not None:
            self._count_request(user.name, limits.requests_per_minute)

    def _count_request(self, name: str, per_minute: int) -> None:
        now = time.monotonic()
        with self._lock:
            recent = self._recent.setdefault(name, deque())
            while recent and now - recent[0] >= 60.0:
                recent.popleft()
            if len(recent) >= per_minute:
                raise ApiError(429, f"{name} may send {per_minute} requests a minute; wait "
                                    f"and retry.", code="requests_per_minute",
                               retry_after_s=math.ceil(60.0 - (now - recent[0])))
            recent.append(now)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return math.ceil((moment - now).total_seconds())
