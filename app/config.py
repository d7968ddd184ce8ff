"""Where Stillroom keeps its data, and the user's settings.

`STILLROOM_HOME` replaces the whole data directory (tests, portable installs);
`STILLROOM_DATABASE_URL` points the store at another database (an office PostgreSQL).
Secrets never come here: they live in the OS keyring.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from inference.files import write_json_atomic

APP_NAME = "Stillroom"
SETTINGS_VERSION = 1


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


def load_settings(path: Path) -> tuple[Settings, list[str]]:
    """Read settings; return them with warnings for anything that was ignored.

    A broken file is never overwritten here: the user's edits stay on disk to be fixed.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings(), []
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return Settings(), [f"{path} is not valid JSON ({exc}); using default settings."]
    if not isinstance(raw, dict):
        return Settings(), [f"{path} does not hold a JSON object; using default settings."]
    settings, warnings = Settings(), []
    known = {f.name: f for f in fields(Settings)}
    for key, value in raw.items():
        if key == "version":
            continue
        if key not in known:
            warnings.append(f"{path}: unknown setting '{key}' ignored.")
            continue
        default = getattr(settings, key)
        if not _fits(value, default, key):
            warnings.append(f"{path}: '{key}' = {value!r} is not valid; using {default!r}.")
            continue
        setattr(settings, key, value)
    return settings, warnings


def _fits(value: object, default: object, key: str) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if value is None:
        return key not in {"temperature", "max_tokens"}
    if key == "cpu_tdp_watts":
        return isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    if key == "temperature":
        return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 2
    if key in {"max_tokens", "context_length", "threads"}:
        return isinstance(value, int) and not isinstance(value, bool) and value > 0
    return isinstance(value, str)


def save_settings(path: Path, settings: Settings) -> None:
    write_json_atomic(path, {"version": SETTINGS_VERSION, **asdict(settings)})
