"""`stillroom serve`: the office server, an OpenAI-compatible API for the whole office."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.arguments import positive_int

if TYPE_CHECKING:
    from app.services import Services


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


def _print_database(services: Services) -> None:
    """A shared PostgreSQL is named (password hidden: every box must name the same one),
    with how safe the data is there; SQLite's state is doctor's to tell."""
    from app.store import db_url

    engine_url = services.store.engine.url
    if db_url.is_postgresql(engine_url):
        print(f"Database: {db_url.shown(engine_url)}: {services.at_rest.line()}",
              file=sys.stderr)


def _say(line: str) -> None:
    print(f"stillroom: {line}", file=sys.stderr)


def run_serve(args: argparse.Namespace) -> int:
    from app.cli.errors import print_error
    from app.server.hosting import ServeOptions, prepare
    from app.services import Services
    from inference.engines.batching import BatchSettings

    services = Services.open(batch=BatchSettings.shared(args.slots, args.max_waiting))
    try:
        for problem in services.warnings:
            print_error(str(problem))
        _print_database(services)
        hosted = prepare(services, ServeOptions(
            host=args.host, port=args.port, model=args.model, slots=args.slots,
            max_waiting=args.max_waiting, tls=args.tls, tls_cert=args.tls_cert,
            tls_key=args.tls_key, replicas=args.replica), _say)
        print(f"Serving {hosted.model_id} at {hosted.url} (Ctrl+C stops)", flush=True)
        hosted.run()
    finally:
        services.close()
    return 0
