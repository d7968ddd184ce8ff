"""Every tab and dialog fits at 1024x700, 1280x800 and at 150% and 200% scale, and every
control has a name a screen reader can say.

Each size runs tests/gui/layout_audit.py in its own process (Qt reads QT_SCALE_FACTOR once,
at start), over the real window, services and embedded model. The screenshots go to
$STILLROOM_SCREENSHOTS, or test-artifacts/screenshots/ (git-ignored; CI keeps the folder).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

SCREENSHOTS = Path(os.environ.get("STILLROOM_SCREENSHOTS")
                   or REPO_ROOT / "test-artifacts" / "screenshots")
CASES = {
    "1024x700": ("1024x700", "1"),
    "1280x800": ("1280x800", "1"),
    "1280x800@150%": ("1280x800", "1.5"),
    "1280x800@200%": ("1280x800", "2"),
}
SCENES = {"chat-empty", "chat", "models", "system-prompt", "settings", "policy", "costs",
          "audit", "quantize"}
_audits: dict[str, dict] = {}  # one child process per size, shared by the tests below


def audit(case: str, home: Path) -> dict:
    if case in _audits:
        return _audits[case]
    size, scale = CASES[case]
    out = SCREENSHOTS / case.replace("@", "-at-").replace("%", "pc")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": scale,
           "STILLROOM_HOME": str(home)}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    result = subprocess.run([sys.executable, "-m", "tests.gui.layout_audit", "--size", size,
                             "--out", str(out)], cwd=REPO_ROOT, env=env, capture_output=True,
                            text=True, timeout=900)
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0 and lines, (
        f"the layout audit did not finish (rc {result.returncode}):\n{result.stderr[-3000:]}")
    found = _audits[case] = json.loads(lines[-1])
    # Every scene was rendered: a scene that silently failed to show would pass.
    assert {Path(shot).stem for shot in found["shots"]} >= SCENES, found["shots"]
    return found


@pytest.mark.parametrize("case", list(CASES))
def test_every_tab_and_dialog_fits(case: str, stillroom_home: Path) -> None:
    problems = audit(case, stillroom_home)["problems"]
    assert not problems, "\n".join(problems)


def test_every_control_has_an_accessible_name(stillroom_home: Path) -> None:
    unnamed = audit("1280x800", stillroom_home)["unnamed"]
    assert not unnamed, "\n".join(unnamed)
