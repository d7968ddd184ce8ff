"""One request inside the batched llama.cpp engine: its job, its sequence slot, its sampler
chain, and how each sampled token becomes a Chunk (the same contract as LlamaCppEngine:
running counts, timings, stop strings, max_tokens, finish reasons).

Everything here runs on the model's owner thread.
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Callable
from typing import Any

from inference.engines.llama_native import json_schema_gbnf
from inference.engines.owned_engine import StreamJob, answer_timings, split_at_stop
from inference.engines.types import (
    Chunk,
    EngineError,
    FinishReason,
    GenerationRequest,
    TokenLogprob,
)

# llama-cpp-python's Llama.generate samples with min_p 0.05 and typical_p 1.0 unless told
# otherwise; the batched engine builds the same chain so a seed means the same thing in both.
_MIN_P = 0.05


class BatchJob(StreamJob):
    """A StreamJob that also names who asked (the fairness unit) and can fail."""

    __slots__ = ("owner",)

    def __init__(self, request: GenerationRequest, cancel: Any, owner: str) -> None:
        super().__init__(request, cancel)
        self.owner = owner


class Failure:
    """Put on a job's chunk queue instead of a chunk: the consumer re-raises `error`."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def sampler_chain(llama_cpp: Any, request: GenerationRequest, seed: int,
                  vocab: Any = None) -> Any:
    """A llama.cpp sampler chain for one sequence (freed with llama_sampler_free).

    A request with a JSON schema gets llama.cpp's grammar sampler first in the chain, so
    every later sampler only sees tokens the grammar allows (the same constraint the
    single-stream engine applies through LlamaGrammar). Raises EngineError for a schema
    llama.cpp cannot turn into a grammar."""
    grammar = json_schema_grammar(llama_cpp, request, vocab)
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    add = llama_cpp.llama_sampler_chain_add
    if grammar is not None:
        add(chain, grammar)
    if request.temperature == 0:
        add(chain, llama_cpp.llama_sampler_init_greedy())
    elif request.temperature < 0:
        add(chain, llama_cpp.llama_sampler_init_dist(seed))
    else:
        add(chain, llama_cpp.llama_sampler_init_top_k(request.top_k))
        add(chain, llama_cpp.llama_sampler_init_typical(1.0, 1))
        add(chain, llama_cpp.llama_sampler_init_top_p(request.top_p, 1))
        add(chain, llama_cpp.llama_sampler_init_min_p(_MIN_P, 1))
        add(chain, llama_cpp.llama_sampler_init_temp(request.temperature))
        add(chain, llama_cpp.llama_sampler_init_dist(seed))
    return chain


def json_schema_grammar(llama_cpp: Any, request: GenerationRequest, vocab: Any) -> Any:
    """llama.cpp's grammar sampler for the request's JSON schema, or None for free text.
    Raises EngineError for a schema llama.cpp cannot use."""
    if request.json_schema is None:
        return None
    gbnf = json_schema_gbnf(request.json_schema)
    grammar = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode(), b"root")
    if not grammar:  # llama.cpp returns NULL when it cannot parse the grammar
        raise EngineError("llama.cpp rejected the grammar made from this JSON schema.")
    return grammar


class LiveSequence:
    """A request holding a sequence slot: prefilling its prompt, then decoding token by token.

    `kv_tokens` are the tokens in this sequence's KV cache (what the slot keeps for prefix
    reuse when the request ends); `next_token` is the sampled token not yet decoded.
    """

    def __init__(self, job: BatchJob, slot: int, prompt: list[int], reused: int,
                 max_tokens: int, budget: int, sampler: Any) -> None:
        self.job = job
        self.slot = slot
        self.prompt = prompt
        self.reused = reused
        self.kv_tokens = prompt[:reused]
        self.max_tokens = max_tokens
        self.budget = budget  # context left after the prompt: hitting it is finish "context"
        self.sampler = sampler
        self.next_token: int | None = None
        self.generated = 0
        self.first_at: float | None = None
        self.finish: FinishReason | None = None
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._stops = tuple(s for s in job.request.stop if s)
        self._held = ""  # text withheld because it may be the start of a stop string

    @property
    def prefilling(self) -> bool:
        return len(self.kv_tokens) < len(self.prompt)

    def prompt_left(self) -> list[int]:
        return self.prompt[len(self.kv_tokens):]

    def on_token(self, token: int, piece: Callable[[int], bytes], is_eog: bool,
                 logprob: float | None) -> None:
        """Turn one sampled token into a chunk for the consumer; sets `finish` at the end."""
        now = time.perf_counter()
        if self.first_at is None:
            self.first_at = now
        if is_eog:
            self.finish = "stop"
            self._put(self._flush(), now)
            return
        self.generated += 1
        self.next_token = token
        text = self._decoder.decode(piece(token))
        logprobs = (TokenLogprob(token=text, logprob=logprob),) if logprob is not None else None
        if self._stops:
            text, self._held, hit = split_at_stop(self._held + text, self._stops)
            if hit:
                self.finish = "stop"
        if self.generated >= self.max_tokens and self.finish is None:
            self.finish = "length" if self.generated < self.budget else "context"
        if self.finish is None and self.job.stopped():
            self.finish = "cancelled"
        if self.finish is not None and self.finish != "stop":
            text += self._flush()  # the held text was real output after all
        self._put(text, now, logprobs)

    def cancel(self) -> None:
        """End between tokens: one last chunk with what was held back."""
        self.finish = "cancelled"
        self._put(self._flush(), time.perf_counter())

    def _flush(self) -> str:
        tail = self._decoder.decode(b"", final=True) + self._held
        self._held = ""
        return tail

    def _put(self, text: str, now: float,
             logprobs: tuple[TokenLogprob, ...] | None = None) -> None:
        n_prompt = len(self.prompt)
        self.job.chunks.put(Chunk(
            text=text, prompt_tokens=n_prompt, completion_tokens=self.generated,
            timings=answer_timings(self.job.started, self.first_at or now, now, n_prompt,
                                   self.reused, self.generated),
            finish_reason=self.finish, logprobs=logprobs,
        ))
