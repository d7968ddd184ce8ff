"""Who may ask how much: the per-user quotas (tokens per day, requests per minute, cloud
budget per month) and the slow-down for addresses that keep sending bad keys.

Tokens and money come from the ledger (the usage rows that name the user), so they hold
across restarts and agree with `stillroom users usage`. Tokens per day are also held for
answers in flight (app/store/quota_holds.py): a request is admitted only if the most it can
use fits beside what is used and held, so concurrent requests, from one box or several
sharing a PostgreSQL, never overspend the quota together. Requests per minute are counted
in the database too, so they hold across boxes and restarts."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta

from app.server.answering import AnswerRequest
from app.server.errors import ApiError
from app.store.quota_holds import QuotaExceededError, TokenHolds
from app.store.server_users import OfficeUser, UserStore

# After this many bad keys from one address within the window, every request from it is
# answered 429 until the window passes; before that, each bad key is answered more slowly.
FAILED_AUTH_LIMIT = 10
FAILED_AUTH_WINDOW_S = 300.0
FAILED_AUTH_DELAY_STEP_S = 0.1
FAILED_AUTH_DELAY_MAX_S = 2.0
# The most tokens a chat template adds around each message (role markers, separators) and
# once per prompt (a default system prompt such as SmolLM2's, the assistant's opening),
# generous for the templates in use. With byte-level tokenizers a token covers at least one
# byte, so the prompt's UTF-8 length plus these bounds its token count from above.
TEMPLATE_TOKENS_PER_MESSAGE = 16
TEMPLATE_TOKENS_PER_PROMPT = 128


def most_tokens(request: AnswerRequest, *, system_prompt: str | None) -> int:
    """An upper bound on the tokens this request's answer can be billed (prompt + answer);
    `request.max_tokens` must be set (the answer is capped to it) and `system_prompt` is
    what the turn adds when the request has none."""
    if request.max_tokens is None:
        raise ValueError("most_tokens needs the answer's cap: set request.max_tokens")
    system = request.system_prompt if request.system_prompt is not None else system_prompt
    texts = [system or "", *(message.content for message in request.earlier), request.prompt]
    prompt = sum(len(text.encode("utf-8")) for text in texts)
    return (prompt + TEMPLATE_TOKENS_PER_MESSAGE * len(texts) + TEMPLATE_TOKENS_PER_PROMPT
            + request.max_tokens)


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
    def __init__(self, users: UserStore, *, system_prompt: str | None = None) -> None:
        self._users = users
        self._holds = TokenHolds(users.engine)
        self._system_prompt = system_prompt  # the turn's default, counted in the bound

    def admit(self, user: OfficeUser, request: AnswerRequest) -> int | None:
        """Raise 429 with Retry-After when this request would exceed a limit; else count it,
        and hold the most tokens it can use: the hold's id (give it to ``release`` once the
        answer is written), None when the user has no tokens per day."""
        limits = user.limits
        now = datetime.now(UTC)
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if limits.budget_usd_month is not None:
            month = day.replace(day=1)
            spent = self._users.usage(user.name, month).cloud_usd
            if spent >= limits.budget_usd_month:
                next_month = (month + timedelta(days=32)).replace(day=1)
                raise ApiError(429, f"{user.name} spent ${spent} of the ${limits.budget_usd_month}"
                                    f" monthly cloud budget; it renews on the 1st (UTC).",
                               code="budget_usd_month",
                               retry_after_s=_seconds_until(next_month, now))
        hold = self._hold_tokens(user, request, day, now)
        if limits.requests_per_minute is not None:
            try:
                self._count_request(user.name, limits.requests_per_minute)
            except ApiError:
                self.release(hold)
                raise
        return hold

    def _hold_tokens(self, user: OfficeUser, request: AnswerRequest, day: datetime,
                     now: datetime) -> int | None:
        limits = user.limits
        if limits.tokens_per_day is None:
            return None
        asked = most_tokens(request, system_prompt=self._system_prompt)
        try:
            return self._holds.hold(user.name, asked, limit=limits.tokens_per_day, since=day,
                                    now=now)
        except QuotaExceededError as exc:
            left = max(exc.limit - exc.used - exc.held, 0)
            more = (f"; {exc.held} are held for answers in progress" if exc.held else "")
            raise ApiError(429, f"{user.name} used {exc.used} of {exc.limit} tokens today "
                                f"(UTC){more}; this request may use up to {asked} (its prompt "
                                f"and max_tokens) and {left} are left. Ask for fewer "
                                f"max_tokens, or wait: the quota renews at midnight UTC.",
                           code="tokens_per_day",
                           retry_after_s=_seconds_until(day + timedelta(days=1), now)
                           if not exc.held else 5) from None

    def release(self, hold: int | None) -> None:
        """The answer's usage row is written (or it never started): its hold goes."""
        if hold is not None:
            self._holds.release(hold)

    def _count_request(self, name: str, per_minute: int) -> None:
        wait = self._holds.count_request(name, per_minute)
        if wait is not None:
            raise ApiError(429, f"{name} may send {per_minute} requests a minute; wait "
                                f"and retry.", code="requests_per_minute",
                           retry_after_s=max(math.ceil(wait), 1))


def _seconds_until(moment: datetime, now: datetime) -> int:
    return math.ceil((moment - now).total_seconds())
