"""Cloud API keys: kept in the OS keyring (macOS Keychain, Windows Credential Locker, the
Secret Service on Linux) and nowhere else.

Lookup order for a provider's key: the environment variable STILLROOM_KEY_<PROVIDER>
(upper-case, other characters as "_"; for CI and headless servers), then the keyring.
Only provider *names* are written to disk (keys-index.json), so the app can list which
keys exist without reading them.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from inference.files import write_json_atomic

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "stillroom"
# The Hugging Face token (gated model repositories) is kept like a provider's key.
HUB_TOKEN_NAME = "huggingface"
NO_BACKEND_HELP = (
    "No OS keyring is available, so Stillroom cannot store API keys. On Linux, install and "
    "unlock a Secret Service provider (GNOME Keyring or KWallet); on a headless server set "
    "the key in the environment as {variable} instead."
)


class KeyringUnavailableError(RuntimeError):
    """There is no usable keyring backend; the message says what to do."""


def usable_keyring() -> KeyringBackend | None:
    """The OS keyring backend, or None when there is none: keyring's `fail` backend, or one
    with no priority (keyring's way of saying it cannot work here), or keyring missing.
    Every secret Stillroom keeps (API keys, the database key, the audit key) asks this."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) <= 0:
        return None
    return backend


def environment_variable(provider: str) -> str:
    return "STILLROOM_KEY_" + re.sub(r"[^A-Z0-9]", "_", provider.upper())


def mask(secret: str) -> str:
    """What may be shown of a key: enough to recognise it, never enough to use it."""
    if len(secret) < 12:
        return "•" * 8
    return f"{secret[:3]}…{secret[-4:]}"


class KeyStore:
    def __init__(self, index_path: Path) -> None:
        self.index_path = index_path

    def _backend(self, provider: str):
        backend = usable_keyring()
        if backend is None:
            raise KeyringUnavailableError(
                NO_BACKEND_HELP.format(variable=environment_variable(provider)))
        return backend

    def _names(self) -> list[str]:
        try:
            names = json.loads(self.index_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return []
        return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []

    def _write_names(self, names: list[str]) -> None:
        write_json_atomic(self.index_path, sorted(set(names)))

    def set(self, provider: str, secret: str) -> None:
        secret = secret.strip()
        if not secret:
            raise ValueError("The key is empty; nothing was stored.")
        if any(ch.isspace() for ch in secret):
            raise ValueError("The key contains spaces or line breaks; paste only the key.")
        import keyring.errors

        backend = self._backend(provider)
        try:
            backend.set_password(SERVICE, provider, secret)
        except keyring.errors.KeyringError as exc:
            # The backend's message may not be safe to show verbatim; its type is.
            raise KeyringUnavailableError(
                f"The keyring refused to store the key ({type(exc).__name__}); is it locked?"
            ) from None
        self._write_names([*self._names(), provider])

    def get(self, provider: str) -> str | None:
        from_env = os.environ.get(environment_variable(provider))
        if from_env:
            return from_env.strip()
        return self._backend(provider).get_password(SERVICE, provider)

    def delete(self, provider: str) -> bool:
        import keyring.errors

        removed = True
        try:
            self._backend(provider).delete_password(SERVICE, provider)
        except keyring.errors.PasswordDeleteError:
            removed = False
        self._write_names([n for n in self._names() if n != provider])
        return removed

    def has_key(self, provider: str) -> bool:
        """Whether a key is set (environment or keyring index), without opening the keyring,
        which may be locked or prompt the user."""
        return bool(os.environ.get(environment_variable(provider))) or provider in self._names()

    def list_masked(self) -> dict[str, str]:
        """Provider -> masked key (or where it comes from), for display only."""
        shown = {}
        for name in self._names():
            if os.environ.get(environment_variable(name)):
                shown[name] = f"from ${environment_variable(name)}"
                continue
            secret = self._backend(name).get_password(SERVICE, name)
            shown[name] = mask(secret) if secret else "(missing from the keyring)"
        return shown


def hub_token(keys: KeyStore) -> str | None:
    """The Hugging Face token (keyring, or STILLROOM_KEY_HUGGINGFACE); None when there is none
    or no keyring: public repos need no token."""
    try:
        return keys.get(HUB_TOKEN_NAME)
    except KeyringUnavailableError:
        return None
