"""`stillroom users add | list | rm | rotate | usage`: who may use the office server."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from app.cli.arguments import positive_int

if TYPE_CHECKING:  # imported when the command runs: `stillroom --help` must not load SQLAlchemy
    from app.store.server_users import UserStore


def add_users_command(commands: argparse._SubParsersAction) -> None:
    users = commands.add_parser(
        "users", help="office server users: keys, quotas, allowed routes and models",
        description="Each user gets a random 256-bit key, shown once; only its SHA-256 is "
                    "stored. `stillroom serve` asks for a key on every request once a user "
                    "exists.")
    actions = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a user and print their key (once)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--tokens-per-day", type=positive_int, metavar="N",
                     help="prompt + answer tokens per UTC day (default: no limit)")
    add.add_argument("--budget-usd-month", type=_usd, metavar="X",
                     help="cloud spend per UTC month in US dollars (default: no limit)")
    add.add_argument("--rpm", type=positive_int, metavar="N",
                     help="requests per minute (default: no limit)")
    add.add_argument("--routes", metavar="LIST",
                     help="where their questions may be answered: a comma-separated list of "
                          "local, onprem, cloud (default: all three; the policy still "
                          "decides, and sensitive text never leaves the machine)")
    add.add_argument("--models", nargs="+", default=["*"], metavar="PATTERN",
                     help="model ids they may use, shell patterns (default: all)")
    add.add_argument("--admin", action="store_true", help="may read /metrics")
    actions.add_parser("list", help="the users and their limits").add_argument(
        "--json", action="store_true")
    actions.add_parser("rm", help="remove a user (their key stops working)").add_argument(
        "name", metavar="NAME")
    actions.add_parser("rotate", help="a new key for a user (the old one stops working)"
                       ).add_argument("name", metavar="NAME")
    usage = actions.add_parser("usage", help="requests, tokens and cloud spend per user")
    usage.add_argument("--since", type=_day, metavar="YYYY-MM-DD",
                       help="from this UTC day (default: today)")
    usage.add_argument("--json", action="store_true")
    password = actions.add_parser(
        "db-password", help="keep the PostgreSQL password in the OS keyring",
        description="For --database postgresql+psycopg://USER@HOST/DATABASE without a "
                    "password: `set` reads the password from stdin (asked for on a terminal) "
                    "and keeps it in the OS keyring, service 'stillroom-database', entry "
                    "USER@HOST:PORT/DATABASE; every command that opens that database then "
                    "finds it there. `rm` removes it.")
    password.add_argument("db_password_action", choices=["set", "rm"], metavar="set|rm")


def _usd(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"'{text}' is not an amount in dollars") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _day(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2026-01-31") from None


def _open_users() -> UserStore:
    # Only the database: managing users must not load models or start the energy meter.
    from app.config import data_dir, database_url, ensure_writable
    from app.store.db import open_engine
    from app.store.server_users import UserStore

    return UserStore(open_engine(database_url(ensure_writable(data_dir()))))


def run_users(args: argparse.Namespace) -> int:
    from app.store.server_users import ROUTES, UserLimits, parse_routes

    action = args.users_command
    if action == "db-password":
        return _db_password(args.db_password_action)
    users = _open_users()
    if action == "add":
        key = users.add(args.name, UserLimits(
            tokens_per_day=args.tokens_per_day, requests_per_minute=args.rpm,
            budget_usd_month=args.budget_usd_month,
            routes=ROUTES if args.routes is None else parse_routes(args.routes),
            models=tuple(args.models), admin=args.admin))
        _print_key(args.name, key, "added")
    elif action == "rotate":
        _print_key(args.name, users.rotate(args.name), "has a new key")
    elif action == "rm":
        users.remove(args.name)
        print(f"Removed {args.name}; their key no longer works.")
    elif action == "list":
        _print_list(users, as_json=args.json)
    else:
        _print_usage(users, args.since, as_json=args.json)
    return 0


def _db_password(action: str) -> int:
    import getpass
    import sys

    from app.config import data_dir, database_url
    from app.store import db_url

    url = db_url.parse(database_url(data_dir()))
    if not db_url.is_postgresql(url):
        raise ValueError("db-password is for a PostgreSQL database: give --database "
                         "postgresql+psycopg://USER@HOST/DATABASE (or STILLROOM_DATABASE_URL).")
    if url.password is not None:
        raise ValueError(f"{db_url.shown(url)} has a password in it: leave it out of the URL "
                         f"and keep it in the keyring instead.")
    if action == "rm":
        removed = db_url.forget_password(url)
        print(f"Removed the password for {db_url.keyring_entry(url)} from the OS keyring."
              if removed else f"The OS keyring held no password for "
                              f"{db_url.keyring_entry(url)}.")
        return 0
    secret = (getpass.getpass(f"Password for {db_url.keyring_entry(url)}: ")
              if sys.stdin.isatty() else sys.stdin.readline().rstrip("\r\n"))
    if not secret:
        raise ValueError("no password given (type it, or pipe it on stdin); nothing stored.")
    entry = db_url.store_password(url, secret)
    print(f"Stored the password for {entry} in the OS keyring (service "
          f"'{db_url.KEYRING_SERVICE}').")
    return 0


def _print_key(name: str, key: str, what: str) -> None:
    print(f"{name} {what}. Their key (shown this once; Stillroom keeps only its hash):")
    print(key)


def _limit(value: object, unit: str = "") -> str:
    return "no limit" if value is None else f"{value}{unit}"


def _budget(usd: Decimal | None) -> str:
    return "no cloud budget limit" if usd is None else f"${usd}/month cloud budget"


def _print_list(users: UserStore, *, as_json: bool) -> None:
    listed = users.list()
    if as_json:
        print(json.dumps([{
            "name": user.name, "tokens_per_day": user.limits.tokens_per_day,
            "requests_per_minute": user.limits.requests_per_minute,
            "budget_usd_month": None if user.limits.budget_usd_month is None
            else str(user.limits.budget_usd_month),
            "routes": list(user.limits.routes), "models": list(user.limits.models),
            "admin": user.limits.admin} for user in listed], indent=2))
        return
    if not listed:
        print("No users yet; `stillroom users add NAME` adds one.")
    for user in listed:
        limits = user.limits
        print(f"{user.name}{' (admin)' if limits.admin else ''}: "
              f"{_limit(limits.tokens_per_day, ' tokens/day')}, "
              f"{_limit(limits.requests_per_minute, ' requests/min')}, "
              f"{_budget(limits.budget_usd_month)}; "
              f"routes {','.join(limits.routes)}; models {' '.join(limits.models)}")


def _print_usage(users: UserStore, since: datetime | None, *, as_json: bool) -> None:
    start = since or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = [(user.name, users.usage(user.name, start)) for user in users.list()]
    if as_json:
        print(json.dumps([{"name": name, "requests": used.requests,
                           "prompt_tokens": used.prompt_tokens,
                           "completion_tokens": used.completion_tokens,
                           "cloud_usd": str(used.cloud_usd)} for name, used in rows], indent=2))
        return
    print(f"Since {start:%Y-%m-%d %H:%M} UTC:")
    for name, used in rows:
        print(f"  {name}: {used.requests} requests, {used.tokens} tokens "
              f"({used.prompt_tokens} prompt + {used.completion_tokens} answer), "
              f"cloud ${used.cloud_usd}")
