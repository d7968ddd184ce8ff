"""The body of POST /v1/chat/completions, checked, and turned into an AnswerRequest."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.server.answering import AnswerRequest
from app.server.errors import ApiError
from inference.engines.types import ChatMessage


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatRequest(BaseModel):
    # Fields this server does not act on (user, logit_bias, ...) are accepted and ignored,
    # as clients send them routinely; those that change the answer's meaning are refused.
    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=200)
    messages: list[MessageIn] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    n: int | None = Field(default=None, ge=1)
    tools: list[Any] | None = None


def _text(message: MessageIn, index: int) -> str:
    if message.content is None:
        return ""
    if isinstance(message.content, str):
        return message.content
    texts = []
    for part in message.content:
        if part.get("type") != "text" or not isinstance(part.get("text"), str):
            raise ApiError(400, f"messages[{index}].content: only text parts are supported "
                                f"(got {part.get('type')!r}).", param=f"messages[{index}]")
        texts.append(part["text"])
    return "\n".join(texts)


def answer_request(body: ChatRequest, *, user: str | None,
                   allowed_targets: frozenset[str] | None) -> AnswerRequest:
    if body.n not in (None, 1):
        raise ApiError(400, "n: this server returns one choice; send n=1 or leave it out.",
                       param="n")
    if body.tools:
        raise ApiError(400, "tools: tool calls are not supported by this server.",
                       param="tools")
    system: list[str] = []
    conversation: list[ChatMessage] = []
    for index, message in enumerate(body.messages):
        text = _text(message, index)
        if message.role in ("system", "developer"):
            system.append(text)
        elif message.role in ("user", "assistant"):
            conversation.append(ChatMessage(message.role, text))
        else:
            raise ApiError(400, f"messages[{index}].role: {message.role!r} messages are not "
                                f"supported (no tool calls).", param=f"messages[{index}]")
    if not conversation or conversation[-1].role != "user" \
            or not conversation[-1].content.strip():
        raise ApiError(400, "messages: the last message must be a non-empty user message.",
                       param="messages")
    stop = (body.stop,) if isinstance(body.stop, str) else tuple(body.stop or ())
    if len(stop) > 4:
        raise ApiError(400, "stop: at most 4 stop sequences.", param="stop")
    return AnswerRequest(
        prompt=conversation[-1].content, earlier=tuple(conversation[:-1]),
        system_prompt="\n\n".join(system) if system else None, model=body.model,
        max_tokens=body.max_completion_tokens or body.max_tokens,
        temperature=body.temperature, top_p=body.top_p, stop=stop, seed=body.seed,
        user=user, allowed_targets=allowed_targets)
