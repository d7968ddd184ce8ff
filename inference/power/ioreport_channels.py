"""What the IOReport sensor and its ctypes reader share: the channel group read, one
channel's reading, and the error for a machine where IOReport cannot be used."""

from __future__ import annotations

from dataclasses import dataclass

ENERGY_MODEL_GROUP = "Energy Model"


class IOReportUnavailable(RuntimeError):
    """IOReport cannot be used on this machine; the message says why."""


@dataclass(frozen=True)
class ChannelReading:
    """One channel of an IOReport sample, as the C API reports it."""

    group: str
    subgroup: str
    channel: str
    unit: str
    value: int
