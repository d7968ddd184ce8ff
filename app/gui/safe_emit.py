"""emit(): a Qt signal emitted from Python without PySide6 6.12.0's reference leak.

SignalInstance.emit() in PySide6 6.12.0 returns True without the reference it owes the
caller, so every call from Python takes one reference away from True. On Python 3.11, where
True is not immortal, the count (about 8,500 with the window open) reaches zero after that
many emits and the interpreter aborts with "bool_dealloc: deallocating True or False".
The chat worker emits up to 40 times a second while an answer streams, so a few long
answers were enough. emit() gives the reference back; where the bug is fixed (or True is
immortal, Python 3.12+) the extra reference is harmless.
"""

from __future__ import annotations

import ctypes
from typing import Any


def emit(signal: Any, *args: Any) -> None:
    """`signal.emit(*args)` for a PySide6 SignalInstance, its result's reference balanced."""
    result = signal.emit(*args)
    if result is True or result is False:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(result))
