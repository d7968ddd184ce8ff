"""The engine interface every local backend implements, and the values that cross it."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length", "context", "cancelled", "error"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    messages: Sequence[ChatMessage]
    max_tokens: int | None = 512
    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 40
    seed: int | None = None
    stop: Sequence[str] = ()
    logprobs: bool = False
    # A JSON schema the answer must follow: the engine constrains sampling to it (llama.cpp's
    # JSON-schema grammar), so a finished answer always parses. None: free text.
    json_schema: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Timings:
    """Where the time of one answer went.

    ttft_s runs from the request reaching the engine to the first token's text; prefill_tps
    counts only the prompt tokens actually evaluated (a reused KV prefix costs nothing), and
    decode_tps counts tokens after the first over the time after the first.
    """

    ttft_s: float | None
    prefill_tps: float | None
    decode_tps: float | None
    total_s: float
    prompt_tokens_evaluated: int = 0
    prompt_tokens_reused: int = 0

    def to_json(self) -> dict[str, float | int | None]:
        return {
            "ttft_s": self.ttft_s,
            "prefill_tps": self.prefill_tps,
            "decode_tps": self.decode_tps,
            "total_s": self.total_s,
            "prompt_tokens_evaluated": self.prompt_tokens_evaluated,
            "prompt_tokens_reused": self.prompt_tokens_reused,
        }


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    token: str
    logprob: float


@dataclass(frozen=True, slots=True)
class Chunk:
    """One step of a streamed answer; counts and timings are running totals."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    timings: Timings
    finish_reason: FinishReason | None = None
    logprobs: tuple[TokenLogprob, ...] | None = None


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What the library knows of one installed model, without loading it."""

    id: str
    name: str
    path: str
    format: Literal["gguf", "mlx"]
    quantization: str | None
    size_bytes: int
    sha256: str | None
    context_length: int | None = None
    architecture: str | None = None
    parameters: int | None = None
    builtin: bool = False
    extra: dict[str, str] = field(default_factory=dict)


class EngineError(Exception):
    """A failure the user can act on; the message is written for them, not for a log."""


class ModelLoadError(EngineError):
    pass


class ContextOverflowError(EngineError):
    def __init__(self, prompt_tokens: int, context_length: int) -> None:
        self.prompt_tokens = prompt_tokens
        self.context_length = context_length
        super().__init__(
            f"The conversation is {prompt_tokens} tokens but the model's context holds "
            f"{context_length}. Start a new conversation, shorten the message, or load the "
            f"model with a longer context."
        )


class RequestTooLongError(EngineError):
    """Prompt plus max_tokens would not fit the context one request may use (a batched
    engine's per-sequence context)."""

    def __init__(self, prompt_tokens: int, max_tokens: int, context_length: int) -> None:
        self.prompt_tokens = prompt_tokens
        self.max_tokens = max_tokens
        self.context_length = context_length
        room = context_length - prompt_tokens
        super().__init__(
            f"The prompt is {prompt_tokens} tokens and max_tokens asks for {max_tokens} more, "
            f"but one request may use {context_length} tokens of context. Set max_tokens to "
            f"{room} or less, or shorten the prompt."
        )


class EngineBusyError(EngineError):
    """The engine's bounded wait queue is full; the request was not taken. Try again later."""

    def __init__(self, message: str, waiting: int) -> None:
        self.waiting = waiting
        super().__init__(message)


class Engine(Protocol):
    """A loaded local model. Implementations serialise all work on one owner thread."""

    model: ModelInfo

    @property
    def loaded(self) -> bool: ...

    @property
    def context_length(self) -> int: ...

    @property
    def queue_depth(self) -> int: ...

    def load(self) -> None: ...

    def unload(self) -> None: ...

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int: ...

    def stream(
        self, request: GenerationRequest, cancel: threading.Event | None = None,
        owner: str = "local",
    ) -> Iterator[Chunk]:
        """`owner` names who asked (a server user): a batched engine admits owners fairly;
        an engine that answers one request at a time has no use for it."""
        ...
