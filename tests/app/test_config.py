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
    assert len(warnings) == 3 and any("'colour'" in str(w) for w in warnings)
    path.write_text("{not json")
    settings, warnings = load_settings(path)
    # Fail closed: a file that cannot be read leaves offline mode on.
    assert settings == Settings(offline=True) and "not valid JSON" in str(warnings[0])
    assert path.read_text() == "{not json"


def test_cost_settings_default_to_unknown_money_and_a_small_reference_model() -> None:
    settings = Settings()
    assert (settings.kwh_usd, settings.hardware_usd, settings.busy_hours_per_day) == (
        None, None, None)
    assert settings.amortize_months == 36 and settings.allow_power_estimates is True
    assert settings.reference_cloud_model == "gpt-4o-mini"


def test_cost_settings_are_validated(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({
        "kwh_usd": 0.15, "hardware_usd": 0, "amortize_months": 24, "busy_hours_per_day": 2.5,
        "reference_cloud_model": "claude-haiku-4-5", "allow_power_estimates": False}))
    settings, warnings = load_settings(path)
    assert warnings == []
    assert (settings.kwh_usd, settings.hardware_usd, settings.amortize_months,
            settings.busy_hours_per_day, settings.reference_cloud_model,
            settings.allow_power_estimates) == (0.15, 0, 24, 2.5, "claude-haiku-4-5", False)

    path.write_text('{"kwh_usd": -1, "hardware_usd": "2000", "amortize_months": 0, '
                    '"busy_hours_per_day": 25, "reference_cloud_model": " ", '
                    '"allow_power_estimates": 1, "cpu_tdp_watts": Infinity}')
    settings, warnings = load_settings(path)
    assert settings == Settings() and len(warnings) == 7
    # null means "unknown" for money, but a required setting cannot be switched off that way.
    path.write_text('{"kwh_usd": null, "reference_cloud_model": null, '
                    '"amortize_months": null, "allow_power_estimates": null}')
    settings, warnings = load_settings(path)
    assert settings.reference_cloud_model is None and settings.kwh_usd is None
    assert settings.amortize_months == 36 and settings.allow_power_estimates is True
    assert len(warnings) == 2


def test_a_bad_value_of_an_unset_setting_is_said_plainly_never_using_none(
        tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"default_model": 5, "kwh_usd": "cheap"}))
    settings, problems = load_settings(path)
    messages = [problem.message for problem in problems]
    assert settings.default_model is None and settings.kwh_usd is None
    assert not any("None" in message for message in messages), messages
    assert messages[0].endswith("'default_model' = 5 is not valid; left unset.")
    assert messages[1].endswith("'kwh_usd' = 'cheap' is not valid; left unset.")
