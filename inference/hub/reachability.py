"""Is the Hub reachable at all? Asked once, within about a second, before a Hub command.

Without it a machine with no network (or offline mode on) meets huggingface-hub's retry
loop: about 24 s and a retry line per attempt before the one error that matters. Here one
name lookup and one TCP connect, each on the clock, tell "no DNS", "no route" and "offline
mode refused it" apart in one line.
"""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlparse

from inference.hub.transfer import HubError, endpoint

DEFAULT_TIMEOUT_S = 1.0


class HubUnreachableError(HubError):
    """The Hub cannot be reached from here; the message says why in one line."""


def require_hub_reachable(timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
    """Return when a TCP connection to the Hub's endpoint opens; raise HubUnreachableError
    naming the host and the cause (offline mode, DNS, routing) otherwise."""
    url = urlparse(endpoint())
    host = url.hostname or ""
    port = url.port or (443 if url.scheme == "https" else 80)
    deadline = time.monotonic() + timeout_s
    addresses = _resolve(host, port, timeout_s)
    last_error: OSError | None = None
    for family, kind, proto, _name, address in addresses:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            with socket.socket(family, kind, proto) as probe:
                probe.settimeout(left)
                probe.connect(address)
            return
        except OSError as exc:
            _raise_if_refused_in_process(exc)
            last_error = exc
    reason = _reason(last_error) if last_error else f"no answer within {timeout_s:g} s"
    raise HubUnreachableError(f"cannot reach the Hub at {host}:{port} ({reason}); check the "
                              f"network connection, or set HF_ENDPOINT to a mirror.")


def _resolve(host: str, port: int, timeout_s: float) -> list[tuple]:
    """getaddrinfo on a helper thread, so a resolver that never answers costs timeout_s."""
    outcome: list[object] = []

    def lookup() -> None:
        try:
            outcome.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=lookup, name="hub-dns", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if not outcome:
        raise HubUnreachableError(f"cannot reach the Hub at {host} (DNS: no answer within "
                                  f"{timeout_s:g} s); check the network connection.")
    result = outcome[0]
    if isinstance(result, OSError):
        _raise_if_refused_in_process(result)
        raise HubUnreachableError(f"cannot reach the Hub at {host} (DNS: {_reason(result)}); "
                                  f"check the network connection, or set HF_ENDPOINT to a "
                                  f"mirror.")
    return result  # type: ignore[return-value]


def _raise_if_refused_in_process(error: OSError) -> None:
    """An OSError with no errno did not come from the kernel: something in this process
    refused the call before it was made (offline mode's guard), and its message says why."""
    if error.errno is None and str(error):
        raise HubUnreachableError(str(error)) from None


def _reason(error: OSError) -> str:
    if isinstance(error, TimeoutError | socket.timeout):
        return "no answer"
    return (error.strerror or str(error) or type(error).__name__).rstrip(".").lower()
