"""How long a job has left, worded for a status line (the CLI's and the Documents tab's)."""

from __future__ import annotations


def duration(seconds: float) -> str:
    """'45s', '3m07s', '2h05m'."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
