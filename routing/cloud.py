"""Streaming chat from any OpenAI-compatible endpoint (cloud or on-prem), over the `openai` SDK.

    for chunk in stream_chat(provider, "gpt-4o-mini", messages, api_key=key, cancel=event):
        show(chunk.text)             # text deltas; the last chunk has finish_reason and usage

What this module promises, and the chat path relies on:

- **Nothing sensitive leaves for the cloud.** Before any connection, every message going to a
  ``cloud``-tier provider is run through the sensitivity gate (with the user's terms); a hit
  raises ``CloudSensitiveContentError`` and nothing is sent. The router already keeps such
  text local; this is the second lock on the same door.
- **Classified, bounded failures.** Every failure is a ``CloudError`` whose ``kind`` is one of
  timeout, rate_limited, server_error, auth (a 401/403), no_key (none stored: nothing sent),
  stream_cut, connection, dns (the host name does not resolve), bad_request, offline,
  sensitive. Retryable ones are retried ``max_retries`` times with exponential backoff and
  jitter, never sooner than the server's Retry-After; once any text was yielded nothing is
  retried (the caller already showed it) and a cut is reported as ``CloudStreamCutError``.
- **Keys stay secret.** The key is passed per call and held only by the SDK client inside this
  call. Our exceptions carry no SDK exception (no request, no headers), server messages are
  scrubbed of the key, and nothing here logs.

The SDK is imported on first use, so importing routing costs nothing when no provider is used.
"""

from __future__ import annotations

import os
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from routing import offline
from routing.providers import Provider
from routing.sensitivity import scan

# The SDK refuses to start without a key and would otherwise read OPENAI_API_KEY from the
# environment, sending the user's OpenAI key to whatever server this provider is.
NO_KEY_PLACEHOLDER = "stillroom-no-key"
_SERVER_MESSAGE_LIMIT = 200
# Shapes of credentials a server might echo back in an error body.
_KEY_SHAPES = re.compile(r"(?:sk|pk|rk|gsk|xai)[-_][A-Za-z0-9_\-]{6,}|Bearer\s+\S+|AIza[\w\-]{20,}")


class HasRoleAndContent(Protocol):
    role: str
    content: str


Message = Mapping[str, str] | HasRoleAndContent


@dataclass(frozen=True, slots=True)
class CloudUsage:
    prompt_tokens: int
    completion_tokens: int
    cached_prompt_tokens: int = 0


@dataclass(frozen=True, slots=True)
class CloudChunk:
    """A text delta; the last chunk of an answer has ``finish_reason`` (and ``usage`` when the
    server reported it; servers that ignore ``stream_options`` leave it None)."""

    text: str
    finish_reason: str | None = None
    usage: CloudUsage | None = None
    attempts: int = 1  # requests this answer took, retries included


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff between attempts: base * 2^(attempt-1), capped, scaled by a random factor in
    [0.5, 1) so that many clients do not retry in step; never shorter than Retry-After."""

    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    # A server asking us to wait longer than this is treated as "not now": we give up and
    # let the caller fail over instead of leaving the user staring at nothing.
    max_retry_after_s: float = 30.0

    def delay(self, attempt: int, retry_after_s: float | None, rng: Callable[[], float]) -> float:
        backoff = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        jittered = backoff * (0.5 + rng() / 2)
        return max(jittered, retry_after_s or 0.0)


# ----------------------------------------------------------------------------- errors


class CloudError(Exception):
    """A provider request that failed; ``kind`` says how, the message says it for the user."""

    kind = "error"
    retryable = False

    def __init__(self, message: str, *, provider: str, status: int | None = None,
                 retry_after_s: float | None = None, attempts: int = 1,
                 partial_chars: int = 0, host: str | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.host = host  # the name that was looked up or connected to, where it matters
        self.status = status
        self.retry_after_s = retry_after_s
        self.attempts = attempts
        self.partial_chars = partial_chars  # text already yielded before the failure

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kind={self.kind!r}, provider={self.provider!r}, " \
               f"status={self.status!r}, attempts={self.attempts})"


class CloudTimeoutError(CloudError):
    kind, retryable = "timeout", True


class CloudRateLimitedError(CloudError):
    kind, retryable = "rate_limited", True


class CloudServerError(CloudError):
    kind, retryable = "server_error", True


class CloudConnectionError(CloudError):
    kind, retryable = "connection", True


class CloudDnsError(CloudConnectionError):
    """The provider's host name did not resolve: nothing was sent."""

    kind = "dns"


class CloudAuthError(CloudError):
    kind = "auth"  # a wrong key stays wrong: retrying only burns the rate limit


class CloudMissingKeyError(CloudAuthError):
    """No key is stored (or the keyring cannot be read): nothing was sent. Not a refusal by
    the provider, so failover text must not say the key was refused."""

    kind = "no_key"


class CloudBadRequestError(CloudError):
    kind = "bad_request"  # unknown model, context too long...: the same request fails again


class CloudStreamCutError(CloudError):
    kind = "stream_cut"  # text was shown already: a retry would show it twice


class CloudOfflineError(CloudError):
    kind = "offline"


class CloudSensitiveContentError(CloudError):
    """Refused before sending: sensitive text addressed to a cloud-tier provider."""

    kind = "sensitive"

    def __init__(self, provider: str, categories: Sequence[str]) -> None:
        super().__init__(f"Refused to send to {provider}: the conversation contains sensitive "
                         f"text ({', '.join(categories)}). Nothing was sent.", provider=provider)
        self.categories = tuple(categories)


# ----------------------------------------------------------------------------- helpers


def scrub(text: str, api_key: str | None) -> str:
    """Server text made safe to show: the key (and anything shaped like one) removed, short."""
    if api_key:
        text = text.replace(api_key, "[key]")
    text = _KEY_SHAPES.sub("[key]", text)
    text = " ".join(text.split())
    return text if len(text) <= _SERVER_MESSAGE_LIMIT else text[:_SERVER_MESSAGE_LIMIT] + "…"


def parse_retry_after(headers: Mapping[str, str] | None,
                      now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> float | None:
    """Seconds to wait from retry-after-ms, or Retry-After as seconds or an HTTP date."""
    if not headers:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now()).total_seconds())


def wire_messages(messages: Sequence[Message]) -> list[dict[str, str]]:
    """Dicts or objects with .role/.content (inference.engines.types.ChatMessage) as API
    messages."""
    wired = []
    for message in messages:
        if isinstance(message, Mapping):
            role, content = message["role"], message["content"]
        else:
            role, content = message.role, message.content
        wired.append({"role": str(role), "content": str(content)})
    return wired


def check_not_sensitive(provider: Provider, messages: Sequence[Mapping[str, str]],
                        custom_terms: Sequence[str] = ()) -> None:
    """Raise CloudSensitiveContentError if any message for a cloud provider is sensitive.

    The whole conversation is checked, not only the new message: history written before the
    user added a custom term, or a local answer quoting an identifier, counts too.
    """
    if provider.tier != "cloud":
        return
    categories: set[str] = set()
    for message in messages:
        categories.update(scan(message["content"], custom_terms=list(custom_terms)).categories)
    if categories:
        raise CloudSensitiveContentError(provider.name, sorted(categories))


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """True when `kind` is anywhere in the exception's chain (httpx and the SDK wrap the
    socket error that started it: the guard's OfflineError, a getaddrinfo gaierror)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _server_message(exc: Any, api_key: str | None) -> str:
    body = getattr(exc, "body", None)
    message = None
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, Mapping) else inner
    if not isinstance(message, str) or not message.strip():
        message = getattr(exc, "message", "") or ""
    return scrub(str(message), api_key)


def _asks_to_drop_stream_options(error: CloudError, message: str) -> bool:
    return error.kind == "bad_request" and ("stream_options" in message
                                            or "include_usage" in message)


def _classify(exc: BaseException, provider: Provider, api_key: str | None, *,
              attempts: int) -> tuple[CloudError, str]:
    """Our error for an SDK failure, plus the scrubbed server message (for the 400 fallback).

    Only names, status codes and scrubbed server text cross over: the SDK exception (which
    holds the request and its Authorization header) is never chained or kept.
    """
    import openai

    name = provider.name
    if _caused_by(exc, offline.OfflineError):
        return CloudOfflineError(f"Offline mode is on: {name} ({provider.host}) was not "
                                 f"contacted.", provider=name, attempts=attempts), ""
    if isinstance(exc, openai.APITimeoutError):
        return CloudTimeoutError(f"{name} did not answer in time.", provider=name,
                                 attempts=attempts), ""
    if isinstance(exc, openai.APIConnectionError) and _caused_by(exc, socket.gaierror):
        return CloudDnsError(f"Cannot reach {provider.host} (DNS: the name does not resolve).",
                             provider=name, attempts=attempts, host=provider.host), ""
    if isinstance(exc, openai.APIConnectionError):
        return CloudConnectionError(f"Could not connect to {name} ({provider.host}).",
                                    provider=name, attempts=attempts), ""
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        message = _server_message(exc, api_key)
        detail = f": {message.rstrip('.')}" if message else ""
        retry_after = parse_retry_after(exc.response.headers)
        if status == 429:
            error: CloudError = CloudRateLimitedError(
                f"{name} is rate-limiting requests (HTTP 429){detail}", provider=name,
                status=status, retry_after_s=retry_after, attempts=attempts)
        elif status in (401, 403):
            error = CloudAuthError(
                f"{name} refused the API key (HTTP {status}){detail}. Check it with "
                f"`stillroom keys set {provider.key_name or name}`.", provider=name,
                status=status, attempts=attempts)
        elif status == 408:
            error = CloudTimeoutError(f"{name} timed out the request (HTTP 408).",
                                      provider=name, status=status, attempts=attempts)
        elif status >= 500 or status == 409:
            error = CloudServerError(f"{name} had a server error (HTTP {status}){detail}",
                                     provider=name, status=status, retry_after_s=retry_after,
                                     attempts=attempts)
        else:
            error = CloudBadRequestError(f"{name} rejected the request (HTTP {status}){detail}",
                                         provider=name, status=status, attempts=attempts)
        return error, message
    if isinstance(exc, openai.APIError):  # an error event inside the stream
        message = _server_message(exc, api_key)
        return CloudServerError(f"{name} reported an error mid-stream: {message}",
                                provider=name, attempts=attempts), message
    return CloudServerError(f"{name} sent a response Stillroom could not read "
                            f"({type(exc).__name__}).", provider=name, attempts=attempts), ""


_http_client: Any = None
_http_client_lock = threading.Lock()


def _shared_http_client() -> Any:
    """One connection pool for every provider: building an HTTP client loads the system's CA
    certificates (~30 ms), too slow to pay on every message, and keep-alive connections make
    the next answer start sooner. Thread-safe; it holds no key (keys go per request)."""
    global _http_client
    with _http_client_lock:
        if _http_client is None or _http_client.is_closed:
            import openai

            _http_client = openai.DefaultHttpxClient()
        return _http_client


def _make_client(provider: Provider, api_key: str | None, timeout: float) -> Any:
    import openai

    client = openai.OpenAI(api_key=api_key or NO_KEY_PLACEHOLDER, base_url=provider.base_url,
                           timeout=timeout, max_retries=0,  # retries are ours: RetryPolicy
                           http_client=_shared_http_client())
    # The SDK also picks organisation, project and admin key up from OPENAI_* variables; those
    # belong to the user's OpenAI account and must not go to any other provider.
    for attribute in ("organization", "project", "admin_api_key"):
        if hasattr(client, attribute):
            setattr(client, attribute, None)
    # OPENAI_CUSTOM_HEADERS adds headers to every request, an Authorization header included
    # (it would replace the provider's key). These attributes are the SDK's own; a test
    # (test_ambient_openai_variables_reach_no_provider) notices if an upgrade renames them.
    if os.environ.get("OPENAI_CUSTOM_HEADERS"):
        if hasattr(client, "_custom_headers"):
            client._custom_headers = {}
        if hasattr(client, "_ambient_authorizations"):
            client._ambient_authorizations = frozenset()
    return client


def _usage_of(event: Any) -> CloudUsage | None:
    usage = getattr(event, "usage", None)
    if usage is None:
        return None
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) or 0
    return CloudUsage(prompt_tokens=int(usage.prompt_tokens or 0),
                      completion_tokens=int(usage.completion_tokens or 0),
                      cached_prompt_tokens=int(cached))


# ----------------------------------------------------------------------------- the client


def stream_chat(provider: Provider, model: str, messages: Sequence[Message], *,
                api_key: str | None, timeout: float = 60.0, max_retries: int = 2,
                cancel: threading.Event | None = None, temperature: float | None = None,
                max_tokens: int | None = None, custom_terms: Sequence[str] = (),
                retry: RetryPolicy | None = None, sleep: Callable[[float], None] | None = None,
                rng: Callable[[], float] = random.random,
                json_schema: Mapping[str, Any] | None = None) -> Iterator[CloudChunk]:
    """Stream one chat completion; see the module docstring for the guarantees.

    Checks run now, before the first ``next()``, and raise at once: a missing key for a
    provider that needs one (CloudAuthError), offline mode with a non-loopback provider
    (CloudOfflineError: what the process-wide socket guard would refuse anyway; the router's
    offline rule is stricter and keeps cloud-tier providers out even on loopback), sensitive
    text for a cloud provider (CloudSensitiveContentError).

    ``timeout`` bounds connecting and each wait for the next bytes (a stalled stream times
    out too). ``json_schema`` asks the provider for an answer following that schema
    (OpenAI's ``response_format``). ``cancel`` is checked between chunks and during backoff
    waits; a cancelled answer ends with a chunk whose finish_reason is "cancelled".
    ``sleep`` and ``rng`` are for tests (an injected sleep records the waits instead of
    waiting).
    """
    if not model or not model.strip():
        raise CloudBadRequestError(f"No model chosen for {provider.name}; add one with "
                                   f"`stillroom providers add {provider.name} --model ID`.",
                                   provider=provider.name)
    if provider.key_name and not api_key:
        raise CloudMissingKeyError(f"No API key stored for {provider.name}: run `stillroom "
                                   f"keys set {provider.key_name}`.", provider=provider.name)
    if offline.is_enabled() and not provider.is_loopback:
        raise CloudOfflineError(f"Offline mode is on: {provider.name} ({provider.host}) is not "
                                f"on this machine, so it was not contacted.",
                                provider=provider.name)
    wired = wire_messages(messages)
    check_not_sensitive(provider, wired, custom_terms)
    if max_retries < 0:
        raise ValueError("max_retries must be 0 or more")
    return _stream(provider, model.strip(), wired, api_key=api_key, timeout=timeout,
                   max_retries=max_retries, cancel=cancel, temperature=temperature,
                   max_tokens=max_tokens, retry=retry or RetryPolicy(), sleep=sleep, rng=rng,
                   json_schema=json_schema)


def _wait(delay: float, cancel: threading.Event | None,
          sleep: Callable[[float], None] | None) -> bool:
    """Wait before a retry; False when cancelled meanwhile."""
    if sleep is not None:
        sleep(delay)
    elif cancel is not None:
        cancel.wait(delay)
    else:
        time.sleep(delay)
    return not (cancel is not None and cancel.is_set())


def _stream(provider: Provider, model: str, messages: list[dict[str, str]], *,
            api_key: str | None, timeout: float, max_retries: int,
            cancel: threading.Event | None, temperature: float | None, max_tokens: int | None,
            retry: RetryPolicy, sleep: Callable[[float], None] | None,
            rng: Callable[[], float],
            json_schema: Mapping[str, Any] | None = None) -> Iterator[CloudChunk]:
    # Not closed afterwards: closing it would close the shared connection pool. Each
    # response is closed as soon as its stream ends.
    client = _make_client(provider, api_key, timeout)
    include_usage = True
    attempt = 0
    while True:
        attempt += 1
        if cancel is not None and cancel.is_set():
            yield CloudChunk("", "cancelled", None, attempt - 1)
            return
        yielded_chars = 0
        failure: CloudError | None = None
        server_message = ""
        params: dict[str, Any] = {"model": model, "messages": messages, "stream": True}
        if include_usage:
            params["stream_options"] = {"include_usage": True}
        if temperature is not None:
            params["temperature"] = temperature
        if max_tokens is not None:
            params["max_tokens"] = max_tokens
        if json_schema is not None:
            params["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "answer", "schema": dict(json_schema)}}
        finish: str | None = None
        usage: CloudUsage | None = None
        stream = None
        try:
            stream = client.chat.completions.create(**params)
            for event in stream:
                if cancel is not None and cancel.is_set():
                    stream.close()
                    yield CloudChunk("", "cancelled", usage, attempt)
                    return
                usage = _usage_of(event) or usage
                for choice in getattr(event, "choices", None) or ():
                    text = getattr(choice.delta, "content", None) if choice.delta else None
                    if text:
                        yielded_chars += len(text)
                        yield CloudChunk(text, None, None, attempt)
                    if choice.finish_reason:
                        finish = choice.finish_reason
        except Exception as exc:  # classified below; never re-raised as it is
            if finish is not None:
                # Broken after the last token (while waiting for usage or [DONE]): the
                # answer is whole, only its token counts are missing.
                failure = None
            else:
                failure, server_message = _classify(exc, provider, api_key,
                                                    attempts=attempt)
        finally:
            if stream is not None:
                stream.close()
        how = failure.kind.replace("_", " ") if failure else "the stream ended early"
        if failure is None and finish is None:
            failure = CloudServerError(f"{provider.name} ended the answer without saying "
                                       f"it was finished.", provider=provider.name,
                                       attempts=attempt)
        if failure is None:
            yield CloudChunk("", finish, usage, attempt)
            return
        if yielded_chars:
            # Raised outside the except block so that no SDK exception rides along as
            # __context__ (it holds the request, Authorization header included).
            raise CloudStreamCutError(
                f"{provider.name} stopped mid-answer ({how}) after {yielded_chars} "
                f"characters; the partial answer was kept.",
                provider=provider.name, status=failure.status, attempts=attempt,
                partial_chars=yielded_chars)
        if include_usage and _asks_to_drop_stream_options(failure, server_message):
            include_usage = False  # an older server: ask again, plainly, without waiting
            attempt -= 1
            continue
        too_long = (failure.retry_after_s is not None
                    and failure.retry_after_s > retry.max_retry_after_s)
        if not failure.retryable or attempt > max_retries or too_long:
            raise failure
        if not _wait(retry.delay(attempt, failure.retry_after_s, rng), cancel, sleep):
            yield CloudChunk("", "cancelled", None, attempt)
            return
