"""The office server built on an opened Services, for both of its hosts: `stillroom serve`
(its own process, the main thread) and the window's Server tab (the window's process, a
worker thread, so the desktop chat, its document jobs and the office's clients share one
loaded model and one scheduler).

`prepare` does everything that can fail with a line for the user (the model's load, the
checks, the socket, TLS) before anything is served; `Hosted.run` serves until `stop`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.server.replicas import ReplicaPool
    from app.services import Services
    from app.turn.service import ChatService

Say = Callable[[str], None]  # a warning or notice line for the user (stderr, the tab's log)


@dataclass(frozen=True, slots=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    model: str | None = None
    slots: int = 4
    max_waiting: int = 16
    tls: str | None = None  # "self-signed" or None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    replicas: list[str] | None = None  # None: the settings' list


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


class Hosted:
    """A prepared server: its address, then `run()` (blocks) until `stop()`."""

    def __init__(self, server: Any, sock: socket.socket, url: str, model_id: str,
                 fingerprint: str | None, stack: contextlib.ExitStack) -> None:
        self.server = server
        self.url = url
        self.model_id = model_id
        self.fingerprint = fingerprint
        self._sock = sock
        self._stack = stack

    def run(self) -> None:
        try:
            self.server.run(sockets=[self._sock])
        finally:
            self.close()

    def stop(self) -> None:
        """Ask uvicorn to stop: open answers get its graceful time, then it returns."""
        self.server.should_exit = True

    def close(self) -> None:
        self._sock.close()
        self._stack.close()


def prepare(services: Services, options: ServeOptions, say: Say) -> Hosted:
    """Load the model, bind and configure the server; ValueError (one line) when it cannot
    serve as asked. The caller's Services must batch GGUF models (EngineManager `batch`
    or a share) for `slots` to mean anything."""
    import uvicorn

    from app.server.answering import TurnAnswerer
    from app.server.app import ServerParts, create_app
    from app.store.server_users import UserStore

    stack = contextlib.ExitStack()
    try:
        users = UserStore(services.store.engine)
        loopback = is_loopback(options.host)
        if not loopback and not users.any():
            raise ValueError(f"--host {options.host} would let anyone on the network use this "
                             f"machine without a key: add a user first (`stillroom users add "
                             f"NAME`), or serve on 127.0.0.1.")
        pool = _replica_pool(options, services, say)
        if pool is not None:
            stack.callback(pool.close)
        chat = services.chat() if pool is None else _front_chat(services, pool)
        model = chat.resolve_model(options.model)
        with services.energy.busy():  # the first request should not wait for the load
            services.library.verify(model)
            if pool is None:
                services.engines.engine_for(model)
        sock = _bind(options.host, options.port)
        stack.callback(sock.close)
        host, port = sock.getsockname()[:2]
        fingerprint, tls = _tls_files(options, services.data_dir, say)
        if not loopback and options.tls is None and options.tls_cert is None:
            say(f"warning: serving on {host} without TLS: keys, questions and answers cross "
                f"the network in plain text, readable by anyone on it. Put a TLS proxy in "
                f"front, or serve on 127.0.0.1.")
        answering = options.slots * (len(pool.replicas) if pool is not None else 1)
        is_loaded = pool.any_healthy if pool is not None else (
            lambda: any(m.id == model.id for m in services.engines.loaded()))
        app = create_app(ServerParts(
            answerer=TurnAnswerer(chat, max_answering=answering,
                                  max_waiting=options.max_waiting),
            library=services.library, users=users, default_model=model.id,
            max_tokens=services.settings.max_tokens,
            system_prompt=services.settings.system_prompt,
            is_loaded=is_loaded, slots=answering,
            replicas=pool.status if pool is not None else None))
        with tls as files:
            config = uvicorn.Config(app, log_level="warning", access_log=False,
                                    timeout_graceful_shutdown=5,
                                    ssl_certfile=files[0] if files else None,
                                    ssl_keyfile=files[1] if files else None)
            try:
                config.load()  # reads the key file now: it is deleted when this block ends
            except (ssl.SSLError, OSError) as exc:
                raise ValueError(f"--tls-cert/--tls-key: the certificate or key cannot be "
                                 f"used ({exc}); give a PEM certificate and its "
                                 f"unencrypted PEM key.") from None
        shown = f"[{host}]" if ":" in host else host
        scheme = "https" if files else "http"
        return Hosted(uvicorn.Server(config), sock, f"{scheme}://{shown}:{port}/v1",
                      model.id, fingerprint, stack)
    except BaseException:
        stack.close()
        raise


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        # Listening before the address is printed: a client that reads it and connects at
        # once waits in the backlog until the server accepts, rather than being refused.
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ValueError(f"--host {host} --port {port}: cannot listen there ({exc.strerror}); "
                         f"pick another port, or stop what uses it.") from None
    return sock


def _tls_files(options: ServeOptions, data_dir: Path, say: Say
               ) -> tuple[str | None, contextlib.AbstractContextManager[tuple[str, str] | None]]:
    """The self-signed fingerprint (or None), and (cert file, key file) while the server
    loads them, or None for plain HTTP."""
    if options.tls == "self-signed":
        if options.tls_cert or options.tls_key:
            raise ValueError("--tls self-signed makes its own certificate: leave out "
                             "--tls-cert and --tls-key, or leave out --tls.")
        from app.server.tls import CERT_FILE, key_files, self_signed

        hosts = ["localhost", "127.0.0.1", "::1", socket.gethostname()]
        host = options.host
        wildcard = _is_address(host) and ipaddress.ip_address(host).is_unspecified
        if host not in hosts and not wildcard:
            hosts.append(host)
        identity = self_signed(data_dir, hosts)
        say(f"TLS certificate SHA-256 fingerprint: {identity.fingerprint} "
            f"(certificate: {data_dir / CERT_FILE})")
        if not identity.kept:
            say("warning: no OS keyring keeps the certificate's key, so it is new at every "
                "start and clients must pin the new fingerprint each time.")
        return identity.fingerprint, key_files(identity)
    if bool(options.tls_cert) != bool(options.tls_key):
        raise ValueError("--tls-cert and --tls-key go together: give both files (PEM).")
    if options.tls_cert and options.tls_key:
        for option, path in (("--tls-cert", options.tls_cert), ("--tls-key", options.tls_key)):
            if not path.is_file():
                raise ValueError(f"{option} {path}: no such file; give the PEM file's path.")
        return None, _given((str(options.tls_cert), str(options.tls_key)))
    return None, _given(None)


@contextlib.contextmanager
def _given(files: tuple[str, str] | None) -> Iterator[tuple[str, str] | None]:
    yield files


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _replica_pool(options: ServeOptions, services: Services, say: Say) -> ReplicaPool | None:
    """The replicas asked for (or the settings' list), probed once, or None."""
    from app.server.replicas import (
        ReplicaPool,
        describe_keys,
        normalize_url,
        replica_keys,
    )

    given = options.replicas if options.replicas is not None else services.settings.replicas
    if not given:
        return None
    urls = list(dict.fromkeys(normalize_url(url) for url in given))
    keys = replica_keys(urls, services.keys)
    for line in describe_keys(urls, keys):
        say(line)
    pool = ReplicaPool(urls, keys)
    pool.start()
    if not pool.any_healthy():
        say(f"warning: no replica answers yet ({pool.summary()}); requests get 503 until "
            f"one does.")
    return pool


def _front_chat(services: Services, pool: ReplicaPool) -> ChatService:
    from app.server.front import FrontParts
    from app.turn.service import ChatService

    return ChatService(FrontParts(services, pool))  # type: ignore[arg-type]
