"""The one interface every power source implements, and the status records `doctor` prints."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

Scope = Literal["gpu-board", "cpu-package", "soc", "system"]
Kind = Literal["measured", "estimated"]
FamilyState = Literal["live", "unavailable", "disabled", "superseded"]

SCOPES: tuple[Scope, ...] = ("gpu-board", "cpu-package", "soc", "system")
KINDS: tuple[Kind, ...] = ("measured", "estimated")


class SensorReadError(RuntimeError):
    """A live sensor failed to give a reading (GPU lost, file vanished, permission revoked)."""


class PowerSensor(ABC):
    """A cumulative energy counter for one piece of hardware.

    `read_energy_j` returns joules that only ever go up between two calls on the same object:
    hardware counter wraparound and resets are absorbed inside the sensor, so a caller gets the
    energy of an interval by subtracting two readings. The absolute value has no meaning.

    Attributes every sensor sets:
        name: who is measured, e.g. "nvml:0 NVIDIA GeForce RTX 4090" or "rapl:package-0".
        scope: what the figure covers ("gpu-board", "cpu-package", "soc", "system").
        kind: "measured" (a hardware counter or meter) or "estimated" (a model of one).
        method: one sentence a user can read saying how the joules are obtained.
        update_interval_s: how often the underlying counter changes. Intervals shorter than a
            few of these cannot be resolved, which decides whether prefill and decode can be
            told apart.
    """

    name: str
    scope: Scope
    kind: Kind
    method: str
    update_interval_s: float

    @abstractmethod
    def read_energy_j(self) -> float:
        """Cumulative joules; raises SensorReadError when the hardware cannot be read."""

    @abstractmethod
    def close(self) -> None:
        """Release handles and threads; safe to call more than once."""

    def describe(self) -> str:
        return f"{self.name} [{self.scope}, {self.kind}]: {self.method}"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


@dataclass(frozen=True)
class SensorFamilyStatus:
    """What one family of sensors (NVML, RAPL, IOReport, estimate) can do on this machine.

    state is "live" when at least one sensor of the family was opened, "unavailable" when the
    hardware, driver or permission is missing, "disabled" when the user turned it off, and
    "superseded" when it could run but a measured sensor already covers the same hardware.
    """

    family: str
    state: FamilyState
    reason: str
    sensors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        """Human text for `doctor`: the family's state and reason, then one line per sensor."""
        lines = [f"{self.family:<9} {self.state:<11} {self.reason}"]
        lines.extend(f"    {sensor}" for sensor in self.sensors)
        return "\n".join(lines)
