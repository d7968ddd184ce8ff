"""TLS for the office server: the user's certificate and key files, or a self-signed
certificate (`serve --tls self-signed`) whose SHA-256 fingerprint clients pin.

The self-signed certificate is public and lives in the data directory; its private key is a
secret, so it lives in the OS keyring (PEM) and reaches disk only for the moment the server
loads it, in a private temporary directory. Without a keyring the key is made anew at every
start (nothing secret is written down), so the fingerprint changes each time, and the serve
command says so."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import ipaddress
import os
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from routing.keys import usable_keyring

KEYRING_SERVICE = "stillroom"
KEY_NAME = "server-tls-key"
CERT_FILE = "server-tls-cert.pem"
_VALID_DAYS = 825  # the longest validity Apple's clients accept for a server certificate


@dataclass(frozen=True, slots=True)
class TlsIdentity:
    cert_pem: bytes
    key_pem: bytes
    kept: bool  # False: made for this start only (no keyring)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the certificate's DER bytes, as browsers and `openssl x509 -fingerprint
        -sha256` show it (colon-separated upper-case hex)."""
        der = ssl.PEM_cert_to_DER_cert(self.cert_pem.decode("ascii"))
        digest = hashlib.sha256(der).hexdigest().upper()
        return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def _make(hosts: list[str]) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Stillroom office server")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=_VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def self_signed(directory: Path, hosts: list[str]) -> TlsIdentity:
    """The data directory's self-signed identity, made on first use (for ``hosts``, which
    become the certificate's subject alternative names) and reused while the keyring keeps
    its key."""
    import keyring.errors

    cert_path = directory / CERT_FILE
    backend = usable_keyring()
    if backend is not None:
        try:
            key_pem = backend.get_password(KEYRING_SERVICE, KEY_NAME)
        except keyring.errors.KeyringError:
            key_pem = None
        if key_pem and cert_path.is_file():
            return TlsIdentity(cert_path.read_bytes(), key_pem.encode("ascii"), kept=True)
    cert_pem, key_pem_bytes = _make(hosts)
    kept = False
    if backend is not None:
        try:
            backend.set_password(KEYRING_SERVICE, KEY_NAME, key_pem_bytes.decode("ascii"))
            kept = backend.get_password(KEYRING_SERVICE, KEY_NAME) == key_pem_bytes.decode()
        except keyring.errors.KeyringError:
            kept = False
    cert_path.write_bytes(cert_pem)  # public: clients may copy it to trust it
    return TlsIdentity(cert_pem, key_pem_bytes, kept=kept)


@contextlib.contextmanager
def key_files(identity: TlsIdentity) -> Iterator[tuple[str, str]]:
    """(cert file, key file) for a server to load; the key file exists only inside the
    block, in a temporary directory only this user can read."""
    with tempfile.TemporaryDirectory(prefix="stillroom-tls-") as folder:
        cert = Path(folder) / "cert.pem"
        key = Path(folder) / "key.pem"
        cert.write_bytes(identity.cert_pem)
        descriptor = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(identity.key_pem)
        yield str(cert), str(key)
