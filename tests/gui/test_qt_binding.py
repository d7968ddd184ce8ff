"""The Qt binding itself: emitting signals must not leak or steal references.

PySide6 6.12.0's SignalInstance.emit() returns True without the reference it owes, so each
emit takes one away from True; on Python 3.11 the interpreter aborts ("bool_dealloc") after
a few thousand emits — a few long streamed answers. pyproject excludes that release; this
test catches any other that behaves the same. It runs in a child process because the
failure is an abort, not an exception.
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT

SCRIPT = """
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal

class Source(QObject):
    sig = Signal(int, str, dict)

app = QCoreApplication([])
source = Source()
received = []
source.sig.connect(lambda number, text, figures: received.append(number))
before = sys.getrefcount(True)
for number in range(20_000):
    source.sig.emit(number, "token", {"done": False})
print(len(received), sys.getrefcount(True) - before)
"""


def test_twenty_thousand_emits_keep_true_alive_and_balanced() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            timeout=300, cwd=REPO_ROOT,
                            env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, (
        "the Qt binding aborted the interpreter while emitting signals (PySide6 6.12.0's "
        f"reference bug?): {result.stderr[-500:]}")
    received, true_delta = (int(word) for word in result.stdout.split())
    assert received == 20_000
    assert abs(true_delta) < 100
