"""The installer's own files agree with the app: the Qt modules the spec leaves out are ones
the app never imports, the service unit runs the installed binary as its own user with the
hardening in place, and the maintainer scripts are valid shell."""

from __future__ import annotations

import ast
import configparser
import plistlib
import re
import shutil
import subprocess

import pytest

from tests.conftest import REPO_ROOT

PACKAGING = REPO_ROOT / "packaging"


def _qt_modules_the_gui_imports() -> set[str]:
    modules = set()
    for path in (REPO_ROOT / "app" / "gui").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("PySide6."):
                modules.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[1] for alias in node.names
                               if alias.name.startswith("PySide6."))
    return modules


def _qt_modules_the_spec_excludes() -> set[str]:
    spec = (PACKAGING / "stillroom.spec").read_text(encoding="utf-8")
    block = spec[spec.index("qt_excludes = ["):spec.index("excludes = qt_excludes")]
    return set(re.findall(r'"(Qt\w+)"', block))


def test_the_frozen_app_keeps_every_qt_module_the_gui_imports() -> None:
    used = _qt_modules_the_gui_imports()
    assert {"QtCore", "QtGui", "QtWidgets"} <= used  # the reader finds the imports
    excluded = _qt_modules_the_spec_excludes()
    assert "QtWebEngineCore" in excluded  # ... and the spec's list
    assert used & excluded == set(), "the spec excludes Qt modules app/gui imports"


def test_the_service_runs_the_installed_server_as_its_own_user_hardened() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(PACKAGING / "linux" / "stillroom-serve.service")
    service = unit["Service"]
    assert service["User"] == "stillroom"
    assert service["ExecStart"].startswith("/opt/stillroom/stillroom serve ")
    assert service["Environment"] == "STILLROOM_HOME=/var/lib/stillroom"
    for option, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                          ("PrivateTmp", "yes"), ("CapabilityBoundingSet", "")):
        assert service[option] == value, option
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_launchd_job_runs_the_app_bundles_server() -> None:
    job = plistlib.loads((PACKAGING / "macos" / "com.stillroom.serve.plist").read_bytes())
    assert job["Label"] == "com.stillroom.serve"
    assert job["ProgramArguments"][:2] == ["/Applications/Stillroom.app/Contents/MacOS/stillroom",
                                           "serve"]
    assert job["UserName"] == "_stillroom"


@pytest.mark.parametrize("script", ["debian/postinst", "debian/prerm", "debian/postrm"])
def test_the_maintainer_scripts_are_valid_posix_shell(script: str) -> None:
    path = PACKAGING / "linux" / script
    assert path.stat().st_mode & 0o111, f"{script} is not executable"
    result = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_postinst_never_enables_or_starts_the_server() -> None:
    text = (PACKAGING / "linux" / "debian" / "postinst").read_text()
    commands = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert not any(re.search(r"systemctl\s+(enable|start)", line) for line in commands)


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                    reason="desktop-file-validate (desktop-file-utils) is not installed")
def test_the_desktop_entry_is_valid() -> None:
    result = subprocess.run(["desktop-file-validate",
                             str(PACKAGING / "linux" / "stillroom.desktop")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
