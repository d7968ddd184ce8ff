"""Which models are loaded: load on first use, keep the most recent ones, unload the rest."""

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
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._lock = threading.Lock()

    def engine_for(self, model: ModelInfo) -> Engine:
        """The loaded engine for `model`, loading it (and unloading the oldest) if needed."""
        with self._lock:
            engine = self._engines.get(model.id)
            if engine is not None and engine.model.path == model.path:
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

    def _create(self, model: ModelInfo) -> Engine:
        if model.format == "gguf" and self.batch is not None:
            return BatchedLlamaEngine(model, replace(
                self.batch, context_per_slot=self.batch.context_per_slot
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
