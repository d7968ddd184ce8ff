"""HTTPS: `serve --tls self-signed` prints the fingerprint clients pin and serves with that
certificate; its private key is kept in the OS keyring (the real Secret Service), never in
the data directory; `--tls-cert/--tls-key` serve the user's own files."""

from __future__ import annotations

import hashlib
import http.client
import json
import ssl
from pathlib import Path

import openai
import pytest

from app.server.tls import CERT_FILE
from tests.conftest import requires_secret_service, run_cli, run_with_secret_service
from tests.server.conftest import MODEL, ServeProcess


def _peer_fingerprint(server: ServeProcess, context: ssl.SSLContext) -> tuple[str, dict]:
    connection = http.client.HTTPSConnection("127.0.0.1", server.port, context=context)
    connection.request("GET", "/health")
    health = json.loads(connection.getresponse().read())
    der = connection.sock.getpeercert(binary_form=True)  # type: ignore[union-attr]
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2)), health


def test_self_signed_prints_the_fingerprint_the_server_presents(
        serve: type[ServeProcess], stillroom_home: Path) -> None:
    server = serve("--tls", "self-signed")
    assert server.base_url.startswith("https://127.0.0.1:")
    # Trust exactly the certificate written beside the data: hostname checked too.
    context = ssl.create_default_context(cafile=str(stillroom_home / CERT_FILE))
    fingerprint, health = _peer_fingerprint(server, context)
    assert health["status"] == "ok"
    # A teammate's SDK trusting that certificate, as the README shows.
    client = openai.OpenAI(base_url=server.base_url, api_key="none", max_retries=0,
                           http_client=openai.DefaultHttpxClient(verify=context))
    assert [m.id for m in client.models.list()] == [MODEL]
    err = server.stop()
    printed = err.split("fingerprint: ", 1)[1].split()[0]
    assert printed == fingerprint
    # No keyring in this process: the key was never written down, and the user is told.
    assert "no OS keyring keeps the certificate's key" in err
    assert not any(b"PRIVATE KEY" in path.read_bytes()
                   for path in stillroom_home.rglob("*") if path.is_file())


def test_a_plain_client_cannot_talk_to_the_https_server(serve: type[ServeProcess]) -> None:
    server = serve("--tls", "self-signed")
    connection = http.client.HTTPSConnection("127.0.0.1", server.port,
                                             context=ssl.create_default_context())
    with pytest.raises(ssl.SSLCertVerificationError):
        connection.request("GET", "/health")


@pytest.mark.parametrize(("args", "named"), [
    (("--tls-cert", "missing.pem", "--tls-key", "missing.key"), "--tls-cert"),
    (("--tls-cert", "x.pem"), "--tls-key"),
])
def test_bad_tls_options_say_one_line(stillroom_home: Path, args: tuple[str, ...],
                                      named: str) -> None:
    result = run_cli("serve", "--port", "0", *args, home=stillroom_home)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert named in line


KEPT = """
import sys
from pathlib import Path
from app.server.tls import self_signed
home = Path(sys.argv[1])
home.mkdir(parents=True, exist_ok=True)
first = self_signed(home, ["localhost", "127.0.0.1"])
second = self_signed(home, ["localhost", "127.0.0.1"])
print(first.kept, second.kept, first.fingerprint == second.fingerprint)
"""


@requires_secret_service
def test_with_a_keyring_the_certificate_and_its_key_are_kept(tmp_path: Path) -> None:
    home = tmp_path / "data"
    result = run_with_secret_service(KEPT, str(home), home=tmp_path)
    assert result.stdout.split() == ["True", "True", "True"], result.stderr
    assert not any(b"PRIVATE KEY" in path.read_bytes()
                   for path in tmp_path.rglob("*") if path.is_file()
                   and "keyrings" not in path.parts)
