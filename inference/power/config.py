"""Settings that decide which power sensors are opened and how energy windows behave."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_POWERCAP_ROOT = Path("/sys/class/powercap")


@dataclass(frozen=True)
class PowerConfig:
    """User-facing power settings; every field has a safe default.

    allow_estimates: when False nothing is ever estimated and an unmeasured machine reports
        "not measured" instead of a number.
    cpu_tdp_watts: the CPU's rated TDP used by the estimate; None means look it up from the CPU
        model name, and an unknown CPU then gets no estimate at all.
    cpu_model_name: overrides the model name read from the OS (for the TDP lookup).
    powercap_root: where the Linux powercap tree lives; tests point it at a fabricated tree.
    nvml_power_poll_interval_s: sampling period of the fallback that integrates NVML power on
        GPUs without an energy counter.
    idle_baseline_s: how long an energy window samples the machine before a generation to learn
        its idle draw; 0 disables the baseline and the window reports gross energy.
    min_updates_per_phase: a phase (prefill or decode) must span at least this many counter
        updates of a sensor before that sensor's energy is split between the phases; otherwise
        counter granularity would dominate the split.
    """

    enable_nvml: bool = True
    enable_rapl: bool = True
    enable_ioreport: bool = True
    allow_estimates: bool = True
    cpu_tdp_watts: float | None = None
    cpu_model_name: str | None = None
    powercap_root: Path = DEFAULT_POWERCAP_ROOT
    nvml_power_poll_interval_s: float = 0.1
    idle_baseline_s: float = 0.5
    min_updates_per_phase: int = 10
