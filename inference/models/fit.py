"""Will a model fit this machine? An estimate made before loading (or downloading) it.

Memory needed = the weights (the file's tensor data) + the KV cache at the chosen context
(2 x layers x KV heads x head size x context x 2 bytes for the default f16 cache) + a
runtime allowance for compute buffers. It is compared with what the machine can give:
available RAM on a CPU build, unified memory on Apple Silicon, VRAM when layers are
offloaded to an NVIDIA GPU.

With an NVIDIA GPU the estimate also recommends llama.cpp's n_gpu_layers: every layer when
the whole model (and its KV cache) fits in VRAM, otherwise as many layers as fit, the rest
staying in RAM. Apple Silicon runs every layer on the GPU from the one memory pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import psutil

from inference.hardware import GpuInfo, detect_gpus, llama_gpu_backends
from inference.models.gguf_file import GGUFSummary

KV_BYTES_PER_VALUE = 2  # f16 cache, llama.cpp's default
RUNTIME_OVERHEAD_BYTES = 300 * 1024 * 1024
RUNTIME_OVERHEAD_FRACTION = 0.05
# Part of VRAM the driver, CUDA context and other programs keep; never planned for layers.
VRAM_RESERVE_FRACTION = 0.1

Verdict = Literal["fits", "tight", "too-big", "unknown"]


@dataclass(frozen=True, slots=True)
class Offload:
    """The recommended GPU offload, as llama.cpp's n_gpu_layers."""

    n_gpu_layers: int  # 0: CPU only; -1: every layer; else that many layers
    layers_on_gpu: int
    total_layers: int | None
    device: str | None  # the GPU's name; None when the model runs on the CPU
    reason: str


CPU_ONLY = Offload(0, 0, None, None, "no GPU found")


@dataclass(frozen=True, slots=True)
class FitEstimate:
    verdict: Verdict
    needed_bytes: int | None
    available_bytes: int
    weights_bytes: int
    kv_cache_bytes: int | None
    context_length: int
    memory_kind: str  # "RAM", "unified memory", "VRAM", "VRAM + RAM"
    explanation: str
    offload: Offload = CPU_ONLY

    @property
    def n_gpu_layers(self) -> int:
        return self.offload.n_gpu_layers


def kv_cache_bytes(summary: GGUFSummary, context_length: int) -> int | None:
    layers, heads, kv_heads, width = (summary.block_count, summary.head_count,
                                      summary.head_count_kv, summary.embedding_length)
    if not (layers and heads and width):
        return None
    head_size = width // heads
    return 2 * layers * (kv_heads or heads) * head_size * context_length * KV_BYTES_PER_VALUE


def estimate_fit(summary: GGUFSummary, context_length: int, *,
                 available_bytes: int | None = None, memory_kind: str = "RAM",
                 gpus: Sequence[GpuInfo] | None = None,
                 cuda_build: bool | None = None) -> FitEstimate:
    """`gpus` None: detect them, unless `available_bytes` is given (then CPU only, as the
    caller chose the memory to compare with). `cuda_build` None: whether the installed
    llama.cpp can offload to an NVIDIA GPU (a CPU build runs everything from RAM)."""
    if gpus is None:
        gpus = detect_gpus() if available_bytes is None else []
    if cuda_build is None and any(g.vendor == "NVIDIA" for g in gpus):
        cuda_build = any(b in ("CUDA", "Vulkan") for b in llama_gpu_backends() or [])
    ram = available_bytes if available_bytes is not None \
        else psutil.virtual_memory().available
    weights = summary.size_bytes
    kv = kv_cache_bytes(summary, context_length)
    nvidia = [g for g in gpus if g.vendor == "NVIDIA" and g.memory_bytes]
    apple = [g for g in gpus if g.source == "apple-silicon"]
    if kv is None:
        return FitEstimate("unknown", None, ram, weights, None, context_length, memory_kind,
                           "the file does not describe its attention layers")
    needed = int((weights + kv) * (1 + RUNTIME_OVERHEAD_FRACTION)) + RUNTIME_OVERHEAD_BYTES
    layers = summary.block_count
    if apple:
        # One pool: llama.cpp's Metal backend takes every layer. The GPU may use only part
        # of it (Metal's recommended working set, about two thirds of memory on smaller
        # Macs, three quarters on large ones): the smaller of that and free RAM is the limit.
        gpu_share = int((apple[0].memory_bytes or 0) * 2 / 3) or ram
        offload = Offload(-1, layers or 0, layers, apple[0].name,
                          "Apple Silicon: every layer on the GPU, in unified memory")
        return _verdict(needed, min(ram, gpu_share), weights, kv, context_length,
                        "unified memory", offload)
    if not nvidia:
        return _verdict(needed, ram, weights, kv, context_length, memory_kind, CPU_ONLY)
    if not cuda_build:
        no_offload = Offload(0, 0, layers, None, f"{nvidia[0].name} found, but this llama.cpp "
                             f"build has no CUDA: reinstall it with CMAKE_ARGS=-DGGML_CUDA=on")
        return _verdict(needed, ram, weights, kv, context_length, memory_kind, no_offload)
    gpu = max(nvidia, key=lambda g: g.memory_bytes or 0)
    vram = int(gpu.memory_bytes or 0)
    usable = int(vram * (1 - VRAM_RESERVE_FRACTION))
    if needed <= usable:
        offload = Offload(-1, layers or 0, layers, gpu.name,
                          f"the whole model fits in {gpu.name}'s VRAM")
        return _verdict(needed, vram, weights, kv, context_length, "VRAM", offload)
    # Partial offload: each layer carries its share of the weights and of the KV cache;
    # what does not fit on the GPU stays in RAM.
    per_layer = (weights + kv) * (1 + RUNTIME_OVERHEAD_FRACTION) / max(layers or 1, 1)
    on_gpu = max(0, min(layers or 0, int((usable - RUNTIME_OVERHEAD_BYTES) // per_layer)))
    in_ram = needed - int(on_gpu * per_layer)
    offload = Offload(on_gpu, on_gpu, layers, gpu.name if on_gpu else None,
                      f"{on_gpu} of {layers} layers fit in {gpu.name}'s VRAM; the rest run "
                      f"from RAM" if layers else "the file does not say how many layers")
    verdict = _verdict(in_ram, ram, weights, kv, context_length, "RAM", offload).verdict
    gib = 1024 ** 3
    explanation = (f"needs about {needed / gib:.1f} GiB ({weights / gib:.1f} weights + "
                   f"{kv / gib:.2f} KV cache at {context_length} tokens + runtime): "
                   f"{on_gpu} of {layers} layers in {gpu.name}'s {vram / gib:.1f} GiB VRAM, "
                   f"{in_ram / gib:.1f} GiB in RAM of {ram / gib:.1f} GiB available")
    return FitEstimate(verdict, needed, ram, weights, kv, context_length, "VRAM + RAM",
                       explanation, offload)


def _verdict(needed: int, available: int, weights: int, kv: int, context_length: int,
             memory_kind: str, offload: Offload) -> FitEstimate:
    if needed <= available * 0.8:
        verdict: Verdict = "fits"
    elif needed <= available:
        verdict = "tight"
    else:
        verdict = "too-big"
    gib = 1024 ** 3
    explanation = (f"needs about {needed / gib:.1f} GiB ({weights / gib:.1f} weights + "
                   f"{kv / gib:.2f} KV cache at {context_length} tokens + runtime) of "
                   f"{available / gib:.1f} GiB available {memory_kind}")
    return FitEstimate(verdict, needed, available, weights, kv, context_length, memory_kind,
                       explanation, offload)


def summary_of_model_dir(path: str | Path) -> GGUFSummary:
    """What estimate_fit needs, for an MLX / Hugging Face folder: its files' size and the
    attention stack from config.json (layers, heads, KV heads, hidden size). MLX keeps its KV
    cache in the model's dtype; the f16 figure is the same for bf16 and close for others."""
    from inference.models.safetensors_dir import read_config, read_model_dir

    directory = read_model_dir(path)
    config = read_config(directory.path)
    shape = config.get("text_config") or config

    def number(*keys: str) -> int | None:
        for key in keys:
            value = shape.get(key, config.get(key))
            if isinstance(value, int) and value > 0:
                return value
        return None

    return GGUFSummary(
        path=directory.path, version=0, size_bytes=directory.size_bytes,
        data_end=directory.size_bytes, architecture=directory.architecture,
        name=directory.path.name, file_type=directory.quantization,
        context_length=directory.context_length, chat_template=None, size_label=None,
        tensor_count=0, parameter_count=directory.parameter_count or 0,
        block_count=number("num_hidden_layers", "n_layer", "num_layers"),
        embedding_length=number("hidden_size", "n_embd", "d_model"),
        head_count=number("num_attention_heads", "n_head"),
        head_count_kv=number("num_key_value_heads", "num_attention_heads", "n_head"))


def estimate_model_dir_fit(path: str | Path, context_length: int, *,
                           gpus: Sequence[GpuInfo] | None = None) -> FitEstimate:
    """Fit of an MLX folder. MLX runs on Apple Silicon's GPU (unified memory) or on the CPU;
    it never offloads to an NVIDIA GPU, so only an Apple GPU counts."""
    found = detect_gpus() if gpus is None else gpus
    apple = [g for g in found if g.source == "apple-silicon"]
    return estimate_fit(summary_of_model_dir(path), context_length, gpus=apple)
