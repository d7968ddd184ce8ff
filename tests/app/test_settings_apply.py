"""Settings edited while the app runs apply to the next answer, without a restart."""

from pathlib import Path

import pytest

from app.config import Settings, save_settings
from app.services import Services


def _estimate_source(services: Services) -> str:
    """The ledger's energy source line for a window opened now (what the next answer gets)."""
    window = services.energy.open_window()
    window.mark_first_token()
    report = window.stop(prompt_tokens=4, generated_tokens=2)
    return services.energy.source_label(report)


def test_a_changed_tdp_is_used_by_the_next_estimate(stillroom_home: Path) -> None:
    stillroom_home.mkdir(parents=True)
    save_settings(stillroom_home / "settings.json", Settings(cpu_tdp_watts=65))
    services = Services.open()
    try:
        services.energy.wait_until_discovered()
        if any(s.kind == "measured" for s in services.energy.sensors):
            pytest.skip("a measured sensor covers the CPU here, so nothing is estimated")
        assert "65 W TDP (configured)" in _estimate_source(services)
        services.settings.cpu_tdp_watts = 120
        services.apply_settings()
        services.energy.wait_until_discovered()
        source = _estimate_source(services)
        assert "120 W TDP (configured)" in source and "65 W" not in source
        # Turning estimates off applies at once as well.
        services.settings.allow_power_estimates = False
        services.apply_settings()
        services.energy.wait_until_discovered()
        assert _estimate_source(services) == (
            "not measured: no power sensor is live and estimates are turned off")
    finally:
        services.close()
