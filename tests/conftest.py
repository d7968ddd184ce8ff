"""Shared fixtures: a private data directory per test and the real embedded model."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.convert.mlx_convert import mlx_available
from inference.engines.llama_engine import LlamaCppEngine
from inference.engines.types import ModelInfo
from inference.models.library import embedded_model
from tests.inference.fake_hub import FakeHub
from tests.postgres_cluster import PostgresCluster, why_unavailable

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def stillroom_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty data directory, as a brand-new user would."""
    home = tmp_path / "home"
    monkeypatch.setenv("STILLROOM_HOME", str(home))
    monkeypatch.delenv("STILLROOM_DATABASE_URL", raising=False)
    _without_a_keyring(monkeypatch)
    return home


def _without_a_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OS keyring, in this process and in the CLI processes a test starts: the same
    state on every machine, and a developer's own keyring is never written. Tests of the
    keyring cases run a real Secret Service of their own (run_with_secret_service, whose
    environment is explicit)."""
    import keyring
    from keyring.backends import fail

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    # keyring keeps the backend it chose in a module global; the test gets keyring's own
    # "no backend", and whatever was there before comes back after it.
    monkeypatch.setattr(keyring.core, "_keyring_backend", fail.Keyring())


@pytest.fixture(scope="session")
def model() -> ModelInfo:
    info = embedded_model()
    if not Path(info.path).exists():
        pytest.fail("The embedded model is missing: run `bash packaging/setup.sh --dev`.")
    return info


@pytest.fixture(scope="session")
def engine(model: ModelInfo):
    """One loaded engine shared by the engine tests (loading is the slow part)."""
    loaded = LlamaCppEngine(model)
    loaded.load()
    yield loaded
    loaded.unload()


def run_cli(*args: str, home: Path, input: str | None = None, timeout: float = 300,
            env: dict[str, str] | None = None,
            prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Run `stillroom` as a user would, in a fresh process."""
    environment = {**os.environ, "STILLROOM_HOME": str(home), **(env or {})}
    environment.pop("DISPLAY", None)
    environment.pop("WAYLAND_DISPLAY", None)
    environment.pop("QT_QPA_PLATFORM", None)
    stdin = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "app.cli.main", *args],
        capture_output=True, text=True, timeout=timeout, env=environment, cwd=REPO_ROOT,
        **stdin,
    )


@pytest.fixture(scope="session")
def f16_model(model: ModelInfo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real full-precision GGUF: the embedded model re-quantized Q4_1 -> F16, once per run
    (the embedded model is the only model we have; its F16 form is what users quantize)."""
    from inference.convert.quantize import quantize

    target = tmp_path_factory.mktemp("f16") / "SmolLM2-135M-Instruct.F16.gguf"
    return quantize(model.path, target, "F16", allow_requantize=True).path


@pytest.fixture
def fake_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """A running fake Hub; huggingface-hub in this process and in child processes (via the
    environment) talks to it and caches into a private HF_HOME."""
    hf_home = tmp_path / "hf-home"
    with FakeHub() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_HOME", str(hf_home))
        monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
        monkeypatch.delenv("HF_TOKEN", raising=False)
        monkeypatch.delenv("HF_HUB_CACHE", raising=False)
        yield hub


def requires(available: bool, reason: str) -> pytest.MarkDecorator:
    """Skip where a real part is missing on a developer's machine; under CI (CI set) never
    skip: the test runs and fails, because CI installs every part the suite needs."""
    return pytest.mark.skipif(not available and not os.environ.get("CI"), reason=reason)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One throw-away PostgreSQL cluster for the whole run (tests/postgres_cluster.py).
    Missing binaries skip on a developer's machine and fail under CI; a cluster that does
    not start always fails."""
    reason = why_unavailable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is needed under CI: {reason}")
        pytest.skip(reason)
    cluster = PostgresCluster()
    try:
        cluster.start()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        log = cluster.log()
        cluster.stop()
        pytest.fail(f"PostgreSQL did not start: {exc}\n{log[-2000:]}")
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """A new, empty database in the test cluster (password in the URL)."""
    return postgres_cluster.url(postgres_cluster.create_database())


@pytest.fixture
def store_url(request: pytest.FixtureRequest, stillroom_home: Path,
              monkeypatch: pytest.MonkeyPatch) -> str:
    """The database this test's store lives in: SQLite in the data directory unless the test
    is parametrized with ``on_both_databases``; then once more in a new PostgreSQL database,
    given to the code (and every CLI process started) as STILLROOM_DATABASE_URL."""
    if getattr(request, "param", "sqlite") == "sqlite":
        stillroom_home.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{stillroom_home / 'stillroom.db'}"
    url = request.getfixturevalue("postgres_url")
    monkeypatch.setenv("STILLROOM_DATABASE_URL", url)
    return url


# Run a test once on SQLite and once on PostgreSQL (the test asks for `store_url`, or for a
# fixture that does, such as tests/server's `serve`).
on_both_databases = pytest.mark.parametrize("store_url", ["sqlite", "postgresql"],
                                            indirect=True)


# -- MLX: a Hugging Face checkpoint derived from the embedded model, and its MLX forms ------
requires_secret_service = requires(
    shutil.which("gnome-keyring-daemon") is not None
    and shutil.which("dbus-run-session") is not None,
    "needs gnome-keyring and dbus (packaging/test.sh installs them)")
requires_unshare = requires(shutil.which("unshare") is not None,
                            "needs util-linux unshare (packaging/test.sh installs it)")
UNLOCK_KEYRING = 'eval "$(printf pw | gnome-keyring-daemon --unlock --components=secrets)"'


def run_with_secret_service(script: str, *args: str, home: Path,
                            timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """Run a Python script in a private D-Bus session with an unlocked GNOME Keyring: the
    real Secret Service, isolated from the user's own. `home` becomes $HOME."""
    shell = f'{UNLOCK_KEYRING} && "{sys.executable}" -c "$SCRIPT" "$@"'
    return subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", shell, "sh", *args], capture_output=True,
        text=True, timeout=timeout, cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", "SCRIPT": script, "HOME": str(home),
             "PYTHONPATH": str(REPO_ROOT)})


requires_mlx = requires(
    mlx_available(),
    "MLX is not installed (packaging/setup.sh --dev installs mlx[cpu] and mlx-lm)")


@pytest.fixture(scope="session")
def hf_checkpoint(model: ModelInfo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded GGUF's own weights as a Hugging Face safetensors checkpoint (float16),
    with a tokenizer rebuilt from its vocabulary; about 5 s, once per run."""
    pytest.importorskip("safetensors", reason="needs safetensors (comes with mlx-lm)")
    from tests.inference.derive_hf_checkpoint import derive

    return derive(model.path, tmp_path_factory.mktemp("hf") / "SmolLM2-135M-Instruct")


@pytest.fixture(scope="session")
def mlx_4bit_dir(hf_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """hf_checkpoint converted to MLX 4-bit by our converter (a real mlx_lm child process)."""
    from inference.convert.mlx_convert import convert

    output = tmp_path_factory.mktemp("mlx") / "SmolLM2-135M-Instruct-mlx-4bit"
    return convert(hf_checkpoint, output, "mlx-4bit").path
