"""Power sensors and per-generation energy accounting.

    sensors = discover_sensors(PowerConfig())
    with EnergyWindow(sensors) as window:
        ...                        # prefill
        window.mark_first_token()
        ...                        # decode
        report = window.stop(prompt_tokens=n_in, generated_tokens=n_out)
    print(report.to_json())

See docs/POWER.md for which sensor is used where and what each figure means.
"""

from inference.power.config import PowerConfig
from inference.power.discovery import (
    SensorProbe,
    describe_sensors,
    discover_sensors,
    probe_sensors,
)
from inference.power.sensor import (
    Kind,
    PowerSensor,
    Scope,
    SensorFamilyStatus,
    SensorReadError,
)
from inference.power.window import (
    EnergyReport,
    EnergyWindow,
    IdleBaseline,
    SensorEnergy,
    measure_idle_baseline,
)

__all__ = [
    "EnergyReport",
    "EnergyWindow",
    "IdleBaseline",
    "Kind",
    "PowerConfig",
    "PowerSensor",
    "Scope",
    "SensorEnergy",
    "SensorFamilyStatus",
    "SensorProbe",
    "SensorReadError",
    "describe_sensors",
    "discover_sensors",
    "measure_idle_baseline",
    "probe_sensors",
]
