"""Offline mode refuses every non-loopback connection in the process, and only those."""

import http.server
import socket
import subprocess
import sys
import textwrap
import threading
import urllib.request

import pytest

from routing import offline
from tests.conftest import requires_unshare


@pytest.fixture
def offline_mode():
    offline.enable()
    yield
    offline.disable()


@pytest.mark.parametrize(("host", "local"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("localhost", True),
    ("[::1]", True), ("api.openai.com", False), ("10.0.0.5", False), ("8.8.8.8", False),
    ("localhost.evil.com", False),
])
def test_what_counts_as_local(host: str, local: bool) -> None:
    assert offline.is_local(host) is local


def test_loopback_still_works_offline(offline_mode) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/", timeout=30) as r:
            assert r.status == 200
    finally:
        server.server_close()


def test_disable_lets_connections_through_again() -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    offline.enable()
    offline.disable()
    assert not offline.is_enabled()
    # After disable nothing is refused, even an address the guard would refuse (the
    # connection itself fails in this sandbox or succeeds; it is not OfflineError).
    try:
        socket.create_connection(("203.0.113.7", 9), timeout=0.01).close()
    except offline.OfflineError:
        pytest.fail("disable() left the guard refusing")
    except OSError:
        pass
    finally:
        server.server_close()


def test_each_refused_target_is_reported_once(offline_mode) -> None:
    seen: list[str] = []
    unsubscribe = offline.on_refusal(seen.append)
    try:
        for _ in range(3):
            with pytest.raises(offline.OfflineError):
                socket.getaddrinfo("telemetry.example.com", 443)
        with pytest.raises(offline.OfflineError):
            socket.create_connection(("192.0.2.1", 443), timeout=5)
    finally:
        unsubscribe()
    assert seen == ["telemetry.example.com", "192.0.2.1:443"]


def test_a_listener_that_fails_does_not_unblock_the_call(offline_mode) -> None:
    def broken(_target: str) -> None:
        raise RuntimeError("the audit log is gone")

    unsubscribe = offline.on_refusal(broken)
    try:
        with pytest.raises(offline.OfflineError):
            socket.gethostbyname("api.example.net")
    finally:
        unsubscribe()


# The refusal tests run in a network namespace with no interfaces, so that even a broken
# guard could not send a packet anywhere: the test tells our refusal (OfflineError) apart
# from the namespace's (a plain OSError).
PROBE = textwrap.dedent("""
    import socket, urllib.request, urllib.error
    from routing import offline
    offline.enable()
    results = []
    def attempt(name, call):
        try:
            call()
            results.append(f"{name}:connected")
        except offline.OfflineError:
            results.append(f"{name}:refused")
        except OSError as exc:
            results.append(f"{name}:oserror")
    attempt("tcp", lambda: socket.create_connection(("203.0.113.7", 443), timeout=5))
    attempt("dns", lambda: socket.getaddrinfo("api.openai.com", 443))
    def udp():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"x", ("198.51.100.9", 53))
    attempt("udp", udp)
    def http():
        try:
            urllib.request.urlopen("https://api.openai.com/v1/models", timeout=5)
        except urllib.error.URLError as exc:
            raise exc.reason
    attempt("http", http)
    import _socket
    def bare_socket():
        raw = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
        raw.settimeout(5)
        raw.connect(("203.0.113.8", 80))
    attempt("bare_socket", bare_socket)
    attempt("connect_ex", lambda: socket.socket().connect_ex(("203.0.113.9", 80)))
    attempt("gethostbyname", lambda: socket.gethostbyname("example.org"))
    attempt("gethostbyname_ex", lambda: socket.gethostbyname_ex("example.org"))
    attempt("gethostbyaddr", lambda: socket.gethostbyaddr("8.8.8.8"))
    attempt("getnameinfo", lambda: socket.getnameinfo(("8.8.4.4", 53), 0))
    def sendmsg():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendmsg([b"x"], [], 0, ("198.51.100.10", 53))
    attempt("sendmsg", sendmsg)
    def connected_name():
        # A host name handed straight to connect() is resolved inside C, unaudited as a
        # lookup: the connect check must refuse the name itself.
        s = socket.socket()
        s.settimeout(5)
        s.connect(("example.org", 80))
    attempt("connect_name", connected_name)
    import asyncio
    async def via_asyncio():
        await asyncio.wait_for(asyncio.open_connection("203.0.113.11", 443), 5)
    attempt("asyncio", lambda: asyncio.run(via_asyncio()))
    print(" ".join(results))
""")


@requires_unshare
def test_every_outbound_path_is_refused_by_the_guard() -> None:
    from tests.conftest import REPO_ROOT

    result = subprocess.run(["unshare", "-rn", sys.executable, "-c", PROBE],
                            capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "tcp:refused", "dns:refused", "udp:refused", "http:refused", "bare_socket:refused",
        "connect_ex:refused", "gethostbyname:refused", "gethostbyname_ex:refused",
        "gethostbyaddr:refused", "getnameinfo:refused", "sendmsg:refused",
        "connect_name:refused", "asyncio:refused"]
