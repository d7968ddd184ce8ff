"""The wheel `python -m build` makes: what it carries and what it asks pip for.

Built for real (setuptools from the development environment, no build isolation, so no
network), then read as the zip pip would unpack.
"""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import tomllib
import zipfile

import pytest
from packaging.requirements import Requirement

from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    # A copy of the checkout: setuptools writes build/ and *.egg-info next to pyproject.toml.
    source = tmp_path_factory.mktemp("source") / "stillroom"
    shutil.copytree(REPO_ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "tests"))
    # A model file lying in the checkout must still stay out of the wheel.
    (source / "resources" / "models" / "stray.gguf").write_bytes(b"GGUF")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation",
                    "--outdir", str(out), str(source)], check=True, capture_output=True)
    [built] = out.glob("stillroom-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_carries_every_shipped_data_file(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    expected = [
        "resources/policy/default.toml",
        "resources/prices/catalog.json",
        "resources/models/embedded.json",
        "resources/icons/stillroom.png",
        "app/store/migrations/env.py",
        "app/store/migrations/script.py.mako",
    ]
    expected += [str(path.relative_to(REPO_ROOT)) for path in
                 (REPO_ROOT / "resources" / "templates").glob("*.toml")]
    expected += [str(path.relative_to(REPO_ROOT)) for path in
                 (REPO_ROOT / "app" / "store" / "migrations" / "versions").glob("0*.py")]
    assert len(expected) > 10
    assert [name for name in expected if name not in names] == []


def test_the_embedded_model_is_not_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    assert [name for name in wheel.namelist() if name.endswith(".gguf")] == []


def test_the_wheel_asks_for_exactly_the_declared_dependencies(wheel: zipfile.ZipFile) -> None:
    [metadata_name] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    metadata = email.message_from_bytes(wheel.read(metadata_name))
    required = {str(Requirement(line)) for line in metadata.get_all("Requires-Dist")
                if "extra ==" not in line}
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert required == {str(Requirement(line)) for line in project["dependencies"]}
    assert "packaging" in metadata.get_all("Provides-Extra")


def test_the_wheel_installs_the_stillroom_command(wheel: zipfile.ZipFile) -> None:
    [entry_points] = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "[console_scripts]" in text
    assert "stillroom = app.cli.main:main" in text
