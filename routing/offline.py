"""Offline mode: while it is on, this process cannot reach anything but loopback.

It is enforced below every library, by a Python audit hook (``sys.addaudithook``, PEP 578):
CPython raises an audit event inside the C socket module before every connect, datagram
send and name lookup, whichever Python object made the call (``socket.socket``, the bare
``_socket.socket``, asyncio, an SDK's own transport), and a hook that raises aborts that call.
So a misbehaving library is refused like our own code. A lookup is refused before it is
made (a DNS query is traffic); a connection or datagram is allowed only to a loopback
address or a local (AF_UNIX) socket.

What it cannot see: native code that opens sockets without Python (none of our engines do),
and other processes (the user's plugins, programs we do not start). Audit hooks cannot be
removed, so the hook is installed once, on first enable, and ``disable`` only stops it
from refusing.

Every refusal is also handed to the listeners registered with ``on_refusal`` (the app writes
it to the audit log), once per target per process, so a library that retries in a loop
leaves one row, not thousands.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

# Names that resolve from the hosts file to loopback on every system we support. Anything
# else (also *.localhost, which glibc sends to DNS) must be an address literal.
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_LOCAL_FAMILIES = {getattr(socket, "AF_UNIX", None), getattr(socket, "AF_NETLINK", None)} - {None}
_INTERNET_FAMILIES = {socket.AF_INET, socket.AF_INET6}

_lock = threading.Lock()
_hook_installed = False
_enabled = False
_listeners: list[Callable[[str], None]] = []
_reported: set[str] = set()
_in_listener = threading.local()


class OfflineError(ConnectionRefusedError):
    """A connection attempt refused because offline mode is on."""

    def __init__(self, target: str) -> None:
        super().__init__(f"Offline mode is on: Stillroom refused to contact {target}. "
                         f"Turn offline mode off to use the network.")
        self.target = target


def is_local(host: object) -> bool:
    """True for loopback address literals and the standard loopback names."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", errors="replace")
    text = str(host).strip("[]").split("%", 1)[0].lower()
    if text in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def _check_address(sock: Any, address: object) -> None:
    family = getattr(sock, "family", None)
    if family in _LOCAL_FAMILIES or address is None:
        return
    if family in _INTERNET_FAMILIES and isinstance(address, tuple) and address:
        if is_local(address[0]):
            return
        port = f":{address[1]}" if len(address) > 1 else ""
        _refuse(f"{address[0]}{port}")
    # A raw or packet socket, or an address we cannot read: not loopback.
    _refuse(repr(address))


def _host_text(host: object) -> str:
    return host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)


def _is_address_literal(host: object) -> bool:
    try:
        ipaddress.ip_address(_host_text(host).strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def _check_lookup(host: object) -> None:
    """A forward lookup: an address literal resolves without traffic (the connect that
    follows is checked); a name other than loopback's would ask DNS."""
    if not is_local(host) and not _is_address_literal(host):
        _refuse(_host_text(host))


def _check_reverse(address: object) -> None:
    """A reverse lookup asks DNS about any address but loopback."""
    host = address[0] if isinstance(address, tuple) and address else address
    if not is_local(host):
        _refuse(_host_text(host))


# The socket module's audit events (CPython's documented audit events table) and the
# check each gets; every other event passes untouched.
_CHECKS: dict[str, Callable[[tuple[Any, ...]], None]] = {
    "socket.connect": lambda args: _check_address(args[0], args[1]),
    "socket.sendto": lambda args: _check_address(args[0], args[1]),
    "socket.sendmsg": lambda args: _check_address(args[0], args[1]),
    "socket.getaddrinfo": lambda args: _check_lookup(args[0]),
    "socket.gethostbyname": lambda args: _check_lookup(args[0]),
    "socket.gethostbyaddr": lambda args: _check_reverse(args[0]),
    "socket.getnameinfo": lambda args: _check_reverse(args[0]),
}


def _audit_hook(event: str, args: tuple[Any, ...]) -> None:
    # Runs for every audit event of the process (imports, opens, ctypes calls): the two
    # cheapest tests come first.
    if not _enabled or not event.startswith("socket."):
        return
    check = _CHECKS.get(event)
    if check is not None:
        check(args)


def _refuse(target: str) -> None:
    _tell_listeners(target)
    raise OfflineError(target)


def _tell_listeners(target: str) -> None:
    if getattr(_in_listener, "active", False):
        return  # a listener's own work was refused: never recurse into it
    with _lock:
        if target in _reported or not _listeners:
            return
        _reported.add(target)
        listeners = list(_listeners)
    _in_listener.active = True
    try:
        for listener in listeners:
            # Recording must never unblock the call it records.
            with contextlib.suppress(Exception):
                listener(target)
    finally:
        _in_listener.active = False


def on_refusal(listener: Callable[[str], None]) -> Callable[[], None]:
    """Call ``listener(target)`` on the first refusal of each target; returns an
    unsubscribe function. Listeners run on the thread that was refused."""
    with _lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def _refusing_names(method: Callable[..., Any]) -> Callable[..., Any]:
    """socket.socket's connect/sendto resolve a host name inside C *before* the audit event
    (CPython's getsockaddrarg), so a name would reach DNS first. Python's socket class is
    checked here, before that; the bare _socket type cannot be wrapped (see the README)."""

    def checked(self: socket.socket, *args: Any) -> Any:
        if _enabled and args and self.family in _INTERNET_FAMILIES:
            address = args[-1]
            if isinstance(address, tuple) and address and not _is_address_literal(address[0]):
                _check_address(self, address)
        return method(self, *args)

    checked.__wrapped__ = method  # type: ignore[attr-defined]
    return checked


def enable() -> None:
    global _enabled, _hook_installed
    with _lock:
        if not _hook_installed:
            sys.addaudithook(_audit_hook)
            for name in ("connect", "connect_ex", "sendto"):
                setattr(socket.socket, name, _refusing_names(getattr(socket.socket, name)))
            _hook_installed = True
        _enabled = True


def disable() -> None:
    global _enabled
    with _lock:
        _enabled = False
        _reported.clear()


def is_enabled() -> bool:
    return _enabled
