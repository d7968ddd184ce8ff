"""What the single-stream and the batched MLX engines share: the one MLX thread, loading a
model directory (and saying how to install MLX when it is missing), the prompt, the sampler,
and turning each sampled token's text into a Chunk (stop strings, finish reasons, timings).

`mlx` and `mlx_lm` are imported only inside functions that run when a model loads or
generates, so importing this module needs neither.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from inference.engines.owned_engine import (
    DEFAULT_CONTEXT,
    FALLBACK_TEMPLATE,
    StreamJob,
    answer_timings,
    split_at_stop,
)
from inference.engines.owner_thread import OwnerThread
from inference.engines.types import (
    ChatMessage,
    Chunk,
    EngineError,
    FinishReason,
    GenerationRequest,
    ModelInfo,
    ModelLoadError,
    TokenLogprob,
)

# mlx-lm has no grammar-constrained sampling we could rely on for a JSON schema yet.
JSON_SCHEMA_NEEDS_LLAMA = ("JSON-schema output needs a llama.cpp model (a GGUF); pick one "
                           "with --model, or use a template without a schema.")

INSTALL_HINT = "install it with: pip install 'stillroom[mlx]'"
_shared_owner: OwnerThread | None = None
_shared_owner_lock = threading.Lock()


def mlx_owner() -> OwnerThread:
    """The one thread that runs every MLX call, for every MLX model; it is never stopped.

    MLX aborts the whole process at exit ("terminate called without an active exception",
    status 134; mlx 0.32.4, measured) when a thread that generated with it ended earlier.
    So the thread outlives the models: unloading frees a model, not its thread. No MLX call
    may run on any other thread either: mlx-lm's compiled functions (activations, samplers)
    used on the main thread after MLX was imported here leave entries in the main thread's
    compile cache that MLX frees after Python has finalized (a segfault at exit, status 139;
    measured). One thread for all MLX models also fits the hardware, where they would share
    one GPU anyway.
    """
    global _shared_owner
    with _shared_owner_lock:
        if _shared_owner is None:
            _shared_owner = OwnerThread("model-owner:mlx")
        return _shared_owner


def mlx_missing_message(model_name: str) -> str:
    return f"{model_name} is an MLX model, and MLX is not installed here; {INSTALL_HINT}."


@dataclass(frozen=True, slots=True)
class LoadedMlx:
    model: Any  # mlx.nn.Module
    tokenizer: Any  # mlx_lm's TokenizerWrapper
    context_length: int  # what one request may use, prompt and answer together


def load_mlx(info: ModelInfo, trained_context: int | None,
             requested_context: int | None) -> LoadedMlx:
    """Load an MLX model directory (on the MLX thread). ModelLoadError, written for the
    user, when MLX is missing or mlx_lm cannot load the model."""
    try:
        import mlx.core as mx
        from mlx_lm import load as mlx_load
    except ImportError as exc:
        raise ModelLoadError(mlx_missing_message(info.name)) from exc
    try:
        model, tokenizer = mlx_load(info.path)
    except (ValueError, KeyError, OSError) as exc:
        # mlx_lm says "Model type X not supported." for an unknown architecture.
        raise ModelLoadError(f"MLX could not load {info.name}: {exc}") from exc
    if mx.default_device() == mx.cpu:
        _upcast_for_cpu(mx, model)
    # MLX grows its KV cache as it goes; the limit is ours, as llama.cpp's n_ctx is.
    context = requested_context or min(trained_context or DEFAULT_CONTEXT, DEFAULT_CONTEXT)
    return LoadedMlx(model, tokenizer, context)


def release_mlx_memory() -> None:
    """Hand MLX's freed buffers back now, not at the next allocation (after an unload)."""
    try:
        import mlx.core as mx

        mx.clear_cache()
    except ImportError:
        pass


def prompt_tokens(tokenizer: Any, messages: Sequence[ChatMessage]) -> list[int]:
    template = None if tokenizer.has_chat_template else FALLBACK_TEMPLATE
    rendered = tokenizer.apply_chat_template(
        [{"role": m.role, "content": m.content} for m in messages],
        add_generation_prompt=True, tokenize=False, chat_template=template,
    )
    # The rendered template already holds its special tokens (BOS included where the
    # template wants one); adding them again would double them.
    return list(tokenizer.encode(rendered, add_special_tokens=False))


def refuse_unsupported(request: GenerationRequest) -> None:
    if request.json_schema is not None:
        raise EngineError(JSON_SCHEMA_NEEDS_LLAMA)


def request_sampler(request: GenerationRequest) -> Callable[[Any], Any]:
    """A sampler (log-probabilities -> token ids) for one request, with its own random key.

    Its own key, split at every token, rather than MLX's global generator: a seeded request
    then draws the same tokens whether it runs alone or beside other requests in a batch,
    where the global generator would be shared by every sequence. Temperature 0 is greedy;
    a negative temperature samples the model's distribution unchanged (top_p and top_k off),
    as the llama.cpp engines do. top_p is applied before top_k, as mlx_lm's make_sampler.
    """
    import mlx.core as mx
    from mlx_lm.sample_utils import apply_top_k, apply_top_p, greedy_sampler

    if request.temperature == 0:
        # mlx_lm's own function: BatchGenerator samples a batch whose sequences all share
        # one sampler object in one call.
        return greedy_sampler
    seed = request.seed if request.seed is not None else time.time_ns() & 0x7FFFFFFF
    filters: list[Callable[[Any], Any]] = []
    scale = 1.0
    if request.temperature > 0:
        scale = 1.0 / request.temperature
        top_p, top_k = request.top_p, request.top_k
        if 0 < top_p < 1.0:
            filters.append(lambda x: apply_top_p(x, top_p))
        if top_k > 0:
            filters.append(lambda x: apply_top_k(x, top_k))
    key = [mx.random.key(seed)]

    def sample(logprobs: Any) -> Any:
        for keep in filters:
            logprobs = keep(logprobs)
        key[0], draw = mx.random.split(key[0])
        return mx.random.categorical(logprobs * scale, key=draw)

    return sample


class AnswerWriter:
    """Turns one answer's tokens, as text, into Chunks on its job's queue: running counts,
    timings, stop strings (the text that may begin one is held back), max_tokens and the
    context limit, cancellation. Engine-neutral: the caller detokenizes."""

    def __init__(self, job: StreamJob, n_prompt: int, reused: int, budget: int) -> None:
        self.job = job
        self.n_prompt = n_prompt
        self.reused = reused
        self.budget = budget  # context left after the prompt: hitting it is finish "context"
        self.generated = 0
        self.first_at: float | None = None
        self.finish: FinishReason | None = None
        self._stops = tuple(s for s in job.request.stop if s)
        self._held = ""

    def token(self, text: str, logprob: float | None, last: bool) -> FinishReason | None:
        """One answer token and its text; `last`: the token limit was reached with it.
        Returns the finish reason once the answer is over (a stop string, the limit, or a
        cancel seen now), else None."""
        now = self._mark()
        self.generated += 1
        logprobs = (TokenLogprob(token=text, logprob=logprob),) if logprob is not None else None
        if self._stops:
            text, self._held, hit = split_at_stop(self._held + text, self._stops)
            if hit:
                self.finish = "stop"
        if last and self.finish is None:
            self.finish = "length" if self.generated < self.budget else "context"
        if self.finish is None and self.job.stopped():
            self.finish = "cancelled"
        if self.finish is not None and self.finish != "stop":
            text += self._take_held()  # the held text was real output after all
        self._put(text, now, logprobs)
        return self.finish

    def end_of_turn(self, tail: str) -> None:
        """The model's end-of-turn token (not part of the answer); `tail` is what the
        detokenizer still held back, usually ""."""
        now = self._mark()
        text, held, hit = split_at_stop(self._held + tail, self._stops)
        self._held = ""
        self.finish = "stop"
        self._put(text if hit else text + held, now)

    def cancel(self, tail: str = "") -> None:
        """End between tokens: one last chunk with what was held back."""
        self.finish = "cancelled"
        self._put(self._take_held() + tail, time.perf_counter())

    def _mark(self) -> float:
        now = time.perf_counter()
        if self.first_at is None:
            self.first_at = now
        return now

    def _take_held(self) -> str:
        held, self._held = self._held, ""
        return held

    def _put(self, text: str, now: float,
             logprobs: tuple[TokenLogprob, ...] | None = None) -> None:
        self.job.chunks.put(Chunk(
            text=text, prompt_tokens=self.n_prompt, completion_tokens=self.generated,
            timings=answer_timings(self.job.started, self.first_at or now, now, self.n_prompt,
                                   self.reused, self.generated),
            finish_reason=self.finish, logprobs=logprobs,
        ))


def common_prefix(a: Sequence[int], b: Sequence[int], limit: int) -> int:
    """How many leading tokens `a` and `b` share, at most `limit`."""
    limit = min(len(a), len(b), limit)
    shared = 0
    while shared < limit and a[shared] == b[shared]:
        shared += 1
    return shared


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
