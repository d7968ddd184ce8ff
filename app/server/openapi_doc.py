"""The server's OpenAPI document (GET /openapi.json) as the routes really answer.

FastAPI's default document says every route answers 200 with any JSON and that bad bodies
get 422; ours answer 400 in OpenAI's error shape, stream text/event-stream, and serve the
metrics as Prometheus text. Clients generated from the document, and the schemathesis run
in tests/server/test_openapi_fuzz.py, read this one, so it must say what the server sends."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from openai.types.chat import ChatCompletion
from pydantic import BaseModel


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorBody(BaseModel):
    """OpenAI's error shape (app/server/errors.py writes it)."""

    error: ErrorDetail


class ReplicaHealth(BaseModel):
    url: str
    kind: str
    healthy: bool
    busy: int
    slots: int
    open: int
    problem: str | None


class Health(BaseModel):
    status: str
    model: str
    model_loaded: bool
    queue_depth: int
    slots: int
    replicas: list[ReplicaHealth] | None = None  # only on a front server (--replica)


class ListedModel(BaseModel):
    id: str
    created: int
    object: str
    owned_by: str


class ModelList(BaseModel):
    object: str
    data: list[ListedModel]


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    said = {400: "Bad request: the field named in `param` and what is wrong with it",
            401: "No API key, or a wrong one",
            403: "The route or model is not allowed for this user",
            404: "Unknown model or path",
            405: "Method not allowed on this path",
            413: "Request body over 1 MiB",
            429: "Quota, rate or queue full; Retry-After says when to try again",
            502: "The cloud provider failed and the policy allows no failover",
            503: "Overloaded, or the model could not be loaded"}
    return {status: {"model": ErrorBody, "description": said[status]} for status in statuses}


_ROUTE_HEADER = {"X-Stillroom-Route": {
    "description": "local / onprem / cloud, the policy rule and the router's reason",
    "schema": {"type": "string"}}}

_SSE_EVENT = {"type": "object", "required": ["data"],
              "properties": {"data": {"type": "string"}, "event": {"type": "string"},
                             "id": {"type": "string"}, "retry": {"type": "integer"}}}

CHAT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": ChatCompletion, "headers": _ROUTE_HEADER,
          "description": "The answer (application/json), or with `stream: true` a stream of "
                         "`data: <ChatCompletionChunk>` events ending `data: [DONE]`",
          # OpenAPI 3.1 (what FastAPI writes): the schema of a text/event-stream describes
          # each event; `data` holds a ChatCompletionChunk as JSON, or the last `[DONE]`.
          "content": {"text/event-stream": {"schema": _SSE_EVENT}}},
    **_errors(400, 401, 403, 404, 413, 429, 502, 503)}
MODELS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": ModelList, "description": "The models this user may use"},
    **_errors(401, 429)}
HEALTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Health, "description": "Ready; the default model and the queue"}}
METRICS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Prometheus text exposition format",
          "content": {"text/plain": {"schema": {"type": "string"}}}},
    **_errors(401, 403, 429)}


def chat_examples(model_id: str) -> dict[str, dict[str, Any]]:
    """Request bodies that are answered (200): shown in the document for people, and the
    cases schemathesis sends first, so a real answer's shape is checked every run."""
    ask = [{"role": "user", "content": "Say hello."}]
    return {
        "answer": {"summary": "One answer",
                   "value": {"model": model_id, "messages": ask, "max_tokens": 8}},
        "stream": {"summary": "A stream with its usage chunk",
                   "value": {"model": model_id, "messages": ask, "max_tokens": 8,
                             "stream": True, "stream_options": {"include_usage": True}}},
    }


def install(app: FastAPI) -> None:
    """Replace FastAPI's document builder with one that drops the 422 it adds to every
    route with a body: this server never sends 422 (bad bodies are 400, errors.py)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, routes=app.routes)
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            schemas = document.get("components", {}).get("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
