"""The MLX engine (Apple's array framework, through mlx-lm), for MLX model directories.

Same contract as the llama.cpp engine: an owner thread runs every MLX call (one thread for
all MLX models, see mlx_shared.mlx_owner), `stream` hands chunks back through a queue,
cancellation is checked between tokens, the KV cache of one turn is reused by the next, and
stop strings and timings are handled by the same helpers. `mlx` and `mlx_lm` are imported
only when a model loads, so the app runs where the optional extra is not installed and says
how to install it when an MLX model is picked. The batched engine for the office server is
mlx_batching.BatchedMlxEngine; what the two share is in mlx_shared.

On Apple Silicon MLX runs on the GPU (Metal). It also runs on the CPU (Linux, `mlx[cpu]`),
where the tests run it; there the weights are computed in float32 (mlx_shared.load_mlx).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inference.engines.mlx_shared import (
    JSON_SCHEMA_NEEDS_LLAMA,
    AnswerWriter,
    common_prefix,
    load_mlx,
    mlx_missing_message,
    mlx_owner,
    prompt_tokens,
    refuse_unsupported,
    release_mlx_memory,
    request_sampler,
)
from inference.engines.owned_engine import OwnedEngine, StreamJob
from inference.engines.owner_thread import OwnerThread
from inference.engines.types import (
    ChatMessage,
    ContextOverflowError,
    ModelInfo,
    ModelLoadError,
)
from inference.models.safetensors_dir import ModelDirError, read_model_dir

# Kept importable from here: callers and tests name them by this module.
__all__ = ["JSON_SCHEMA_NEEDS_LLAMA", "MlxEngine", "_mlx_owner", "mlx_missing_message"]
_mlx_owner = mlx_owner


class MlxEngine(OwnedEngine):
    """One MLX model directory loaded with mlx_lm; every call on it runs on the MLX thread."""

    def __init__(self, model: ModelInfo, context_length: int | None = None) -> None:
        self.model = model
        self.requested_context = context_length
        self._owner: OwnerThread | None = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._context_length = 0
        # The KV cache of the last answer and the tokens it holds, so the next turn of the
        # conversation prefills only what is new (what llama-cpp-python does for GGUFs).
        self._cache: list[Any] | None = None
        self._cached_tokens: list[int] = []

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def queue_depth(self) -> int:
        """Requests waiting for (or being served by) the MLX thread, this model's or not:
        they wait all the same."""
        return self._owner.pending if self._owner is not None else 0

    def load(self) -> None:
        if self.loaded:
            return
        try:
            summary = read_model_dir(self.model.path)
        except ModelDirError as exc:
            raise ModelLoadError(str(exc)) from exc
        owner = mlx_owner()
        owner.call(lambda: self._load_on_owner(summary.context_length))
        self._owner = owner

    def unload(self) -> None:
        owner, self._owner = self._owner, None
        if owner is not None:
            owner.call(self._close_on_owner)  # the thread stays: see mlx_owner

    def _load_on_owner(self, trained_context: int | None) -> None:
        loaded = load_mlx(self.model, trained_context, self.requested_context)
        self._model, self._tokenizer = loaded.model, loaded.tokenizer
        self._context_length = loaded.context_length

    def _close_on_owner(self) -> None:
        self._model = self._tokenizer = self._cache = None
        self._cached_tokens = []
        release_mlx_memory()

    # -- prompts -----------------------------------------------------------------------
    def _prompt_tokens(self, messages: Sequence[ChatMessage]) -> list[int]:
        return prompt_tokens(self._tokenizer, messages)

    # -- generation --------------------------------------------------------------------
    def _generate(self, job: StreamJob) -> None:
        from mlx_lm import stream_generate

        model, tokenizer, request = self._model, self._tokenizer, job.request
        refuse_unsupported(request)
        if model is None:
            raise ModelLoadError(f"{self.model.name} was unloaded.")
        prompt = self._prompt_tokens(request.messages)
        n_prompt = len(prompt)
        if n_prompt >= self._context_length:
            raise ContextOverflowError(n_prompt, self._context_length)
        budget = self._context_length - n_prompt
        max_tokens = budget if request.max_tokens is None else min(request.max_tokens, budget)
        cache, reused = self._reuse_cache(prompt)
        answer = AnswerWriter(job, n_prompt, reused, budget)
        responses = stream_generate(model, tokenizer, prompt[reused:],
                                    max_tokens=max(1, max_tokens),
                                    sampler=request_sampler(request), prompt_cache=cache)
        # Until this answer ends cleanly the cache's contents are not known: forget them.
        self._cache, self._cached_tokens = None, []
        fed = list(prompt)  # the tokens the cache will hold: the prompt, then each one sampled
        try:
            for response in responses:
                fed.append(response.token)
                if response.finish_reason == "stop":
                    # The end-of-turn token: its text is what the streaming detokenizer
                    # still held back (a partial character, usually "").
                    answer.end_of_turn(response.text)
                    self._keep_cache(cache, fed)
                    return
                logprob = None
                if request.logprobs:
                    # The vector is log-softmax of the raw logits (before temperature), as
                    # the llama.cpp engine reports it, so confidence scores compare.
                    logprob = float(response.logprobs[response.token].item())
                if answer.token(response.text, logprob,
                                last=response.finish_reason == "length") is not None:
                    self._keep_cache(cache, fed)
                    return
        finally:
            responses.close()
        # Not reached: stream_generate always ends with a response that has a finish_reason.
        answer.end_of_turn("")

    def _reuse_cache(self, prompt: list[int]) -> tuple[list[Any], int]:
        """The KV cache to continue from and how many prompt tokens it already holds.

        The cache is cut back to the longest common prefix of what it holds and the new
        prompt; at least the prompt's last token is always run again, for fresh logits.
        """
        from mlx_lm.models.cache import (
            can_trim_prompt_cache,
            make_prompt_cache,
            trim_prompt_cache,
        )

        cache, cached = self._cache, self._cached_tokens
        if cache is not None and can_trim_prompt_cache(cache):
            shared = common_prefix(cached, prompt, limit=len(prompt) - 1)
            if shared > 0:
                trim_prompt_cache(cache, len(cached) - shared)
                return cache, shared
        return make_prompt_cache(self._model), 0

    def _keep_cache(self, cache: list[Any], fed: list[int]) -> None:
        """Keep the cache for the next turn. generate_step runs each sampled token through
        the model before handing it out, so the cache holds every token received, the
        end-of-turn token included."""
        self._cache, self._cached_tokens = cache, fed

