import json
from pathlib import Path

import pytest

from app.config import (
    ConfigError,
    Settings,
    data_dir,
    ensure_writable,
    load_settings,
    save_settings,
)


def test_stillroom_home_overrides_the_data_directory(stillroom_home: Path) -> None:
    assert data_dir() == stillroom_home


def test_a_data_directory_under_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="part of its path is a file"):
        ensure_writable(blocker / "data")
    with pytest.raises(ConfigError, match="exists but is not a folder"):
        ensure_writable(blocker)


def test_an_unwritable_data_directory_is_refused() -> None:
    # /proc refuses new entries even to root, which chmod-based tests cannot rely on.
    with pytest.raises(ConfigError, match="cannot write to its data directory"):
        ensure_writable(Path("/proc/stillroom-test"))


def test_settings_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    save_settings(path, Settings(default_model="x", temperature=0.2, max_tokens=99))
    assert load_settings(path) == (Settings(default_model="x", temperature=0.2,
                                            max_tokens=99), [])


def test_bad_settings_are_reported_and_left_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"temperature": 9, "max_tokens": "lots", "colour": "red",
                                "system_prompt": "Be kind."}))
    settings, warnings = load_settings(path)
    assert settings == Settings(system_prompt="Be kind.")
    assert len(warnings) == 3 and any("'colour'" in w for w in warnings)
    path.write_text("{not json")
    settings, warnings = load_settings(path)
    assert settings == Settings() and "not valid JSON" in warnings[0]
    assert path.read_text() == "{not json"
