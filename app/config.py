"""Where Stillroom keeps its data, and the user's settings.

`STILLROOM_HOME` replaces the whole data directory (tests, portable installs);
`STILLROOM_DATABASE_URL` points the store at another database (an office PostgreSQL).
Secrets never come here: they live in the OS keyring.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from inference.files import write_json_atomic
from inference.user_files import MISSING, FileProblem, file_problem, read_json_file

APP_NAME = "Stillroom"
SETTINGS_VERSION = 1
JUDGE_MODES = ("auto", "on", "off")


class ConfigError(Exception):
    """A problem with the data directory or settings, worded for the user."""


def data_dir() -> Path:
    override = os.environ.get("STILLROOM_HOME")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def ensure_writable(directory: Path) -> Path:
    """Create the data directory and prove we can write into it, or say why not."""
    hint = "Set STILLROOM_HOME to a folder you can write to."
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-test-"):
            pass
    except FileExistsError as exc:
        raise ConfigError(f"The data directory {directory} exists but is not a folder. "
                          f"{hint}") from exc
    except NotADirectoryError as exc:
        raise ConfigError(f"The data directory {directory} cannot be created: part of its "
                          f"path is a file. {hint}") from exc
    except PermissionError as exc:
        raise ConfigError(f"Stillroom cannot write to its data directory {directory} "
                          f"(permission denied). {hint}") from exc
    except OSError as exc:
        raise ConfigError(f"Stillroom cannot write to its data directory {directory} "
                          f"({exc.strerror or exc}). {hint}") from exc
    return directory


def database_url(directory: Path) -> str:
    return os.environ.get("STILLROOM_DATABASE_URL") or f"sqlite:///{directory / 'stillroom.db'}"


@dataclass(slots=True)
class Settings:
    default_model: str | None = None
    system_prompt: str | None = None
    temperature: float = 0.7
    max_tokens: int = 512
    context_length: int | None = None
    threads: int | None = None
    # The CPU's rated power, for the labelled energy estimate where no sensor measures it.
    cpu_tdp_watts: float | None = None
    # Offline mode: the whole process may reach nothing but loopback (routing.offline).
    offline: bool = False
    # False: hardware no sensor measures is "not measured" rather than estimated.
    allow_power_estimates: bool = True
    # Money settings for the usage ledger (docs/COST_MATH.md). None means unknown, and the
    # part of a cost that needs it is recorded as unknown, never as $0.
    kwh_usd: float | None = None
    hardware_usd: float | None = None
    # The hardware's expected life: three years, the amortization period the seeds use.
    amortize_months: float = 36
    # Hours a day the machine is expected to generate over that life; None: 30% of the day
    # (app.metering.answer_cost.DEFAULT_BUSY_HOURS_PER_DAY).
    busy_hours_per_day: float | None = None
    # What each local answer would have cost in the cloud. The cloud's small-model tier is
    # the fair comparison for the small open models run locally; a frontier model would
    # inflate the savings.
    reference_cloud_model: str | None = "gpt-4o-mini"
    # The local judge (routing/sensitivity/judge.py): a second opinion on text the policy
    # would send to the cloud after the fast gate let it through. "on", "off", or "auto":
    # on when a model fit to judge is installed (app/turn/judge_step.py: an instruct model of
    # JUDGE_MIN_PARAMETERS or more that fits this machine). It only ever runs for cloud-bound
    # text, so on a machine with no cloud provider it costs nothing either way.
    judge: str = "auto"
    # None: the largest installed instruct model that fits this machine.
    judge_model: str | None = None
    # Longer than this (from the request reaching the loaded model) and the text stays local.
    judge_timeout_s: float = 8.0
    # `stillroom serve` in front of other boxes: their base URLs (Stillroom servers,
    # llama-server, vLLM); `--replica URL` on the command line replaces the list.
    replicas: list[str] | None = None


def load_settings(path: Path) -> tuple[Settings, list[FileProblem]]:
    """Read settings; return them with a problem for anything that was ignored.

    Fail closed: a file that cannot be read (truncated, not JSON, not an object, unreadable)
    or an ``offline`` value that is not true/false leaves offline mode ON, so a damaged file
    never sends the next prompt to the cloud. A bad value of another setting falls back to
    its default. Either way the bad file is copied aside before anything rewrites it, and it
    is never overwritten here: the user's edits stay on disk to be fixed.
    """
    raw, problem = read_json_file(path, "The settings file")
    if raw is MISSING:
        return Settings(), []
    if problem is not None:
        return _private_settings(), [_offline_kept(problem)]
    if not isinstance(raw, dict):
        return _private_settings(), [_offline_kept(file_problem(
            path, f"The settings file {path} holds {type(raw).__name__}, not a JSON object "
                  f"of settings; fix it or remove it."))]
    settings, complaints = Settings(), []
    known = {f.name: f for f in fields(Settings)}
    for key, value in raw.items():
        if key == "version":
            continue
        if key not in known:
            complaints.append(f"unknown setting {_short(key)} ignored")
            continue
        if not _fits(value, key):
            if key == "offline":
                settings.offline = True
                complaints.append(f"'offline' = {_short(value)} is not true or false, so "
                                  f"offline mode stays on")
                continue
            if key == "judge":  # fail closed: a damaged value never turns the judge off
                settings.judge = "on"
                complaints.append(f"'judge' = {_short(value)} is not auto, on or off, so the "
                                  f"judge is on")
                continue
            default = getattr(settings, key)
            kept = "left unset" if default is None else f"using {default!r}"
            complaints.append(f"'{key}' = {_short(value)} is not valid; {kept}")
            continue
        setattr(settings, key, value)
    # One line per setting; the copy is made once (same bytes, same copy).
    return settings, [file_problem(path, f"{path}: {complaint}.") for complaint in complaints]


def _private_settings() -> Settings:
    """The most private state: offline on (the router then keeps every cloud route off)."""
    return Settings(offline=True)


def _offline_kept(problem: FileProblem) -> FileProblem:
    if "offline mode stays on" in problem.message:
        return problem
    return replace(problem, message=f"{problem.message.rstrip('.')}; offline mode stays on "
                                    f"until it is fixed.")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _is_number(value: object) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


# How each setting is checked; anything not listed must be a string.
_RULES: dict[str, Callable[[object], bool]] = {
    "temperature": lambda v: _is_number(v) and 0 <= v <= 2,
    "max_tokens": _is_positive_int,
    "context_length": _is_positive_int,
    "threads": _is_positive_int,
    "cpu_tdp_watts": lambda v: _is_number(v) and v > 0,
    "allow_power_estimates": lambda v: isinstance(v, bool),
    "offline": lambda v: isinstance(v, bool),
    # 0 is a real answer for money ("the electricity is free", "the hardware is paid off").
    "kwh_usd": lambda v: _is_number(v) and v >= 0,
    "hardware_usd": lambda v: _is_number(v) and v >= 0,
    "amortize_months": lambda v: _is_number(v) and v > 0,
    "busy_hours_per_day": lambda v: _is_number(v) and 0 < v <= 24,
    "reference_cloud_model": lambda v: isinstance(v, str) and bool(v.strip()),
    "judge": lambda v: v in JUDGE_MODES,
    "judge_model": lambda v: isinstance(v, str) and bool(v.strip()),
    "judge_timeout_s": lambda v: _is_number(v) and 0 < v <= 600,
    "replicas": lambda v: isinstance(v, list) and all(
        isinstance(url, str) and url.strip().startswith(("http://", "https://"))
        for url in v),
}
# Settings that must always have a value; the others accept null (unknown / not set).
_REQUIRED = {"temperature", "max_tokens", "allow_power_estimates", "amortize_months",
             "offline", "judge", "judge_timeout_s"}


def _fits(value: object, key: str) -> bool:
    if value is None:
        return key not in _REQUIRED
    rule = _RULES.get(key)
    return rule(value) if rule else isinstance(value, str)


def save_settings(path: Path, settings: Settings) -> None:
    write_json_atomic(path, {"version": SETTINGS_VERSION, **asdict(settings)})
