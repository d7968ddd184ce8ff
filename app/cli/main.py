"""`stillroom`: the command line. Parsing is here; each command lives in its own module and
imports what it needs only when it runs, so `stillroom --help` answers at once."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.arguments import positive_int
from app.cli.errors import run_guarded

if TYPE_CHECKING:
    from routing.pricing import PriceCatalog
    from routing.pricing.cli import SettingDefault

# Commands whose parsers store their own handler in `args.func` (it returns the exit code).
_DISPATCHED_BY_FUNC = frozenset({"cost", "providers", "keys", "route"})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stillroom",
        description="Private LLM workstation. With no command: open the app (the terminal "
                    "chat where there is no desktop window).")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = commands.add_parser(
        "chat", help="chat with a model (interactive, or one-shot with PROMPT or stdin)",
        description="Without PROMPT on a terminal: an interactive chat (/help lists its "
                    "commands). With PROMPT, or text piped on stdin: one answer, then exit.")
    chat.add_argument("prompt", nargs="*", metavar="PROMPT", help="the message (one-shot)")
    chat.add_argument("--model", "-m", metavar="ID", help="model id (see `stillroom models list`)")
    chat.add_argument("--system", "-s", metavar="TEXT", help="system prompt")
    chat.add_argument("--max-tokens", type=positive_int, metavar="N",
                      help="longest answer, in tokens")
    chat.add_argument("--temperature", "-t", type=_temperature, metavar="T",
                      help="sampling temperature, 0 (deterministic) to 2")
    chat.add_argument("--seed", type=int, metavar="N", help="sampling seed, for repeatable runs")
    chat.add_argument("--conversation", "-c", metavar="ID",
                      help="continue a conversation (id or unique prefix)")
    chat.add_argument("--json", action="store_true", help="print one JSON object (one-shot)")
    chat.add_argument("--route", default="auto", metavar="ROUTE",
                      help="where to answer: auto (the policy decides), local, onprem, cloud "
                           "or a provider name; sensitive text never goes to the cloud")
    chat.add_argument("--file", "-f", action="append", default=[], metavar="FILE",
                      help="ask PROMPT about this document (PDF, DOCX, EML, text, a scan); "
                           "repeat for several; long documents are answered part by part "
                           "and the answer cites pages")

    models = commands.add_parser("models", help="the model library")
    model_commands = models.add_subparsers(dest="models_command", metavar="ACTION",
                                           required=True)
    listing = model_commands.add_parser("list", help="installed models")
    listing.add_argument("--json", action="store_true")
    pull = model_commands.add_parser(
        "pull", help="download a GGUF from Hugging Face, verify it, register it",
        description="Downloads into the standard Hugging Face cache (a cut transfer resumes "
                    "on the next pull), checks the SHA-256 the Hub publishes, then registers "
                    "the file. Gated repos use the token stored with `stillroom keys set "
                    "huggingface`.")
    pull.add_argument("reference", metavar="REPO[:FILE]",
                      help="e.g. org/Model-GGUF:Model-Q4_K_M.gguf")
    pull.add_argument("--json", action="store_true",
                      help='print {"id", "path", "repo", "file", "size_bytes", "sha256"}')
    quantize = model_commands.add_parser(
        "quantize", help="make a smaller GGUF with llama.cpp's quantizer, or an MLX model, "
                         "and register it",
        description="SOURCE is a GGUF path or a model id; for the mlx-* types, a Hugging Face "
                    "safetensors directory or a repo id already in the Hugging Face cache "
                    "(converted by mlx_lm; needs stillroom[mlx]). The output is registered in "
                    "the library; its id works with `stillroom chat --model ID`.")
    quantize.add_argument("source", metavar="SOURCE",
                          help="GGUF file or model id; safetensors directory or HF repo for MLX")
    quantize.add_argument("--type", required=True, metavar="TYPE",
                          help="Q8_0, Q6_K, Q5_K_M, Q4_K_M, Q4_0, Q5_0, Q3_K_M, Q2_K, ...; "
                               "mlx-4bit, mlx-6bit, mlx-8bit, mlx-bf16")
    quantize.add_argument("--output", "-o", metavar="PATH",
                          help="where to write it (default: models/ in the data directory)")
    quantize.add_argument("--allow-requantize", action="store_true",
                          help="accept an already-quantized source (loses more quality)")
    quantize.add_argument("--imatrix", metavar="FILE",
                          help="importance matrix from llama.cpp's llama-imatrix (GGUF or "
                               ".dat); needed by IQ1_*, IQ2_*, IQ3_XXS and Q2_K_S, better "
                               "quality for the others")
    quantize.add_argument("--json", action="store_true",
                          help='print {"id", "path", "type", "size_bytes"}')
    from app.cli.models_import_cmd import add_import_command
    from app.cli.models_rm_cmd import add_rm_command
    from app.cli.models_search_cmd import add_acquire_commands

    add_import_command(model_commands)
    add_rm_command(model_commands)
    add_acquire_commands(model_commands)  # search, files, fit

    doctor = commands.add_parser("doctor", help="what this machine can run and measure")
    doctor.add_argument("--json", action="store_true")

    from app.cli.cost_report_cmd import add_report_command
    from routing.pricing.cli import add_cost_commands

    # The calculator prices with the same catalog as the ledger (the user's overrides on
    # top); `cost report` reads the ledger, so the app adds it.
    # `cost local` / `cost breakeven` take the user's own prices and hardware for the flags
    # left out.
    add_cost_commands(commands, load_catalog=_price_catalog, add_more=add_report_command,
                      settings_defaults=_cost_settings,
                      settings_where="settings.json or Settings > Costs")

    from routing.cli import add_routing_commands

    # Handlers read the data directory and offline setting only when they run, so
    # `--help` touches nothing on disk.
    add_routing_commands(commands, _data_dir, offline_mode=_offline_mode,
                         judge_factory=_judge_factory)

    from app.cli.audit_cmd import add_audit_command

    add_audit_command(commands)

    from app.cli.backup_cmd import add_backup_commands

    add_backup_commands(commands)

    from app.cli.serve_cmd import add_serve_command
    from app.cli.users_cmd import add_users_command

    add_serve_command(commands)
    add_users_command(commands)

    from app.cli.docs_cmd import add_docs_commands

    add_docs_commands(commands)

    commands.add_parser("gui", help="open the desktop window")
    _add_database_option(parser)
    return parser


DATABASE_HELP = ("the database to use instead of the data directory's SQLite file, e.g. "
                 "postgresql+psycopg://stillroom@db.office.lan/stillroom?sslmode=verify-full "
                 "for several office-server boxes sharing one (password: `stillroom users "
                 "db-password set`, kept in the OS keyring); also STILLROOM_DATABASE_URL")


def _add_database_option(parser: argparse.ArgumentParser, *, top: bool = True) -> None:
    """--database on `stillroom` itself and on every command below it (`stillroom serve
    --database URL`, `stillroom users add NAME --database URL`)."""
    # SUPPRESS: a command's parser must not overwrite a value given before the command.
    parser.add_argument("--database", metavar="URL", help=DATABASE_HELP if top else
                        "the database to use (see `stillroom --help`)",
                        default=None if top else argparse.SUPPRESS)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in dict.fromkeys(action.choices.values()):
                _add_database_option(command, top=False)


def _data_dir() -> Path:
    from app.config import data_dir

    return data_dir()


def _offline_mode() -> bool:
    from app.config import load_settings

    settings, _warnings = load_settings(_data_dir() / "settings.json")
    return settings.offline


def _judge_factory(model_id: str | None) -> Callable[[str], bool]:
    """The local judge for `route evaluate --judge`: True where it would keep text local
    (sensitive, or a timeout or error, as on the cloud path)."""
    import atexit

    from app.services import Services
    from app.turn.judge_step import make_judge
    from inference.engines.types import EngineError

    services = Services.open(_data_dir())
    # The judge's model must be unloaded before the interpreter tears down (llama.cpp
    # freed during finalisation crashes the process after its output is printed).
    atexit.register(services.close)
    try:
        judge = make_judge(services, model_id)
    except EngineError as exc:  # an unknown model: routing's CLI prints ValueErrors as one line
        raise ValueError(str(exc)) from None
    return lambda text: judge(text).keeps_local


def _cost_settings() -> dict[str, SettingDefault]:
    from app.config import load_settings
    from app.metering.answer_cost import DEFAULT_BUSY_HOURS_PER_DAY
    from routing.pricing.cli import SettingDefault

    settings, _warnings = load_settings(_data_dir() / "settings.json")
    hours = settings.busy_hours_per_day
    return {
        "hardware_usd": SettingDefault(settings.hardware_usd, "hardware_usd"),
        "amortize_months": SettingDefault(settings.amortize_months, "amortize_months"),
        # The CPU's rated power: what the machine draws while it generates, at most.
        "watts": SettingDefault(settings.cpu_tdp_watts, "cpu_tdp_watts"),
        "hours_per_day": SettingDefault(
            float(DEFAULT_BUSY_HOURS_PER_DAY) if hours is None else hours,
            "busy_hours_per_day", "default 30% use" if hours is None else ""),
        "kwh_usd": SettingDefault(settings.kwh_usd, "kwh_usd"),
    }


def _price_catalog() -> PriceCatalog:
    from app.config import data_dir
    from app.metering.price_catalog import load_price_catalog

    return load_price_catalog(data_dir())


def _temperature(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0 <= value <= 2:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2, got {value}")
    return value


def _why_no_window() -> str | None:
    """None when the desktop window can open here, else the reason it cannot."""
    import importlib.util

    if importlib.util.find_spec("PySide6") is None:
        return "PySide6 is not installed (run packaging/setup.sh again)"
    if os.environ.get("QT_QPA_PLATFORM"):
        return None
    if sys.platform.startswith("linux"):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            return "no display found (DISPLAY and WAYLAND_DISPLAY are unset)"
        if not os.environ.get("WAYLAND_DISPLAY") and _missing_xcb_library():
            # Qt aborts the whole process when its X11 plugin cannot load; say why first.
            return ("Qt's X11 support needs libxcb-cursor0 (Debian/Ubuntu: "
                    "sudo apt-get install libxcb-cursor0)")
    return None


def _missing_xcb_library() -> bool:
    import ctypes.util

    return ctypes.util.find_library("xcb-cursor") is None


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    # The window's own start skips building every command's parser: that imports the
    # store, audit and Hub modules, most of a second before the first paint.
    if arguments in ([], ["gui"]):
        args = argparse.Namespace(command=arguments[0] if arguments else None, database=None)
    else:
        args = _parser().parse_args(arguments)
    command = args.command
    if args.database:
        # Every store this process opens, and every `stillroom` process it starts, reads
        # the database from here (app.config.database_url).
        os.environ["STILLROOM_DATABASE_URL"] = args.database
    # Before any command runs: offline mode must hold for every one of them, also those
    # that never open Services (models search, files, fit, pull; providers; route).
    from app.network_gate import apply_network_policy

    apply_network_policy(_data_dir())
    if command is None or command == "gui":
        reason = _why_no_window()
        if reason is None:
            from app.gui.app import run_gui

            return run_gui()
        if command == "gui":
            print(f"stillroom: cannot open the desktop window: {reason}.", file=sys.stderr)
            return 2
        print(f"Starting the terminal chat: {reason}.", file=sys.stderr)
        args = _parser().parse_args(["chat"])
    if args.command == "chat" and args.file:
        from app.cli.chat_file_cmd import run_chat_with_files

        return run_guarded(run_chat_with_files, args)
    if args.command == "chat":
        from app.cli.chat_cmd import run_chat

        return run_guarded(run_chat, args)
    if args.command in _DISPATCHED_BY_FUNC:
        return args.func(args)
    if args.command == "audit":
        from app.cli.audit_cmd import run_audit

        return run_guarded(run_audit, args)
    if args.command in ("backup", "restore"):
        from app.cli import backup_cmd

        handler = backup_cmd.run_backup if args.command == "backup" else backup_cmd.run_restore
        return run_guarded(handler, args)
    if args.command == "serve":
        from app.cli.serve_cmd import run_serve

        return run_guarded(run_serve, args)
    if args.command == "users":
        from app.cli.users_cmd import run_users

        return run_guarded(run_users, args)
    if args.command == "docs":
        from app.cli.docs_cmd import run_docs

        return run_guarded(run_docs, args)
    if args.command == "models":
        from app.cli.models_cmd import run_models

        return run_guarded(run_models, args)
    from app.cli.doctor_cmd import run_doctor

    return run_guarded(run_doctor, args)


if __name__ == "__main__":
    sys.exit(main())
