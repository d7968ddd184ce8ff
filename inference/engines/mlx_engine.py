"""The MLX engine (Apple's array framework, through mlx-lm), for MLX model directories.

Same contract as the llama.cpp engine: an owner thread runs every MLX call (one thread for
all MLX models, see _mlx_owner), `stream` hands chunks back through a queue, cancellation is
checked between tokens, the KV cache of one turn is reused by the next, and stop strings and
timings are handled by the same helpers. `mlx` and `mlx_lm` are imported only when a model
loads, so the app runs where the optional extra is not installed and says how to install it
when an MLX model is picked.

On Apple Silicon MLX runs on the GPU (Metal). It also runs on the CPU (Linux, `mlx[cpu]`),
where the tests run it; there the weights are computed in float32, see _upcast_for_cpu.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from inference.engines.owned_engine import (
    DEFAULT_CONTEXT,
    FALLBACK_TEMPLATE,
    OwnedEngine,
    StreamJob,
    answer_timings,
    split_at_stop,
)
from inference.engines.owner_thread import OwnerThread
from inference.engines.types import (
    ChatMessage,
    Chunk,
    ContextOverflowError,
    EngineError,
    FinishReason,
    ModelInfo,
    ModelLoadError,
    TokenLogprob,
)
from inference.models.safetensors_dir import ModelDirError, read_model_dir

# mlx-lm has no grammar-constrained sampling we could rely on for a JSON schema yet.
JSON_SCHEMA_NEEDS_LLAMA = ("JSON-schema output needs a llama.cpp model (a GGUF); pick one "
                           "with --model, or use a template without a schema.")

INSTALL_HINT = "install it with: pip install 'stillroom[mlx]'"
_shared_owner: OwnerThread | None = None
_shared_owner_lock = threading.Lock()


def _mlx_owner() -> OwnerThread:
    """The one thread that runs every MLX call, for every MLX model; it is never stopped.

    MLX aborts the whole process at exit ("terminate called without an active exception",
    status 134; mlx 0.32.4, measured) when a thread that generated with it ended earlier.
    So the thread outlives the models: unloading frees a model, not its thread. One thread
    for all MLX models also fits the hardware, where they would share one GPU anyway.
    """
    global _shared_owner
    with _shared_owner_lock:
        if _shared_owner is None:
            _shared_owner = OwnerThread("model-owner:mlx")
        return _shared_owner


def mlx_missing_message(model_name: str) -> str:
    return f"{model_name} is an MLX model, and MLX is not installed here; {INSTALL_HINT}."


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
        owner = _mlx_owner()
        owner.call(lambda: self._load_on_owner(summary.context_length))
        self._owner = owner

    def unload(self) -> None:
        owner, self._owner = self._owner, None
        if owner is not None:
            owner.call(self._close_on_owner)  # the thread stays: see _mlx_owner

    def _load_on_owner(self, trained_context: int | None) -> None:
        try:
            import mlx.core as mx
            from mlx_lm import load as mlx_load
        except ImportError as exc:
            raise ModelLoadError(mlx_missing_message(self.model.name)) from exc
        try:
            model, tokenizer = mlx_load(self.model.path)
        except (ValueError, KeyError, OSError) as exc:
            # mlx_lm says "Model type X not supported." for an unknown architecture.
            raise ModelLoadError(f"MLX could not load {self.model.name}: {exc}") from exc
        if mx.default_device() == mx.cpu:
            _upcast_for_cpu(mx, model)
        self._model, self._tokenizer = model, tokenizer
        # MLX grows its KV cache as it goes; the limit is ours, as llama.cpp's n_ctx is.
        self._context_length = self.requested_context or min(trained_context or DEFAULT_CONTEXT,
                                                             DEFAULT_CONTEXT)

    def _close_on_owner(self) -> None:
        self._model = self._tokenizer = self._cache = None
        self._cached_tokens = []
        try:
            import mlx.core as mx

            mx.clear_cache()  # hand the freed buffers back now, not at the next allocation
        except ImportError:
            pass

    # -- prompts -----------------------------------------------------------------------
    def _prompt_tokens(self, messages: Sequence[ChatMessage]) -> list[int]:
        tokenizer = self._tokenizer
        template = None if tokenizer.has_chat_template else FALLBACK_TEMPLATE
        rendered = tokenizer.apply_chat_template(
            [{"role": m.role, "content": m.content} for m in messages],
            add_generation_prompt=True, tokenize=False, chat_template=template,
        )
        # The rendered template already holds its special tokens (BOS included where the
        # template wants one); adding them again would double them.
        return list(tokenizer.encode(rendered, add_special_tokens=False))

    # -- generation --------------------------------------------------------------------
    def _generate(self, job: StreamJob) -> None:
        import mlx.core as mx
        from mlx_lm import stream_generate
        from mlx_lm.sample_utils import make_sampler

        model, tokenizer, request = self._model, self._tokenizer, job.request
        if request.json_schema is not None:
            raise EngineError(JSON_SCHEMA_NEEDS_LLAMA)
        if model is None:
            raise ModelLoadError(f"{self.model.name} was unloaded.")
        prompt = self._prompt_tokens(request.messages)
        n_prompt = len(prompt)
        if n_prompt >= self._context_length:
            raise ContextOverflowError(n_prompt, self._context_length)
        budget = self._context_length - n_prompt
        max_tokens = budget if request.max_tokens is None else min(request.max_tokens, budget)
        # The sampler draws from MLX's global generator; seeding it makes a run repeatable.
        mx.random.seed(request.seed if request.seed is not None
                       else time.time_ns() & 0x7FFFFFFF)
        sampler = make_sampler(temp=request.temperature, top_p=request.top_p,
                               top_k=request.top_k)
        cache, reused = self._reuse_cache(prompt)

        stops = tuple(s for s in request.stop if s)
        held = ""  # text withheld because it may be the start of a stop string
        started, first_at = job.started, None
        generated = 0
        finish: FinishReason | None = None
        responses = stream_generate(model, tokenizer, prompt[reused:],
                                    max_tokens=max(1, max_tokens), sampler=sampler,
                                    prompt_cache=cache)
        # Until this answer ends cleanly the cache's contents are not known: forget them.
        self._cache, self._cached_tokens = None, []
        fed = list(prompt)  # the tokens the cache will hold: the prompt, then each one sampled
        try:
            for response in responses:
                now = time.perf_counter()
                if first_at is None:
                    first_at = now
                fed.append(response.token)
                if response.finish_reason == "stop":
                    # The end-of-turn token: not part of the answer. Its text is what the
                    # streaming detokenizer still held back (a partial character, usually "").
                    text, held, _ = split_at_stop(held + response.text, stops)
                    tail = text + held
                    held = ""
                    job.chunks.put(Chunk(
                        text=tail, prompt_tokens=n_prompt, completion_tokens=generated,
                        timings=answer_timings(started, first_at, now, n_prompt, reused, generated),
                        finish_reason="stop",
                    ))
                    self._keep_cache(cache, fed)
                    return
                generated += 1
                text = response.text
                logprobs = None
                if request.logprobs:
                    # The vector is log-softmax of the raw logits (before temperature), as
                    # the llama.cpp engine reports it, so confidence scores compare.
                    chosen = float(response.logprobs[response.token].item())
                    logprobs = (TokenLogprob(token=text, logprob=chosen),)
                if stops:
                    text, held, hit = split_at_stop(held + text, stops)
                    if hit:
                        finish = "stop"
                if response.finish_reason == "length" and finish is None:
                    finish = "length" if generated < budget else "context"
                    text, held = text + held, ""
                if finish is None and job.stopped():
                    finish = "cancelled"
                job.chunks.put(Chunk(
                    text=text, prompt_tokens=n_prompt, completion_tokens=generated,
                    timings=answer_timings(started, first_at, now, n_prompt, reused, generated),
                    finish_reason=finish, logprobs=logprobs,
                ))
                if finish is not None:
                    self._keep_cache(cache, fed)
                    return
        finally:
            responses.close()
        # Not reached: stream_generate always ends with a response that has a finish_reason.
        now = time.perf_counter()
        job.chunks.put(Chunk(
            text=held, prompt_tokens=n_prompt, completion_tokens=generated,
            timings=answer_timings(started, first_at or now, now, n_prompt, reused, generated),
            finish_reason="stop",
        ))

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
            limit = min(len(cached), len(prompt) - 1)
            shared = 0
            while shared < limit and cached[shared] == prompt[shared]:
                shared += 1
            if shared > 0:
                trim_prompt_cache(cache, len(cached) - shared)
                return cache, shared
        return make_prompt_cache(self._model), 0

    def _keep_cache(self, cache: list[Any], fed: list[int]) -> None:
        """Keep the cache for the next turn. generate_step runs each sampled token through
        the model before handing it out, so the cache holds every token received, the
        end-of-turn token included."""
        self._cache, self._cached_tokens = cache, fed


def _upcast_for_cpu(mx: Any, model: Any) -> None:
    """Compute in float32 on the CPU.

    MLX's CPU kernels for half precision are far slower than for float32 (measured on a
    2-core x86 VM with SmolLM2-135M 4-bit: float16 scales 0.17 tok/s, bfloat16 1.1 tok/s,
    float32 8 tok/s). Packed quantized weights stay packed; only their scales and biases,
    norms and any unquantized tensors widen.
    """
    from mlx.utils import tree_map

    half = (mx.float16, mx.bfloat16)
    model.update(tree_map(lambda p: p.astype(mx.float32) if p.dtype in half else p,
                          model.parameters()))
    mx.eval(model.parameters())
