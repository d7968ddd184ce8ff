"""Continuous batching on one loaded MLX model, with mlx-lm's BatchGenerator.

The same contract as BatchedLlamaEngine (batching.py) for the office server: requests are
queued on the caller's thread (EngineBusyError at once when the wait queue is full), and
steps run on the MLX thread (mlx_shared.mlx_owner), one at a time, each re-submitting the
next while work remains, so other MLX calls (count_tokens, unload, another MLX model) slip
in between steps. Each step

1. takes new arrivals (renders and tokenizes them; a prompt that does not fit, or a JSON
   schema, fails at once),
2. ends cancelled or abandoned requests, waiting or running, between tokens (a running one
   is removed from the BatchGenerator),
3. admits waiting requests while fewer than `slots` run, fairly across owners
   (fair_queue.py), each inserted with its own max_tokens, sampler and, when the same owner
   left one, the KV cache of an earlier answer that shares the prompt's beginning,
4. calls BatchGenerator.next() once: every running sequence decodes one token, and waiting
   prompts are prefilled by up to `n_batch` tokens each, so a long prompt does not stall
   the live streams; each token's text becomes a chunk (mlx_shared.AnswerWriter).

BatchGenerator pipelines: the token it hands out has already been fed to the model and the
next one is being computed. A sequence removed between steps just drops that work.

Stop strings are matched on text, not handed to BatchGenerator's token-sequence stops: a
stop string can be tokenized differently inside an answer than on its own. Temperature,
top_p, top_k and seed are all honoured per request (mlx_shared.request_sampler); JSON
schemas are refused, as by the single-stream MlxEngine.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from inference.engines.batch_sequence import BatchJob, Failure
from inference.engines.batching import DEFAULT_OWNER, BatchSettings, BatchStats, ChunkStream
from inference.engines.fair_queue import FairQueue, WaitLimits
from inference.engines.mlx_shared import (
    AnswerWriter,
    common_prefix,
    load_mlx,
    mlx_owner,
    prompt_tokens,
    refuse_unsupported,
    release_mlx_memory,
    request_sampler,
)
from inference.engines.owned_engine import END
from inference.engines.owner_thread import OwnerThread
from inference.engines.step_loop import StepLoop, fail_job
from inference.engines.types import (
    ChatMessage,
    Chunk,
    ContextOverflowError,
    EngineError,
    GenerationRequest,
    ModelInfo,
    ModelLoadError,
    RequestTooLongError,
)
from inference.models.safetensors_dir import ModelDirError, read_model_dir


@dataclass(frozen=True, slots=True)
class _Waiting:
    job: BatchJob
    prompt: list[int]
    max_tokens: int
    budget: int


@dataclass(slots=True)
class _Running:
    job: BatchJob
    uid: int
    answer: AnswerWriter
    detokenizer: Any  # mlx_lm's streaming detokenizer, one per sequence


@dataclass(slots=True)
class _KeptCache:
    """A finished answer's KV cache, kept for the same owner's next prompt."""

    owner: str
    tokens: list[int]
    cache: list[Any]


class BatchedMlxEngine(StepLoop):
    """One MLX model serving many concurrent streams; the Engine protocol plus `owner`.

    Of BatchSettings it uses slots, context_per_slot, the waiting limits,
    max_running_per_owner, prefix_reuse and n_batch (prefill tokens per sequence per step);
    the thread and GPU-layer settings are llama.cpp's."""

    ENGINE_NAME = "MLX"

    def __init__(self, model: ModelInfo, settings: BatchSettings | None = None) -> None:
        self.model = model
        self.settings = settings or BatchSettings()
        if self.settings.slots < 1 or self.settings.n_batch < 1:
            raise ValueError("BatchSettings needs slots >= 1 and n_batch >= 1.")
        self._owner: OwnerThread | None = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._generator: Any = None  # mlx_lm BatchGenerator, while loaded
        self._end_of_turn: Any = None  # the tokenizer's EOS ids as BatchGenerator stops
        self._context_per_slot = 0
        self._limits = WaitLimits(self.settings.max_waiting, self.settings.max_waiting_per_owner)
        self._arrivals: queue.SimpleQueue[BatchJob] = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards _step_queued and _closed
        self._step_queued = False
        self._closed = True
        # Owner-thread state:
        self._waiting: FairQueue[_Waiting] = FairQueue()
        self._running: dict[int, _Running] = {}  # BatchGenerator uid -> sequence
        self._running_by_owner: dict[str, int] = {}
        # Newest last. A cache is reused only by the owner who left it, so a user cannot
        # learn from a fast first token that someone else sent the same beginning.
        self._kept: list[_KeptCache] = []

    # -- the Engine protocol -------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._generator is not None

    @property
    def context_length(self) -> int:
        """The context one request may use (prompt + answer)."""
        return self._context_per_slot

    @property
    def queue_depth(self) -> int:
        """Requests waiting for a slot plus those running."""
        return self._limits.waiting + len(self._running)

    def stats(self) -> BatchStats:
        return BatchStats(self.settings.slots, len(self._running), self._limits.waiting)

    def load(self) -> None:
        if self.loaded:
            return
        try:
            summary = read_model_dir(self.model.path)
        except ModelDirError as exc:
            raise ModelLoadError(str(exc)) from exc
        owner = mlx_owner()
        owner.call(lambda: self._load_on_owner(summary.context_length))
        with self._lock:
            self._owner = owner
            self._closed = False

    def unload(self) -> None:
        with self._lock:
            self._closed = True
            owner, self._owner = self._owner, None
        if owner is not None:
            owner.call(self._close_on_owner)  # the thread stays: see mlx_owner

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        owner = self._require_loaded()
        return owner.call(lambda: len(prompt_tokens(self._tokenizer, messages)))

    def stream(self, request: GenerationRequest, cancel: threading.Event | None = None,
               owner: str = DEFAULT_OWNER) -> Iterator[Chunk]:
        """Queue the request now (EngineBusyError at once when the wait queue is full) and
        return its chunks. Setting `cancel` or closing the iterator ends it between tokens;
        a prompt that does not fit raises from the first `next()`."""
        self._require_loaded()
        job = BatchJob(request, cancel, owner)
        self._limits.reserve(owner)
        with self._lock:
            if self._closed:
                self._limits.release(owner)
                raise ModelLoadError(f"{self.model.name} is not loaded.")
            self._arrivals.put(job)
        self._schedule_step()
        return ChunkStream(job)

    def _require_loaded(self) -> OwnerThread:
        owner = self._owner
        if not self.loaded or owner is None:
            raise ModelLoadError(f"{self.model.name} is not loaded.")
        return owner

    # -- loading (MLX thread) ------------------------------------------------------------
    def _load_on_owner(self, trained_context: int | None) -> None:
        loaded = load_mlx(self.model, trained_context, self.settings.context_per_slot)
        import mlx.core as mx
        from mlx_lm.generate import BatchGenerator, make_stop_sequences
        from mlx_lm.models.cache import make_prompt_cache

        # What mlx_lm's server checks too: every layer's cache must merge into a batch.
        if not all(hasattr(c, "merge") for c in make_prompt_cache(loaded.model)):
            raise ModelLoadError(f"mlx-lm cannot decode {self.model.name} in batches (its "
                                 f"cache type does not merge), so the server cannot serve it; "
                                 f"`stillroom chat` and the window can.")
        slots = self.settings.slots
        self._generator = BatchGenerator(
            loaded.model, completion_batch_size=slots, prefill_batch_size=slots,
            prefill_step_size=self.settings.n_batch,
            # This thread's stream, as mlx_lm's server does: since mlx 0.31.2 a stream
            # belongs to the thread that made it, and mlx_lm's module-level one to whichever
            # thread imported mlx_lm first ("There is no Stream(gpu, 0) in current thread").
            stream=mx.default_stream(mx.default_device()))
        self._end_of_turn = make_stop_sequences(loaded.tokenizer)
        self._model, self._tokenizer = loaded.model, loaded.tokenizer
        self._context_per_slot = loaded.context_length
        self._kept = []

    def _close_on_owner(self) -> None:
        self._fail_all(ModelLoadError(f"{self.model.name} was unloaded."))
        generator, self._generator = self._generator, None
        if generator is not None:
            generator.close()
        self._model = self._tokenizer = self._end_of_turn = None
        self._kept = []
        release_mlx_memory()

    # -- the step loop (MLX thread; step_loop.py runs it) ---------------------------------
    def _can_step(self) -> bool:
        return self._generator is not None

    def _has_live(self) -> bool:
        return bool(self._running)

    def _checked(self, job: BatchJob) -> _Waiting:
        """Tokenize the prompt and check the request can run and fits one slot's context."""
        refuse_unsupported(job.request)
        prompt = prompt_tokens(self._tokenizer, job.request.messages)
        n_prompt, limit = len(prompt), self._context_per_slot
        if n_prompt >= limit:
            raise ContextOverflowError(n_prompt, limit)
        budget = limit - n_prompt
        asked = job.request.max_tokens
        if asked is not None and asked > budget:
            raise RequestTooLongError(n_prompt, asked, limit)
        return _Waiting(job, prompt, budget if asked is None else max(1, asked), budget)

    def _end_stopped(self) -> None:
        for owner, waiting in self._waiting.remove_if(lambda w: w.job.stopped()):
            self._limits.release(owner)
            AnswerWriter(waiting.job, len(waiting.prompt), 0, waiting.budget).cancel()
            waiting.job.chunks.put(END)
        stopped = [seq for seq in self._running.values() if seq.job.stopped()]
        if stopped:
            self._generator.remove([seq.uid for seq in stopped])
        for seq in stopped:
            seq.detokenizer.finalize()
            seq.answer.cancel(seq.detokenizer.last_segment)
            self._retire(seq)

    def _admit(self) -> None:
        while len(self._running) < self.settings.slots:
            picked = self._waiting.pop_next(self._running_by_owner,
                                            self.settings.max_running_per_owner)
            if picked is None:
                return
            owner, waiting = picked
            self._limits.release(owner)
            try:
                sampler = request_sampler(waiting.job.request)
                cache, reused = self._reusable_cache(owner, waiting.prompt)
                (uid,) = self._generator.insert(
                    [waiting.prompt[reused:]], max_tokens=[waiting.max_tokens],
                    caches=[cache], all_tokens=[waiting.prompt[:reused]],
                    samplers=[sampler], stop_sequences=[self._end_of_turn])
            except Exception as exc:
                fail_job(waiting.job, exc if isinstance(exc, EngineError) else EngineError(
                    f"MLX could not start this request: {exc}"))
                continue
            answer = AnswerWriter(waiting.job, len(waiting.prompt), reused, waiting.budget)
            self._running[uid] = _Running(waiting.job, uid, answer, self._tokenizer.detokenizer)
            self._running_by_owner[owner] = self._running_by_owner.get(owner, 0) + 1

    def _reusable_cache(self, owner: str, prompt: list[int]) -> tuple[Any, int]:
        """The kept cache of `owner` sharing the longest beginning with `prompt`, cut back to
        that beginning, and how many tokens of it are reused (never the whole prompt: its
        last token is run again for fresh logits); (None, 0) when none helps."""
        if not self.settings.prefix_reuse:
            return None, 0
        from mlx_lm.models.cache import can_trim_prompt_cache, trim_prompt_cache

        best, best_shared = None, 0
        for kept in self._kept:
            if kept.owner != owner:
                continue
            shared = common_prefix(kept.tokens, prompt, limit=len(prompt) - 1)
            if shared > best_shared and can_trim_prompt_cache(kept.cache):
                best, best_shared = kept, shared
        if best is None:
            return None, 0
        self._kept.remove(best)  # the batch takes it over
        trim_prompt_cache(best.cache, len(best.tokens) - best_shared)
        return best.cache, best_shared

    def _keep(self, owner: str, tokens: list[int], cache: list[Any]) -> None:
        if not self.settings.prefix_reuse:
            return
        self._kept.append(_KeptCache(owner, list(tokens), cache))
        del self._kept[:-self.settings.slots]  # the oldest go: bounded memory

    def _decode_once(self) -> None:
        if not self._running:
            return
        _prompt_progress, responses = self._generator.next()
        ended_early: list[_Running] = []
        for response in responses:
            seq = self._running[response.uid]
            detokenizer = seq.detokenizer
            if response.finish_reason == "stop":  # the end-of-turn token
                detokenizer.finalize()
                seq.answer.end_of_turn(detokenizer.last_segment)
                self._retire(seq)
                self._keep(seq.job.owner, response.all_tokens, response.prompt_cache)
                continue
            detokenizer.add_token(response.token)
            last = response.finish_reason == "length"
            if last:
                detokenizer.finalize()
            logprob = (float(response.logprobs[response.token].item())
                       if seq.job.request.logprobs else None)
            if seq.answer.token(detokenizer.last_segment, logprob, last) is None:
                continue
            if last:
                self._retire(seq)
                self._keep(seq.job.owner, response.all_tokens, response.prompt_cache)
            else:  # a stop string or a cancel: BatchGenerator would go on
                ended_early.append(seq)
        if ended_early:
            caches = self._generator.remove([seq.uid for seq in ended_early],
                                            return_prompt_caches=self.settings.prefix_reuse)
            for seq in ended_early:
                self._retire(seq)
                if seq.uid in caches and seq.answer.finish == "stop":
                    cache, tokens = caches[seq.uid]
                    self._keep(seq.job.owner, tokens, cache)

    def _retire(self, seq: _Running, failure: BaseException | None = None) -> None:
        """The sequence is out of the BatchGenerator: its chunks end, its slot is free."""
        del self._running[seq.uid]
        owner = seq.job.owner
        left = self._running_by_owner[owner] - 1
        if left:
            self._running_by_owner[owner] = left
        else:
            del self._running_by_owner[owner]
        if failure is not None:
            seq.job.chunks.put(Failure(failure))
        seq.job.chunks.put(END)

    def _fail_running(self, error: BaseException) -> None:
        running = list(self._running.values())
        if running and self._generator is not None:
            # The generator may be what failed; the sequences end below either way.
            with contextlib.suppress(Exception):
                self._generator.remove([seq.uid for seq in running])
        for seq in running:
            seq.answer.finish = "error"
            self._retire(seq, error)

    def _fail_all(self, error: BaseException) -> None:
        while True:
            try:
                job = self._arrivals.get_nowait()
            except queue.Empty:
                break
            self._limits.release(job.owner)
            fail_job(job, error)
        for owner, waiting in self._waiting.remove_if(lambda _w: True):
            self._limits.release(owner)
            fail_job(waiting.job, error)
        self._fail_running(error)


