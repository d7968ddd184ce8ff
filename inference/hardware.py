"""What this machine is: CPU, memory, GPUs and the engines that can run on it.

Each probe is cheap and never raises: a missing library or driver is reported, not fatal.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import psutil

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class GpuInfo:
    name: str
    vendor: str
    memory_bytes: int | None
    source: str  # how we know: "nvml", "apple-silicon", ...


@dataclass(frozen=True, slots=True)
class EngineAvailability:
    name: str
    available: bool
    version: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class MachineReport:
    os: str
    python: str
    cpu: str
    physical_cores: int | None
    logical_cores: int | None
    ram_total_bytes: int
    ram_available_bytes: int
    gpus: list[GpuInfo] = field(default_factory=list)
    engines: list[EngineAvailability] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def cpu_name() -> str:
    if sys.platform == "darwin":
        try:
            return subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True,
                timeout=2, check=True,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


@cache
def default_thread_counts() -> tuple[int, int]:
    """(decode threads, prompt-processing threads).

    Decode is memory-bound and slows down when it shares cores with hyper-threads or
    efficiency cores, so it gets the physical (on Apple Silicon: performance) cores;
    prompt processing is compute-bound and takes every logical core.
    """
    logical = psutil.cpu_count(logical=True) or os.cpu_count() or 1
    physical = psutil.cpu_count(logical=False) or logical
    if sys.platform == "darwin":
        performance = _sysctl_int("hw.perflevel0.physicalcpu")
        if performance:
            physical = performance
    return max(1, physical), max(1, logical)


def _sysctl_int(name: str) -> int | None:
    try:
        out = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=2)
        return int(out.stdout.strip())
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def detect_gpus() -> list[GpuInfo]:
    gpus = _nvidia_gpus()
    if sys.platform == "darwin" and platform.machine() == "arm64":
        # Apple Silicon shares one memory pool between CPU and GPU.
        gpus.append(GpuInfo(name=cpu_name(), vendor="Apple",
                            memory_bytes=psutil.virtual_memory().total, source="apple-silicon"))
    return gpus


def _each_nvidia_device(describe: Callable[[Any, Any, str], T]) -> list[T]:
    """describe(pynvml, handle, name) for every NVIDIA GPU; empty where NVML cannot run.

    NVML is opened and closed around each call: it is cheap, and no handle outlives a
    driver reload.
    """
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # ImportError, or an NVMLError when no driver is loaded
        return []
    try:
        found = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            name = pynvml.nvmlDeviceGetName(handle)
            found.append(describe(pynvml, handle,
                                  name if isinstance(name, str) else name.decode()))
        return found
    except pynvml.NVMLError:
        return []
    finally:
        pynvml.nvmlShutdown()


def _nvidia_gpus() -> list[GpuInfo]:
    return _each_nvidia_device(lambda nvml, handle, name: GpuInfo(
        name=name, vendor="NVIDIA", source="nvml",
        memory_bytes=int(nvml.nvmlDeviceGetMemoryInfo(handle).total)))


@dataclass(frozen=True, slots=True)
class GpuLoad:
    name: str
    utilisation_percent: int
    memory_used_bytes: int
    memory_total_bytes: int


def nvidia_gpu_load() -> list[GpuLoad]:
    """Current use of each NVIDIA GPU through NVML; empty where there is no driver."""
    def describe(nvml: Any, handle: Any, name: str) -> GpuLoad:
        memory = nvml.nvmlDeviceGetMemoryInfo(handle)
        return GpuLoad(name=name,
                       utilisation_percent=int(nvml.nvmlDeviceGetUtilizationRates(handle).gpu),
                       memory_used_bytes=int(memory.used), memory_total_bytes=int(memory.total))

    return _each_nvidia_device(describe)


def _package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def detect_engines() -> list[EngineAvailability]:
    engines = []
    version = _package_version("llama-cpp-python")
    if version is None:
        engines.append(EngineAvailability("llama.cpp", False, None,
                                          "llama-cpp-python is not installed"))
    else:
        engines.append(EngineAvailability("llama.cpp", True, version, _llama_backend()))
    mlx_version = _package_version("mlx-lm")
    if mlx_version and importlib.util.find_spec("mlx") is not None:
        device = "Metal GPU" if sys.platform == "darwin" else "CPU only"
        engines.append(EngineAvailability("mlx", True, mlx_version, device))
    else:
        engines.append(EngineAvailability(
            "mlx", False, None,
            "not installed (pip install 'stillroom[mlx]'; Metal on Apple Silicon, CPU on Linux)"))
    return engines


def _llama_backend() -> str:
    backends = llama_gpu_backends()
    if backends is None:
        return "installed"
    return "GPU offload: " + ", ".join(backends) if backends else "CPU build (no GPU offload)"


def llama_gpu_backends() -> list[str] | None:
    """Which accelerators this llama-cpp-python build was compiled with ([] for a CPU
    build, None when it is not installed).

    Reading the shared libraries' names avoids loading llama.cpp (and its backends) just to
    answer `doctor` or a fit estimate.
    """
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return None
    lib_dir = Path(next(iter(spec.submodule_search_locations))) / "lib"
    names = {p.name for p in lib_dir.glob("*")} if lib_dir.exists() else set()
    return [label for marker, label in (("cuda", "CUDA"), ("metal", "Metal"),
                                        ("vulkan", "Vulkan"), ("hip", "ROCm"))
            if any(marker in n for n in names)]


def probe() -> MachineReport:
    memory = psutil.virtual_memory()
    return MachineReport(
        os=f"{platform.system()} {platform.release()} ({platform.machine()})",
        python=platform.python_version(),
        cpu=cpu_name(),
        physical_cores=psutil.cpu_count(logical=False),
        logical_cores=psutil.cpu_count(logical=True),
        ram_total_bytes=memory.total,
        ram_available_bytes=memory.available,
        gpus=detect_gpus(),
        engines=detect_engines(),
    )
