"""Will a model fit this machine? An estimate made before loading (or downloading) it.

Memory needed = the weights (the file's tensor data) + the KV cache at the chosen context
(2 x layers x KV heads x head size x context x 2 bytes for the default f16 cache) + a
runtime allowance for compute buffers. It is compared with what the machine can give:
available RAM on a CPU build, unified memory on Apple Silicon, VRAM when layers are
offloaded to an NVIDIA GPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import psutil

from inference.gguf_file import GGUFSummary

KV_BYTES_PER_VALUE = 2  # f16 cache, llama.cpp's default
RUNTIME_OVERHEAD_BYTES = 300 * 1024 * 1024
RUNTIME_OVERHEAD_FRACTION = 0.05

Verdict = Literal["fits", "tight", "too-big", "unknown"]


@dataclass(frozen=True, slots=True)
class FitEstimate:
    verdict: Verdict
    needed_bytes: int | None
    available_bytes: int
    weights_bytes: int
    kv_cache_bytes: int | None
    context_length: int
    memory_kind: str  # "RAM", "unified memory", "VRAM"
    explanation: str


def kv_cache_bytes(summary: GGUFSummary, context_length: int) -> int | None:
    layers, heads, kv_heads, width = (summary.block_count, summary.head_count,
                                      summary.head_count_kv, summary.embedding_length)
    if not (layers and heads and width):
        return None
    head_size = width // heads
    return 2 * layers * (kv_heads or heads) * head_size * context_length * KV_BYTES_PER_VALUE


def estimate_fit(summary: GGUFSummary, context_length: int, *,
                 available_bytes: int | None = None, memory_kind: str = "RAM") -> FitEstimate:
    available = available_bytes if available_bytes is not None \
        else psutil.virtual_memory().available
    weights = summary.size_bytes
    kv = kv_cache_bytes(summary, context_length)
    if kv is None:
        return FitEstimate("unknown", None, available, weights, None, context_length,
                           memory_kind, "the file does not describe its attention layers")
    needed = int((weights + kv) * (1 + RUNTIME_OVERHEAD_FRACTION)) + RUNTIME_OVERHEAD_BYTES
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
                       explanation)
