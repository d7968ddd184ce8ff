"""Offline mode: while it is on, this process cannot reach anything but loopback.

It is enforced at the socket layer for the whole process, not by asking each feature to
behave: every Python-level connect, datagram send and name lookup goes through the guard,
so a misbehaving library (an SDK's telemetry, a hub client) is refused like our own code.
Native code that opens sockets itself (none of our engines do) is outside its reach.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable
from typing import Any

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_lock = threading.Lock()
_originals: dict[str, Callable[..., Any]] = {}


class OfflineError(ConnectionRefusedError):
    """A connection attempt refused because offline mode is on."""

    def __init__(self, target: str) -> None:
        super().__init__(f"Offline mode is on: Stillroom refused to contact {target}. "
                         f"Turn offline mode off to use the network.")


def is_local(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", errors="replace")
    text = str(host).strip("[]").split("%", 1)[0].lower()
    if text in _LOCAL_NAMES or text.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def _target_of(address: object) -> tuple[bool, str]:
    if isinstance(address, (str, bytes)):  # AF_UNIX path: never leaves the machine
        return True, "a local socket"
    if isinstance(address, tuple) and address:
        return is_local(address[0]), f"{address[0]}:{address[1] if len(address) > 1 else ''}"
    return False, repr(address)


def _guard_address(original: Callable[..., Any], position: int) -> Callable[..., Any]:
    def guarded(self: socket.socket, *args: Any, **kwargs: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and len(args) > position:
            local, target = _target_of(args[position])
            if not local:
                raise OfflineError(target)
        return original(self, *args, **kwargs)

    guarded.__wrapped__ = original  # type: ignore[attr-defined]
    return guarded


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not is_local(host):
        raise OfflineError(str(host))  # refusing the lookup keeps the name off the network
    return _originals["getaddrinfo"](host, *args, **kwargs)


def enable() -> None:
    with _lock:
        if _originals:
            return
        _originals["connect"] = socket.socket.connect
        _originals["connect_ex"] = socket.socket.connect_ex
        _originals["sendto"] = socket.socket.sendto
        _originals["getaddrinfo"] = socket.getaddrinfo
        socket.socket.connect = _guard_address(_originals["connect"], 0)  # type: ignore[method-assign]
        socket.socket.connect_ex = _guard_address(_originals["connect_ex"], 0)  # type: ignore[method-assign]
        # sendto(data, address) or sendto(data, flags, address): the address is last.
        socket.socket.sendto = _guard_sendto(_originals["sendto"])  # type: ignore[method-assign]
        socket.getaddrinfo = _guarded_getaddrinfo


def _guard_sendto(original: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(self: socket.socket, *args: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and args:
            local, target = _target_of(args[-1])
            if not local:
                raise OfflineError(target)
        return original(self, *args)

    return guarded


def disable() -> None:
    with _lock:
        if not _originals:
            return
        socket.socket.connect = _originals.pop("connect")  # type: ignore[method-assign]
        socket.socket.connect_ex = _originals.pop("connect_ex")  # type: ignore[method-assign]
        socket.socket.sendto = _originals.pop("sendto")  # type: ignore[method-assign]
        socket.getaddrinfo = _originals.pop("getaddrinfo")


def is_enabled() -> bool:
    return bool(_originals)
