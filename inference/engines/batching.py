"""Continuous batching on one loaded llama.cpp model: many requests decoded together.

Each request gets a sequence slot (llama.cpp `seq_id`) in one context made with
`n_seq_max` = slots and one KV stream per slot. The owner thread runs steps; each step

1. takes new arrivals (tokenizes them; a prompt that does not fit fails at once),
2. ends cancelled or abandoned requests (waiting or running) between tokens,
3. admits waiting requests into free slots, fairly across owners (fair_queue.py), reusing the
   longest common prefix a free slot still holds in its KV cache,
4. builds one `llama_batch`: one token for every decoding sequence, then prompt chunks of the
   prefilling ones up to `n_batch` tokens (a long prompt is prefilled over several steps, so
   it does not stall the live streams), logits only where a token is sampled,
5. calls `llama_decode` once, samples each sequence with its own sampler chain at its batch
   index, and hands chunks to the consumers; a finished sequence's slot is free again.

Steps are submitted to the model's OwnerThread one at a time (each step re-submits the next
while work remains), so every llama.cpp call stays on that thread and other calls
(count_tokens, unload) slip in between steps.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from inference.engines.batch_sequence import (
    BatchJob,
    Failure,
    LiveSequence,
    sampler_chain,
)
from inference.engines.fair_queue import FairQueue, WaitLimits
from inference.engines.llama_native import (
    FLASH_ATTENTION,
    NativeLog,
    eog_checker,
    flash_attn_type,
    import_for_load,
)
from inference.engines.owned_engine import (
    DEFAULT_CONTEXT,
    END,
    FALLBACK_TEMPLATE,
    answer_timings,
)
from inference.engines.owner_thread import OwnerThread, start_owner
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
from inference.hardware import default_thread_counts
from inference.models.gguf_file import GGUFError, read_summary

DEFAULT_OWNER = "local"


@dataclass(frozen=True, slots=True)
class BatchSettings:
    slots: int = 4  # sequences decoded together (llama.cpp n_seq_max)
    context_per_slot: int | None = None  # None: min(model's training context, DEFAULT_CONTEXT)
    max_waiting: int = 32  # requests queued for a slot before EngineBusyError
    max_waiting_per_owner: int | None = None
    # At most this many slots per owner (None: all). slots - 1 keeps a slot open for anyone
    # else, so a newcomer's first token does not wait for a heavy owner's answer to end.
    max_running_per_owner: int | None = None
    prefix_reuse: bool = True  # a free slot keeps its KV for the next request's common prefix
    n_threads: int | None = None
    n_threads_batch: int | None = None
    n_gpu_layers: int = -1
    n_batch: int = 512  # tokens per llama_decode call: all decode tokens + prompt chunks
    flash_attention: bool = FLASH_ATTENTION

    @classmethod
    def shared(cls, slots: int, max_waiting: int = 32) -> BatchSettings:
        """For an engine several owners use (the office server, the desktop beside a job):
        one slot stays open for anyone but the heaviest owner, so a newcomer's first token
        does not wait for someone else's long answers."""
        return cls(slots=slots, max_waiting=max_waiting,
                   max_running_per_owner=slots - 1 if slots > 1 else None)


@dataclass(frozen=True, slots=True)
class _Waiting:
    job: BatchJob
    prompt: list[int]
    max_tokens: int
    budget: int


@dataclass(frozen=True, slots=True)
class BatchStats:
    slots: int
    running: int
    waiting: int


class BatchedLlamaEngine(StepLoop):
    """One GGUF model serving many concurrent streams; the Engine protocol plus `owner`."""

    ENGINE_NAME = "llama.cpp"

    def __init__(self, model: ModelInfo, settings: BatchSettings | None = None) -> None:
        self.model = model
        self.settings = settings or BatchSettings()
        if self.settings.slots < 1 or self.settings.n_batch < self.settings.slots:
            raise ValueError("BatchSettings needs slots >= 1 and n_batch >= slots.")
        self._owner: OwnerThread | None = None
        self._native: Any = None  # llama_cpp, once loaded
        self._llama_model: Any = None
        self._ctx: Any = None
        self._batch: Any = None
        self._formatter: Any = None
        self._is_eog: Any = None
        self._pieces: dict[int, bytes] = {}
        self._context_per_slot = 0
        self._limits = WaitLimits(self.settings.max_waiting, self.settings.max_waiting_per_owner)
        self._arrivals: queue.SimpleQueue[BatchJob] = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards _step_queued and _closed
        self._step_queued = False
        self._closed = True
        # Owner-thread state:
        self._waiting: FairQueue[_Waiting] = FairQueue()
        self._live: dict[int, LiveSequence] = {}  # slot -> running sequence
        # What each free slot's KV still holds, and whose it was: a prefix is reused only
        # for the same owner, so a user cannot learn from a fast first token that someone
        # else sent the same beginning.
        self._slot_tokens: list[list[int]] = [[] for _ in range(self.settings.slots)]
        self._slot_owner: list[str | None] = [None] * self.settings.slots
        self._running_by_owner: dict[str, int] = {}

    # -- the Engine protocol -------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._ctx is not None

    @property
    def context_length(self) -> int:
        """The context one request may use (prompt + answer)."""
        return self._context_per_slot

    @property
    def queue_depth(self) -> int:
        """Requests waiting for a slot plus those running."""
        return self._limits.waiting + len(self._live)

    def stats(self) -> BatchStats:
        return BatchStats(self.settings.slots, len(self._live), self._limits.waiting)

    def load(self) -> None:
        if self.loaded:
            return
        try:
            summary = read_summary(self.model.path)
        except GGUFError as exc:
            raise ModelLoadError(str(exc)) from exc
        self._owner = start_owner(f"batched-model-owner:{self.model.id}",
                                  lambda: self._load_on_owner(summary.context_length))
        with self._lock:
            self._closed = False

    def unload(self) -> None:
        with self._lock:
            self._closed = True
        owner, self._owner = self._owner, None
        if owner is None:
            return
        owner.call(self._close_on_owner)
        owner.stop()

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        owner = self._require_loaded()
        return owner.call(lambda: len(self._prompt_tokens(messages)))

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

    # -- loading (owner thread) ----------------------------------------------------------
    def _load_on_owner(self, trained_context: int | None) -> None:
        llama_cpp = import_for_load()
        from llama_cpp import _internals
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llama_cpp.llama_backend_init()
        settings = self.settings
        if settings.slots > llama_cpp.llama_max_parallel_sequences():
            raise ModelLoadError(f"llama.cpp decodes at most "
                                 f"{llama_cpp.llama_max_parallel_sequences()} sequences at once.")
        per_slot = settings.context_per_slot or min(trained_context or DEFAULT_CONTEXT,
                                                    DEFAULT_CONTEXT)
        threads, batch_threads = default_thread_counts()
        model_params = llama_cpp.llama_model_default_params()
        if llama_cpp.llama_supports_gpu_offload():
            model_params.n_gpu_layers = 0x7FFFFFFF if settings.n_gpu_layers == -1 \
                else settings.n_gpu_layers
        else:
            model_params.n_gpu_layers = 0
        params = llama_cpp.llama_context_default_params()
        # One KV stream per slot (not unified): each sequence attends over its own cells laid
        # out as in a single-sequence context, so greedy answers match LlamaCppEngine token
        # for token (a unified cache interleaves sequences' cells and the attention sums
        # round differently: measured, answers drift after a few dozen tokens). llama.cpp
        # then splits a batch into ubatches of consecutive seq_ids with equal token counts,
        # hence decode tokens go in slot order and the lowest free slot is taken first.
        params.n_ctx = per_slot * settings.slots
        params.n_seq_max = settings.slots
        params.kv_unified = False
        params.n_batch = settings.n_batch
        params.n_ubatch = min(settings.n_batch, 512)
        params.n_threads = settings.n_threads or threads
        params.n_threads_batch = settings.n_threads_batch or batch_threads
        # The single-stream engine's attention path, so greedy answers agree token for token.
        params.flash_attn_type = flash_attn_type(llama_cpp, settings.flash_attention)
        try:
            model = _internals.LlamaModel(path_model=self.model.path, params=model_params,
                                          verbose=False)
            try:
                ctx = _internals.LlamaContext(model=model, params=params, verbose=False)
            except BaseException:
                model.close()
                raise
        except (ValueError, RuntimeError, OSError) as exc:
            detail = "; ".join(NativeLog.recent_errors) or str(exc)
            raise ModelLoadError(f"llama.cpp could not load {self.model.name}: {detail}") from exc
        template = model.metadata().get("tokenizer.chat_template") or FALLBACK_TEMPLATE
        eos_id, bos_id = model.token_eos(), model.token_bos()
        self._formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=model.token_get_text(eos_id) if eos_id != -1 else "",
            bos_token=model.token_get_text(bos_id) if bos_id != -1 else "",
        )
        self._native = llama_cpp
        self._llama_model = model
        self._batch = llama_cpp.llama_batch_init(settings.n_batch, 0, 1)
        self._is_eog = eog_checker(llama_cpp, model.vocab)
        self._context_per_slot = per_slot
        self._pieces.clear()
        self._slot_tokens = [[] for _ in range(settings.slots)]
        self._slot_owner = [None] * settings.slots
        self._ctx = ctx

    def _close_on_owner(self) -> None:
        gone = ModelLoadError(f"{self.model.name} was unloaded.")
        self._fail_all(gone)
        ctx, self._ctx = self._ctx, None
        if self._batch is not None:
            self._native.llama_batch_free(self._batch)
            self._batch = None
        if ctx is not None:
            ctx.close()
        if self._llama_model is not None:
            self._llama_model.close()
            self._llama_model = None

    # -- prompts -------------------------------------------------------------------------
    def _prompt_tokens(self, messages: Sequence[ChatMessage]) -> list[int]:
        rendered = self._formatter(
            messages=[{"role": m.role, "content": m.content} for m in messages]
        )
        return self._llama_model.tokenize(rendered.prompt.encode("utf-8"), add_bos=False,
                                          special=True)

    def _piece(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            piece = self._pieces[token] = self._llama_model.detokenize([token])
        return piece

    # -- the step loop (owner thread; step_loop.py runs it) -------------------------------
    def _can_step(self) -> bool:
        return self._ctx is not None

    def _has_live(self) -> bool:
        return bool(self._live)

    def _checked(self, job: BatchJob) -> _Waiting:
        """Tokenize the prompt and check it fits one slot's context."""
        prompt = self._prompt_tokens(job.request.messages)
        n_prompt, limit = len(prompt), self._context_per_slot
        if n_prompt >= limit:
            raise ContextOverflowError(n_prompt, limit)
        budget = limit - n_prompt
        asked = job.request.max_tokens
        if asked is not None and asked > budget:
            raise RequestTooLongError(n_prompt, asked, limit)
        return _Waiting(job, prompt, budget if asked is None else asked, budget)

    def _end_stopped(self) -> None:
        for owner, waiting in self._waiting.remove_if(lambda w: w.job.stopped()):
            self._limits.release(owner)
            now = time.perf_counter()
            n_prompt = len(waiting.prompt)
            waiting.job.chunks.put(Chunk(
                text="", prompt_tokens=n_prompt, completion_tokens=0,
                timings=answer_timings(waiting.job.started, now, now, n_prompt, 0, 0),
                finish_reason="cancelled",
            ))
            waiting.job.chunks.put(END)
        for seq in list(self._live.values()):
            if seq.job.stopped():
                seq.cancel()
                self._retire(seq)

    def _admit(self) -> None:
        free = [slot for slot in range(self.settings.slots) if slot not in self._live]
        while free:
            picked = self._waiting.pop_next(self._running_by_owner,
                                            self.settings.max_running_per_owner)
            if picked is None:
                return
            owner, waiting = picked
            self._limits.release(owner)
            slot, reused = self._best_slot(free, owner, waiting.prompt)
            free.remove(slot)
            self._native.llama_memory_seq_rm(self._ctx.memory, slot, reused, -1)
            seed = waiting.job.request.seed
            if seed is None:
                seed = time.time_ns() & 0x7FFFFFFF
            try:
                sampler = sampler_chain(self._native, waiting.job.request, seed,
                                        self._llama_model.vocab)
            except EngineError as exc:
                fail_job(waiting.job, exc)
                free.append(slot)
                continue
            except Exception as exc:
                fail_job(waiting.job, EngineError(f"llama.cpp could not make a sampler: {exc}"))
                free.append(slot)
                continue
            self._live[slot] = LiveSequence(
                waiting.job, slot, waiting.prompt, reused, waiting.max_tokens, waiting.budget,
                sampler,
            )
            self._running_by_owner[owner] = self._running_by_owner.get(owner, 0) + 1

    def _best_slot(self, free: list[int], owner: str, prompt: list[int]) -> tuple[int, int]:
        """The free slot whose kept KV shares the longest prefix with `prompt`, and how many
        tokens of it to reuse (never the whole prompt: its last token is replayed for
        fresh logits)."""
        if not self.settings.prefix_reuse:
            return free[0], 0
        best, best_shared = free[0], -1
        for slot in free:
            shared = _common_prefix(self._slot_tokens[slot], prompt) \
                if self._slot_owner[slot] == owner else 0
            if shared > best_shared:
                best, best_shared = slot, shared
        return best, min(best_shared, len(prompt) - 1)

    def _decode_once(self) -> None:
        if not self._live:
            return
        native, batch = self._native, self._batch
        room = self.settings.n_batch
        n = 0
        fed: list[tuple[LiveSequence, list[int]]] = []
        sample_at: list[tuple[LiveSequence, int]] = []

        def add(seq: LiveSequence, tokens: list[int], wants_logits: bool) -> None:
            nonlocal n
            start = len(seq.kv_tokens)
            for offset, token in enumerate(tokens):
                batch.token[n] = token
                batch.pos[n] = start + offset
                batch.n_seq_id[n] = 1
                batch.seq_id[n][0] = seq.slot
                batch.logits[n] = False
                n += 1
            if wants_logits:
                batch.logits[n - 1] = True
                sample_at.append((seq, n - 1))
            fed.append((seq, tokens))

        live = sorted(self._live.values(), key=lambda seq: seq.slot)
        for seq in live:  # decoding sequences first: one token each
            if not seq.prefilling and seq.next_token is not None:
                add(seq, [seq.next_token], True)
                room -= 1
        for seq in live:  # then prompt chunks in the room left
            if seq.prefilling and room > 0:
                part = seq.prompt_left()[:room]
                room -= len(part)
                add(seq, part, len(part) == len(seq.prompt_left()))
        if n == 0:
            return
        batch.n_tokens = n
        code = native.llama_decode(self._ctx.ctx, batch)
        if code != 0:
            raise EngineError(f"llama.cpp could not decode the batch (code {code}).")
        for seq, tokens in fed:
            seq.kv_tokens.extend(tokens)
        for seq, index in sample_at:
            token = native.llama_sampler_sample(seq.sampler, self._ctx.ctx, index)
            logprob = self._logprob(index, token) if seq.job.request.logprobs else None
            seq.on_token(token, self._piece, self._is_eog(token), logprob)
            if seq.finish is not None:
                self._retire(seq)

    def _logprob(self, index: int, token: int) -> float:
        """Log-probability of the sampled token from the logits it was sampled from."""
        import numpy as np

        n_vocab = self._native.llama_vocab_n_tokens(self._llama_model.vocab)
        logits = np.ctypeslib.as_array(self._native.llama_get_logits_ith(self._ctx.ctx, index),
                                       shape=(n_vocab,))
        peak = float(logits.max())
        return float(logits[token]) - (peak + float(np.log(np.exp(logits - peak).sum())))

    def _retire(self, seq: LiveSequence, failure: BaseException | None = None) -> None:
        """End a sequence: its chunks end, its slot is free, its KV kept for prefix reuse
        (removed when prefix reuse is off or the sequence failed mid-step)."""
        del self._live[seq.slot]
        self._native.llama_sampler_free(seq.sampler)
        owner = seq.job.owner
        left = self._running_by_owner[owner] - 1
        if left:
            self._running_by_owner[owner] = left
        else:
            del self._running_by_owner[owner]
        if self.settings.prefix_reuse and failure is None:
            self._slot_tokens[seq.slot] = seq.kv_tokens
            self._slot_owner[seq.slot] = owner
        else:
            self._native.llama_memory_seq_rm(self._ctx.memory, seq.slot, -1, -1)
            self._slot_tokens[seq.slot] = []
            self._slot_owner[seq.slot] = None
        if failure is not None:
            seq.job.chunks.put(Failure(failure))
        seq.job.chunks.put(END)

    def _fail_running(self, error: BaseException) -> None:
        for seq in list(self._live.values()):
            seq.finish = "error"
            self._retire(seq, error)

    def _fail_all(self, error: BaseException) -> None:
        self._take_arrivals_as_failed(error)
        for owner, waiting in self._waiting.remove_if(lambda _w: True):
            self._limits.release(owner)
            fail_job(waiting.job, error)
        self._fail_running(error)

    def _take_arrivals_as_failed(self, error: BaseException) -> None:
        while True:
            try:
                job = self._arrivals.get_nowait()
            except queue.Empty:
                return
            self._limits.release(job.owner)
            fail_job(job, error)


class ChunkStream(Iterator[Chunk]):
    """The consumer's side of one request. Closing it, or dropping it unread (garbage
    collected), abandons the request: its sequence ends at the next step."""

    def __init__(self, job: BatchJob) -> None:
        self._job = job
        self._done = False

    def __next__(self) -> Chunk:
        if self._done:
            raise StopIteration
        item = self._job.chunks.get()
        if item is END or isinstance(item, Failure):
            self.close()
            if isinstance(item, Failure):
                raise item.error
            raise StopIteration
        return item  # type: ignore[return-value]

    def close(self) -> None:
        self._done = True
        self._job.abandoned.set()

    def __del__(self) -> None:
        self._job.abandoned.set()


def _common_prefix(a: list[int], b: list[int]) -> int:
    limit = min(len(a), len(b))
    shared = 0
    while shared < limit and a[shared] == b[shared]:
        shared += 1
    return shared

