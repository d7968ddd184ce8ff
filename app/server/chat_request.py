"""The body of POST /v1/chat/completions, checked, and turned into an AnswerRequest."""

from __future__ import annotations

from typing import Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
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


class JsonSchemaFormat(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1, max_length=64)
    # Named "schema" on the wire; an attribute of that name would shadow BaseModel's.
    json_schema: dict[str, Any] = Field(default_factory=dict, alias="schema")
    strict: bool | None = None


class ResponseFormat(BaseModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


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
    response_format: ResponseFormat | None = None


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


# json_object asks only for "some JSON object"; llama.cpp's grammar for this schema allows any.
_ANY_OBJECT: dict[str, Any] = {"type": "object"}


def _answer_schema(response_format: ResponseFormat | None) -> dict[str, Any] | None:
    """The JSON schema the answer must follow (the engine turns it into a grammar)."""
    if response_format is None or response_format.type == "text":
        return None
    if response_format.type == "json_object":
        return _ANY_OBJECT
    if response_format.json_schema is None:
        raise ApiError(400, "response_format.json_schema: required when type is "
                            "'json_schema' (give its name and schema).",
                       param="response_format")
    schema = response_format.json_schema.json_schema
    if not schema:
        raise ApiError(400, "response_format.json_schema.schema: give the JSON schema the "
                            "answer must follow.", param="response_format")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ApiError(400, f"response_format.json_schema.schema is not a valid JSON schema: "
                            f"{exc.message}", param="response_format") from None
    return schema


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
        user=user, allowed_targets=allowed_targets,
        json_schema=_answer_schema(body.response_format))
