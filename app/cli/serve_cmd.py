"""`stillroom serve`: the office server, an OpenAI-compatible API for the whole office."""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys

from app.cli.arguments import positive_int


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
    serve.add_argument("--max-waiting", type=positive_int, default=16, metavar="N",
                       help="requests that may wait in all before 429 (default: 16)")


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


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.cli.errors import print_error
    from app.server.answering import TurnAnswerer
    from app.server.app import ServerParts, create_app
    from app.services import Services
    from app.store.server_users import UserStore

    services = Services.open()
    try:
        for problem in services.warnings:
            print_error(str(problem))
        users = UserStore(services.store.engine)
        loopback = is_loopback(args.host)
        if not loopback and not users.any():
            raise ValueError(f"--host {args.host} would let anyone on the network use this "
                             f"machine without a key: add a user first (`stillroom users add "
                             f"NAME`), or serve on 127.0.0.1.")
        chat = services.chat()
        model = chat.resolve_model(args.model)
        with services.energy.busy():  # the first request should not wait for the load
            services.library.verify(model)
            services.engines.engine_for(model)
        sock = _bind(args.host, args.port)
        host, port = sock.getsockname()[:2]
        if not loopback:
            print(f"stillroom: warning: serving on {host} without TLS: keys, questions and "
                  f"answers cross the network in plain text, readable by anyone on it. Put "
                  f"a TLS proxy in front, or serve on 127.0.0.1.", file=sys.stderr)
        app = create_app(ServerParts(
            answerer=TurnAnswerer(chat, max_waiting=args.max_waiting),
            library=services.library, users=users, default_model=model.id,
            is_loaded=lambda: any(m.id == model.id for m in services.engines.loaded())))
        shown = f"[{host}]" if ":" in host else host
        print(f"Serving {model.id} at http://{shown}:{port}/v1 (Ctrl+C stops)", flush=True)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                               timeout_graceful_shutdown=5))
        server.run(sockets=[sock])
    finally:
        services.close()
    return 0
