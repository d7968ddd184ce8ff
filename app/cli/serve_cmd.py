"""`stillroom serve`: the office server, an OpenAI-compatible API for the whole office."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import socket
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.arguments import positive_int

if TYPE_CHECKING:
    from app.server.replicas import ReplicaPool
    from app.server.tls import TlsIdentity
    from app.services import Services
    from app.turn.service import ChatService


def add_serve_command(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve", help="the office server: an OpenAI-compatible API with per-user keys",
        description="Answers POST /v1/chat/completions, GET /v1/models, /health and /metrics "
                    "through the same privacy gate, policy, audit log and ledger as the "
                    "desktop. Add users (`stillroom users add NAME`) before binding anywhere "
                    "but this machine.")
    serve.add_argument("--host", default="127.0.0.1", metavar="ADDRESS",
                       help="address to listen on (default: 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=_port, default=8080, metavar="N",
                       help="port (default: 8080; 0 picks a free one)")
    serve.add_argument("--model", "-m", metavar="ID",
                       help="the model loaded at start (default: the default model)")
    serve.add_argument("--tls-cert", type=Path, metavar="FILE",
                       help="serve HTTPS with this certificate (PEM; with --tls-key)")
    serve.add_argument("--tls-key", type=Path, metavar="FILE",
                       help="the certificate's private key (PEM)")
    serve.add_argument("--tls", choices=["self-signed"],
                       help="self-signed: make a certificate (kept: key in the OS keyring) and "
                            "print its SHA-256 fingerprint for clients to pin")
    serve.add_argument("--max-waiting", type=positive_int, default=16, metavar="N",
                       help="requests that may wait in all before 429 (default: 16)")
    serve.add_argument("--slots", type=positive_int, default=4, metavar="N",
                       help="requests decoded together on one copy of the model (continuous "
                            "batching; default: 4; 1 answers one at a time); with "
                            "replicas, requests each replica is sent at once")
    serve.add_argument("--replica", action="append", metavar="URL", default=None,
                       help="answer on this server instead of here (repeat for several: "
                            "each request goes to the least-busy healthy one). Stillroom, "
                            "llama.cpp's llama-server or vLLM; users, quotas and the ledger "
                            "stay here. Default: the settings' `replicas` list. Its key: "
                            "`stillroom keys set replica-<host>-<port>`")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0-65535, got {value}")
    return value


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


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


def _tls_files(args: argparse.Namespace, data_dir: Path, host: str
               ) -> contextlib.AbstractContextManager[tuple[str, str] | None]:
    """(cert file, key file) while the server loads them, or None for plain HTTP."""
    if args.tls == "self-signed":
        if args.tls_cert or args.tls_key:
            raise ValueError("--tls self-signed makes its own certificate: leave out "
                             "--tls-cert and --tls-key, or leave out --tls.")
        from app.server.tls import key_files, self_signed

        hosts = ["localhost", "127.0.0.1", "::1", socket.gethostname()]
        wildcard = _is_address(host) and ipaddress.ip_address(host).is_unspecified
        if host not in hosts and not wildcard:
            hosts.append(host)
        identity = self_signed(data_dir, hosts)
        _print_identity(identity, data_dir)
        return key_files(identity)
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ValueError("--tls-cert and --tls-key go together: give both files (PEM).")
    if args.tls_cert:
        for option, path in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key)):
            if not path.is_file():
                raise ValueError(f"{option} {path}: no such file; give the PEM file's path.")
        return _given((str(args.tls_cert), str(args.tls_key)))
    return _given(None)


@contextlib.contextmanager
def _given(files: tuple[str, str] | None) -> Iterator[tuple[str, str] | None]:
    yield files


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _print_identity(identity: TlsIdentity, data_dir: Path) -> None:
    from app.server.tls import CERT_FILE

    print(f"TLS certificate SHA-256 fingerprint: {identity.fingerprint} "
          f"(certificate: {data_dir / CERT_FILE})", file=sys.stderr)
    if not identity.kept:
        print("stillroom: warning: no OS keyring keeps the certificate's key, so it is new "
              "at every start and clients must pin the new fingerprint each time.",
              file=sys.stderr)


def _print_database(services: Services) -> None:
    """A shared PostgreSQL is named (password hidden: every box must name the same one),
    with how safe the data is there; SQLite's state is doctor's to tell."""
    from app.store import db_url

    engine_url = services.store.engine.url
    if db_url.is_postgresql(engine_url):
        print(f"Database: {db_url.shown(engine_url)}: {services.at_rest.line()}",
              file=sys.stderr)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.cli.errors import print_error
    from app.server.answering import TurnAnswerer
    from app.server.app import ServerParts, create_app
    from app.services import Services
    from app.store.server_users import UserStore
    from inference.engines.batching import BatchSettings

    # One slot stays open for anyone but the heaviest user, so a newcomer's first token does
    # not wait for someone else's long answers.
    batch = BatchSettings(slots=args.slots, max_waiting=args.max_waiting,
                          max_running_per_owner=args.slots - 1 if args.slots > 1 else None)
    services = Services.open(batch=batch)
    stack = contextlib.ExitStack()
    try:
        for problem in services.warnings:
            print_error(str(problem))
        _print_database(services)
        users = UserStore(services.store.engine)
        loopback = is_loopback(args.host)
        if not loopback and not users.any():
            raise ValueError(f"--host {args.host} would let anyone on the network use this "
                             f"machine without a key: add a user first (`stillroom users add "
                             f"NAME`), or serve on 127.0.0.1.")
        pool = _replica_pool(args, services)
        if pool is not None:
            stack.callback(pool.close)
        chat = services.chat() if pool is None else _front_chat(services, pool)
        model = chat.resolve_model(args.model)
        with services.energy.busy():  # the first request should not wait for the load
            services.library.verify(model)
            if pool is None:
                services.engines.engine_for(model)
        sock = _bind(args.host, args.port)
        host, port = sock.getsockname()[:2]
        tls = _tls_files(args, services.data_dir, args.host)
        if not loopback and args.tls is None and args.tls_cert is None:
            print(f"stillroom: warning: serving on {host} without TLS: keys, questions and "
                  f"answers cross the network in plain text, readable by anyone on it. Put "
                  f"a TLS proxy in front, or serve on 127.0.0.1.", file=sys.stderr)
        answering = args.slots * (len(pool.replicas) if pool is not None else 1)
        is_loaded = pool.any_healthy if pool is not None else (
            lambda: any(m.id == model.id for m in services.engines.loaded()))
        app = create_app(ServerParts(
            answerer=TurnAnswerer(chat, max_answering=answering, max_waiting=args.max_waiting),
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
        print(f"Serving {model.id} at {scheme}://{shown}:{port}/v1 (Ctrl+C stops)",
              flush=True)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        stack.close()
        services.close()
    return 0


def _replica_pool(args: argparse.Namespace, services: Services) -> ReplicaPool | None:
    """The replicas from --replica (or the settings' list), probed once, or None."""
    from app.server.replicas import (
        ReplicaPool,
        describe_keys,
        normalize_url,
        replica_keys,
    )

    given = args.replica if args.replica is not None else services.settings.replicas
    if not given:
        return None
    urls = list(dict.fromkeys(normalize_url(url) for url in given))
    keys = replica_keys(urls, services.keys)
    for line in describe_keys(urls, keys):
        print(f"stillroom: {line}", file=sys.stderr)
    pool = ReplicaPool(urls, keys)
    pool.start()
    if not pool.any_healthy():
        print(f"stillroom: warning: no replica answers yet ({pool.summary()}); requests "
              f"get 503 until one does.", file=sys.stderr)
    return pool


def _front_chat(services: Services, pool: ReplicaPool) -> ChatService:
    from app.server.front import FrontParts
    from app.turn.service import ChatService

    return ChatService(FrontParts(services, pool))  # type: ignore[arg-type]
