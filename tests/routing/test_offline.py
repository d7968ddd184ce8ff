"""Offline mode refuses every non-loopback connection in the process, and only those."""

import http.server
import shutil
import subprocess
import sys
import textwrap
import threading
import urllib.request

import pytest

from routing import offline


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


def test_disable_restores_the_socket_layer() -> None:
    import socket

    original = socket.socket.connect
    offline.enable()
    assert socket.socket.connect is not original and offline.is_enabled()
    offline.disable()
    assert socket.socket.connect is original and not offline.is_enabled()


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
    print(" ".join(results))
""")


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")
def test_every_outbound_path_is_refused_by_the_guard() -> None:
    from tests.conftest import REPO_ROOT

    result = subprocess.run(["unshare", "-rn", sys.executable, "-c", PROBE],
                            capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["tcp:refused", "dns:refused", "udp:refused",
                                     "http:refused"]
