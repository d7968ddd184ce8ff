"""The llama.cpp engine, in-process through llama-cpp-python.

`llama_cpp` is imported only when a model loads, so the app starts fast and runs where the
library is missing. Every call on the model runs on its owner thread; `stream` hands chunks
back through a queue, so the consumer (CLI, GUI worker, HTTP handler) never blocks the model
and the model never waits on the consumer.
"""

from __future__ import annotations

import codecs
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inference.engines.llama_native import (
    FLASH_ATTENTION,
    NativeLog,
    eog_checker,
    import_for_load,
    json_schema_gbnf,
)
from inference.engines.owned_engine import (
    DEFAULT_CONTEXT,
    FALLBACK_TEMPLATE,
    OwnedEngine,
    StreamJob,
    answer_timings,
    split_at_stop,
)
from inference.engines.owner_thread import OwnerThread, start_owner
from inference.engines.types import (
    ChatMessage,
    Chunk,
    ContextOverflowError,
    FinishReason,
    ModelInfo,
    ModelLoadError,
    TokenLogprob,
)
from inference.hardware import default_thread_counts
from inference.models.gguf_file import GGUFError, read_summary

log = logging.getLogger(__name__)

@dataclass(frozen=True, slots=True)
class LlamaSettings:
    context_length: int | None = None  # None: min(model's training context, DEFAULT_CONTEXT)
    n_threads: int | None = None
    n_threads_batch: int | None = None
    n_gpu_layers: int = -1  # all layers when the build can offload; ignored on CPU builds
    n_batch: int = 512
    flash_attention: bool = FLASH_ATTENTION


class LlamaCppEngine(OwnedEngine):
    """One GGUF model loaded in llama.cpp, owned by one thread."""

    def __init__(self, model: ModelInfo, settings: LlamaSettings | None = None) -> None:
        self.model = model
        self.settings = settings or LlamaSettings()
        self._owner: OwnerThread | None = None
        self._llama: Any = None
        self._formatter: Any = None
        self._context_length = 0
        self._pieces: dict[int, bytes] = {}

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._llama is not None

    def load(self) -> None:
        if self.loaded:
            return
        try:
            summary = read_summary(self.model.path)
        except GGUFError as exc:
            raise ModelLoadError(str(exc)) from exc
        self._owner = start_owner(f"model-owner:{self.model.id}",
                                  lambda: self._load_on_owner(summary.context_length))

    def unload(self) -> None:
        owner, self._owner = self._owner, None
        if owner is None:
            return
        owner.call(self._close_on_owner)
        owner.stop()

    def _load_on_owner(self, trained_context: int | None) -> None:
        llama_cpp = import_for_load()
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        settings = self.settings
        threads, batch_threads = default_thread_counts()
        context = settings.context_length or min(trained_context or DEFAULT_CONTEXT,
                                                 DEFAULT_CONTEXT)
        try:
            llama = llama_cpp.Llama(
                model_path=self.model.path,
                n_ctx=context,
                n_batch=settings.n_batch,
                n_threads=settings.n_threads or threads,
                n_threads_batch=settings.n_threads_batch or batch_threads,
                flash_attn=settings.flash_attention,
                n_gpu_layers=settings.n_gpu_layers if llama_cpp.llama_supports_gpu_offload()
                else 0,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            detail = "; ".join(NativeLog.recent_errors) or str(exc)
            raise ModelLoadError(
                f"llama.cpp could not load {self.model.name}: {detail}"
            ) from exc
        template = llama.metadata.get("tokenizer.chat_template") or FALLBACK_TEMPLATE
        vocab = llama._model  # the tokenizer's special-token texts live on the model
        eos_id, bos_id = llama.token_eos(), llama.token_bos()
        self._formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=vocab.token_get_text(eos_id) if eos_id != -1 else "",
            bos_token=vocab.token_get_text(bos_id) if bos_id != -1 else "",
        )
        self._is_eog = eog_checker(llama_cpp, llama._model.vocab)
        self._llama = llama
        # llama.cpp pads the context to a multiple of 256, but llama-cpp-python's token
        # buffer holds only the n_ctx asked for: past it, a prompt fails inside numpy.
        self._context_length = min(llama.n_ctx(), context)
        self._pieces.clear()

    def _close_on_owner(self) -> None:
        llama, self._llama = self._llama, None
        if llama is not None:
            llama.close()

    # -- prompts -----------------------------------------------------------------------
    def _prompt_tokens(self, messages: Sequence[ChatMessage]) -> list[int]:
        rendered = self._formatter(
            messages=[{"role": m.role, "content": m.content} for m in messages]
        )
        return self._llama.tokenize(rendered.prompt.encode("utf-8"), add_bos=False, special=True)

    # -- generation --------------------------------------------------------------------
    def _generate(self, job: StreamJob) -> None:
        llama, request = self._llama, job.request
        if llama is None:
            raise ModelLoadError(f"{self.model.name} was unloaded.")
        prompt = self._prompt_tokens(request.messages)
        n_prompt = len(prompt)
        if n_prompt >= self._context_length:
            raise ContextOverflowError(n_prompt, self._context_length)
        reused = self._reusable_prefix(prompt)
        budget = self._context_length - n_prompt
        max_tokens = budget if request.max_tokens is None else min(request.max_tokens, budget)
        seed = request.seed if request.seed is not None else time.time_ns() & 0x7FFFFFFF
        llama.set_seed(seed)

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stops = tuple(s for s in request.stop if s)
        held = ""  # text withheld because it may be the start of a stop string
        pieces = self._pieces
        started, first_at = job.started, None
        generated = 0
        finish: FinishReason | None = None
        tokens = llama.generate(
            prompt, top_k=request.top_k, top_p=request.top_p, temp=request.temperature,
            repeat_penalty=1.0, reset=True, grammar=_json_grammar(request.json_schema),
        )
        try:
            for token in tokens:
                now = time.perf_counter()
                if first_at is None:
                    first_at = now
                if self._is_eog(token):
                    finish = "stop"
                    break
                generated += 1
                piece = pieces.get(token)
                if piece is None:
                    piece = pieces[token] = llama.detokenize([token])
                text = decoder.decode(piece)
                logprobs = self._logprob(llama, token, text) if request.logprobs else None
                if stops:
                    text, held, hit = split_at_stop(held + text, stops)
                    if hit:
                        finish = "stop"
                if generated >= max_tokens and finish is None:
                    finish = "length" if generated < budget else "context"
                if finish is None and job.stopped():
                    finish = "cancelled"
                job.chunks.put(Chunk(
                    text=text, prompt_tokens=n_prompt, completion_tokens=generated,
                    timings=answer_timings(started, first_at, now, n_prompt, reused, generated),
                    finish_reason=finish, logprobs=logprobs,
                ))
                if finish is not None:
                    return
        finally:
            tokens.close()
        now = time.perf_counter()
        tail = decoder.decode(b"", final=True) + held
        job.chunks.put(Chunk(
            text=tail, prompt_tokens=n_prompt, completion_tokens=generated,
            timings=answer_timings(started, first_at or now, now, n_prompt, reused, generated),
            finish_reason=finish or "stop",
        ))

    def _reusable_prefix(self, prompt: list[int]) -> int:
        """How many prompt tokens llama-cpp-python will take from the KV cache, not re-run."""
        import numpy as np  # llama_cpp's own dependency, loaded with it

        llama = self._llama
        limit = min(llama.n_tokens, len(prompt))
        # One vectorised comparison: a long conversation's prompt has thousands of tokens,
        # and this runs before the first one is evaluated.
        differs = np.flatnonzero(llama.input_ids[:limit] != np.asarray(prompt[:limit]))
        shared = int(differs[0]) if differs.size else limit
        # A fully cached prompt still replays its last token to get fresh logits.
        return shared - 1 if shared == len(prompt) and shared > 0 else shared

    @staticmethod
    def _logprob(llama: Any, token: int, text: str) -> tuple[TokenLogprob, ...]:
        """Log-probability of the sampled token, from the logits it was sampled from.

        The logits of the last evaluated position are still in the context when the
        generator yields, so one log-softmax costs a vocabulary-sized pass, far cheaper than
        `logits_all=True`, which copies every position's logits on every step.
        """
        import numpy as np

        logits = np.ctypeslib.as_array(llama._ctx.get_logits_ith(-1), shape=(llama.n_vocab(),))
        peak = float(logits.max())
        log_total = peak + float(np.log(np.exp(logits - peak).sum()))
        return (TokenLogprob(token=text, logprob=float(logits[token]) - log_total),)



def _json_grammar(schema: Mapping[str, Any] | None) -> Any:
    """llama.cpp's grammar for a JSON schema (None for free text). Built per request: the
    grammar sampler keeps parse state, so one must not be shared between answers."""
    if schema is None:
        return None
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_string(json_schema_gbnf(schema), verbose=False)
