"""Which models are loaded: load on first use, keep the most recent ones, unload the rest.

A GGUF model answers one stream at a time (`LlamaCppEngine`) unless batching is wanted:
always (`batch`, as `stillroom serve` and `docs run --parallel` ask), or while someone holds
a share (`share()`: the desktop's in-process server, a document job in the window). The
desktop then has one scheduler for its chat, its jobs and the server's clients, on one copy
of the weights; alone, it keeps the single-stream engine (its first token comes soonest, and
it holds one KV cache, not one per slot).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace

from inference.engines.batching import BatchedLlamaEngine, BatchSettings
from inference.engines.llama_engine import LlamaCppEngine, LlamaSettings
from inference.engines.types import Engine, ModelInfo, ModelLoadError


class EngineManager:
    def __init__(self, settings: LlamaSettings | None = None, max_loaded: int = 1,
                 batch: BatchSettings | None = None) -> None:
        """`batch`: GGUF models load as a BatchedLlamaEngine with these settings (the office
        server: many streams on one copy of the weights); None: one stream at a time."""
        self.settings = settings or LlamaSettings()
        self.max_loaded = max_loaded
        self.batch = batch
        self._shares: list[BatchShare] = []  # oldest first: its settings are the ones used
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def batching(self) -> BatchSettings | None:
        """The settings a GGUF model loads with now; None: one stream at a time."""
        if self.batch is not None:
            return self.batch
        shares = self._shares
        return shares[0].settings if shares else None

    def share(self, settings: BatchSettings) -> BatchShare:
        """Batch GGUF models until the share is released: a loaded single-stream engine is
        swapped at its next use (its answer in progress ends first: the unload queues
        behind it on the owner thread). The first share's settings hold while it lasts."""
        share = BatchShare(self, settings)
        with self._lock:
            self._shares.append(share)
        return share

    def _release(self, share: BatchShare) -> None:
        with self._lock:
            if share in self._shares:
                self._shares.remove(share)

    def engine_for(self, model: ModelInfo) -> Engine:
        """The loaded engine for `model`, loading it (and unloading the oldest) if needed."""
        with self._lock:
            engine = self._engines.get(model.id)
            if engine is not None and engine.model.path == model.path \
                    and self._suits(engine):
                self._engines.move_to_end(model.id)
                return engine
            if engine is not None:
                self._engines.pop(model.id).unload()
            while len(self._engines) >= self.max_loaded:
                _, oldest = self._engines.popitem(last=False)
                oldest.unload()
            engine = self._create(model)
            engine.load()
            self._engines[model.id] = engine
            return engine

    def _suits(self, engine: Engine) -> bool:
        """Whether a loaded engine is the kind wanted now. A batched engine whose shares
        ended stays while it still answers someone: it is swapped once idle."""
        if engine.model.format != "gguf":
            return True
        batched = isinstance(engine, BatchedLlamaEngine)
        if self.batching is not None:
            return batched
        return not batched or engine.queue_depth > 0

    def _create(self, model: ModelInfo) -> Engine:
        batch = self.batching
        if model.format == "gguf" and batch is not None:
            return BatchedLlamaEngine(model, replace(
                batch, context_per_slot=batch.context_per_slot
                or self.settings.context_length, n_threads=self.settings.n_threads,
                n_threads_batch=self.settings.n_threads_batch or self.settings.n_threads))
        if model.format == "gguf":
            return LlamaCppEngine(model, self.settings)
        if model.format == "mlx" and self.batch is not None:
            # Imports no mlx itself either: the engine does that on load.
            from inference.engines.mlx_batching import BatchedMlxEngine

            return BatchedMlxEngine(model, replace(
                self.batch, context_per_slot=self.batch.context_per_slot
                or self.settings.context_length))
        if model.format == "mlx":
            # Imports no mlx itself: the engine does that on load, and says how to install it.
            from inference.engines.mlx_engine import MlxEngine

            return MlxEngine(model, context_length=self.settings.context_length)
        raise ModelLoadError(f"{model.name} is in {model.format} format, which this build of "
                             f"Stillroom cannot run yet.")

    def loaded(self) -> list[ModelInfo]:
        with self._lock:
            return [engine.model for engine in self._engines.values()]

    def queue_depth(self, model_id: str) -> int:
        """How many requests wait on the model; 0 when it is not loaded."""
        with self._lock:
            engine = self._engines.get(model_id)
        return engine.queue_depth if engine is not None else 0

    def unload(self, model_id: str) -> bool:
        with self._lock:
            engine = self._engines.pop(model_id, None)
        if engine is None:
            return False
        engine.unload()
        return True

    def close(self) -> None:
        with self._lock:
            engines = list(self._engines.values())
            self._engines.clear()
        for engine in engines:
            engine.unload()


class BatchShare:
    """A hold on batching (see EngineManager.share); `release()` or use it with `with`."""

    def __init__(self, manager: EngineManager, settings: BatchSettings) -> None:
        self.settings = settings
        self._manager = manager

    def release(self) -> None:
        self._manager._release(self)

    def __enter__(self) -> BatchShare:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()
