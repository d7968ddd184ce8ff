"""The office server's HTTP surface: OpenAI-compatible routes over an ``Answerer``.

Responses are built from the `openai` package's own types, so their shapes follow the API
the official SDKs read. Every answer goes through the desktop's turn path (the Answerer),
which applies the sensitivity gate, policy, router, audit log and ledger."""

from __future__ import annotations

import fnmatch
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import anyio
from fastapi import Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from openai.types import CompletionUsage, Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice
from openai.types.chat.chat_completion_chunk import Choice as ChunkChoice
from openai.types.chat.chat_completion_chunk import ChoiceDelta
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.server import openapi_doc
from app.server.answering import (
    Answerer,
    AnswerRequest,
    QueueCancelledError,
    StartedAnswer,
)
from app.server.auth import Authenticator, Caller
from app.server.chat_request import ChatRequest, answer_request
from app.server.errors import ApiError, error_response
from app.server.limits import QuotaGate
from app.server.metrics import ServerMetrics
from app.server.middleware import LimitsMiddleware
from app.store.server_users import UserStore
from app.turn.chat_turn import RouteRefusedError
from inference.engines.types import (
    Chunk,
    ContextOverflowError,
    EngineBusyError,
    EngineError,
    ModelInfo,
    ModelLoadError,
    RequestTooLongError,
)
from inference.models.library import ModelLibrary
from routing.cloud import CloudError

MAX_BODY_BYTES = 1 << 20  # 1 MiB: a long conversation, far from a memory problem
_PATHS = frozenset({"/v1/chat/completions", "/v1/models", "/health", "/metrics"})


@dataclass
class ServerParts:
    answerer: Answerer
    library: ModelLibrary
    users: UserStore
    default_model: str
    is_loaded: Callable[[], bool]  # whether the default model is in memory
    # The turn's defaults where a request names none (settings.json): the answer is capped
    # to max_tokens, and a quota's hold counts both.
    max_tokens: int = 512
    system_prompt: str | None = None
    slots: int = 1  # requests answered at once (a front in front of replicas reads it)
    # With --replica: each replica's health and load, shown on /health.
    replicas: Callable[[], list[dict[str, object]]] | None = None


def create_app(parts: ServerParts) -> LimitsMiddleware:
    """The ASGI application uvicorn runs: the routes inside the size limit and counter."""
    metrics = ServerMetrics()
    auth = Authenticator(parts.users)
    quotas = QuotaGate(parts.users, system_prompt=parts.system_prompt)
    app = FastAPI(title="Stillroom office server", docs_url=None, redoc_url=None)
    openapi_doc.install(app)
    examples = openapi_doc.chat_examples(parts.default_model)

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_error(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, f"{exc.detail}: this server answers "
                                               f"/v1/chat/completions, /v1/models, /health "
                                               f"and /metrics.")

    @app.get("/health", responses=openapi_doc.HEALTH_RESPONSES)
    async def health() -> dict[str, object]:
        depth = parts.answerer.queue_depth()
        shown: dict[str, object] = {"status": "ok", "model": parts.default_model,
                                    "model_loaded": parts.is_loaded(),
                                    "queue_depth": depth, "slots": parts.slots}
        if parts.replicas is not None:
            shown["replicas"] = parts.replicas()
        return shown

    @app.get("/metrics", responses=openapi_doc.METRICS_RESPONSES)
    async def metrics_text(request: Request) -> Response:
        caller = await auth.caller(request)
        if caller.user is not None and not caller.user.limits.admin:
            raise ApiError(403, "Only admin users may read the metrics "
                                "(`stillroom users add NAME --admin`).")
        metrics.queue_depth.set(parts.answerer.queue_depth())
        return Response(metrics.text(), media_type="text/plain; version=0.0.4")

    @app.get("/v1/models", responses=openapi_doc.MODELS_RESPONSES)
    async def models(request: Request) -> JSONResponse:
        caller = await auth.caller(request)
        listed = [Model(id=m.id, created=_created(m), object="model", owned_by="stillroom")
                  for m in parts.library.list() if _may_use(caller, m.id)]
        data = [m.model_dump(mode="json", exclude_unset=True) for m in listed]
        return JSONResponse({"object": "list", "data": data})

    @app.post("/v1/chat/completions", responses=openapi_doc.CHAT_RESPONSES)
    async def chat_completions(request: Request,
                               body: ChatRequest = Body(openapi_examples=examples)  # noqa: B008
                               ) -> Response:
        arrived = time.monotonic()
        caller = await auth.caller(request)
        model = _model_for(parts.library, body.model, caller)
        wanted = answer_request(body.model_copy(update={"model": model.id}),
                                user=caller.name, allowed_targets=caller.allowed_targets)
        # Explicit, so the cap the engine applies is the one a quota's hold counted.
        wanted = replace(wanted, max_tokens=wanted.max_tokens or parts.max_tokens)
        hold = None
        if caller.user is not None:
            hold = await anyio.to_thread.run_sync(quotas.admit, caller.user, wanted)
        release = partial(quotas.release, hold)
        cancel = threading.Event()
        try:
            answer = await anyio.to_thread.run_sync(_start, parts.answerer, wanted, cancel)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(release)
            raise
        metrics.queue_wait.observe(answer.queue_wait_s)
        metrics.answers.labels(answer.route_target).inc()
        headers = {"X-Stillroom-Route": _route_header(answer)}
        stream = _Stream(answer, metrics, arrived, cancel, on_end=release)
        # The first chunk before any byte is sent: a prompt too long for the context, or a
        # provider that fails with nowhere to fail over to, is then a status code.
        try:
            await anyio.to_thread.run_sync(stream.read_first)
        except BaseException as exc:
            await stream.end()
            raise _answer_error(exc) from None
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            return StreamingResponse(stream.sse(request, include_usage), headers=headers,
                                     media_type="text/event-stream")
        return JSONResponse(await stream.completion(), headers=headers)

    return LimitsMiddleware(app, max_body_bytes=MAX_BODY_BYTES, metrics=metrics,
                            known_paths=_PATHS)


def _start(answerer: Answerer, wanted: AnswerRequest,
           cancel: threading.Event) -> StartedAnswer:
    try:
        return answerer.start(wanted, cancel)
    except RouteRefusedError as exc:
        raise ApiError(403, str(exc), code="route_not_allowed") from None
    except QueueCancelledError:
        raise ApiError(503, "The request was cancelled while it waited.") from None
    except (EngineBusyError, RequestTooLongError) as exc:
        raise _answer_error(exc) from None
    except (EngineError, ValueError) as exc:
        raise ApiError(400, str(exc)) from None


def _validation_error(exc: RequestValidationError) -> JSONResponse:
    """One line naming the field (``messages.0.role``) and what is wrong with it."""
    first = exc.errors()[0] if exc.errors() else {}
    if first.get("type") == "json_invalid":
        return error_response(400, "body: not valid JSON; send a JSON object with model and "
                                   "messages.")
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    if not where:
        return error_response(400, "body: send a JSON object with model and messages.")
    return error_response(400, f"{where}: {first.get('msg', 'invalid')}.", param=where)


def _answer_error(exc: BaseException) -> BaseException:
    """What a failure while answering becomes for the client; anything unexpected stays
    itself (a 500, with the traceback in the server's log)."""
    if isinstance(exc, ModelLoadError):
        return ApiError(503, f"The model could not be loaded: {exc}")
    if isinstance(exc, EngineBusyError):
        return ApiError(429, str(exc), code="queue_full", retry_after_s=2)
    if isinstance(exc, RequestTooLongError):
        return ApiError(400, str(exc), code="context_length_exceeded")
    if isinstance(exc, EngineError | ValueError):
        return ApiError(400, str(exc), code="context_length_exceeded"
                        if isinstance(exc, ContextOverflowError) else None)
    if isinstance(exc, CloudError):
        return ApiError(502, f"The provider failed and the policy allows no failover: {exc}")
    return exc


def _may_use(caller: Caller, model_id: str) -> bool:
    if caller.user is None:
        return True
    return any(fnmatch.fnmatchcase(model_id, pattern) for pattern in caller.user.limits.models)


def _model_for(library: ModelLibrary, requested: str, caller: Caller) -> ModelInfo:
    installed = {m.id: m for m in library.list()}
    model = installed.get(requested.strip().lower())
    if model is None:
        raise ApiError(404, f"The model '{requested}' does not exist here; GET /v1/models "
                            f"lists those you may use.", code="model_not_found", param="model")
    if not _may_use(caller, model.id):
        raise ApiError(403, f"You may not use the model '{model.id}'; GET /v1/models lists "
                            f"those you may.", code="model_not_allowed", param="model")
    return model


def _created(model: ModelInfo) -> int:
    try:
        return int(Path(model.path).stat().st_mtime)
    except OSError:
        return 0


def _route_header(answer: StartedAnswer) -> str:
    text = f"{answer.route_target}; rule={answer.route_rule}; reason={answer.route_reason}"
    # Header values are ASCII in practice; the reason is the router's English sentence,
    # whose few other characters have plain stand-ins.
    plain = text.translate(_ASCII_STAND_INS).encode("ascii", "replace").decode("ascii")
    return " ".join(plain.split())


_ASCII_STAND_INS = str.maketrans({"×": "x", "—": "-", "–": "-", "’": "'", "‘": "'",
                                  "“": '"', "”": '"', "…": "...", "→": "->"})
_FINISH = {"length": "length", "stop": "stop"}


class _Stream:
    """One answer, read on worker threads (the turn blocks between tokens)."""

    def __init__(self, answer: StartedAnswer, metrics: ServerMetrics, arrived: float,
                 cancel: threading.Event, on_end: Callable[[], None]) -> None:
        self.answer = answer
        # Once the answer's usage row is written (its iteration ended), exactly once.
        self._on_end: Callable[[], None] | None = on_end
        self.metrics = metrics
        self.arrived = arrived
        self.cancel = cancel
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.chunks: Iterator[Chunk] = iter(answer)
        self.last: Chunk | None = None
        self.first_at: float | None = None
        self.done = False
        self._held: list[Chunk | None] = []

    def read_first(self) -> None:
        self._held.append(self.next_chunk())

    def next_chunk(self) -> Chunk | None:
        if self._held:
            return self._held.pop()
        if self.done:
            return None
        chunk = next(self.chunks, None)
        if chunk is None:
            self.done = True
            self._observe_end()
            self._ended()
            return None
        if self.first_at is None:
            self.first_at = time.monotonic()
            self.metrics.ttft.observe(self.first_at - self.arrived)
        self.last = chunk
        return chunk

    def _observe_end(self) -> None:
        if self.last is not None:
            self.metrics.tokens.labels("prompt").inc(self.last.prompt_tokens)
            self.metrics.tokens.labels("completion").inc(self.last.completion_tokens)
        if self.first_at is not None:
            self.metrics.decode.observe(time.monotonic() - self.first_at)

    def finish_reason(self) -> str:
        reason = self.last.finish_reason if self.last else None
        return _FINISH.get(reason or "stop", "stop")

    def usage(self) -> CompletionUsage:
        prompt = self.last.prompt_tokens if self.last else 0
        completion = self.last.completion_tokens if self.last else 0
        return CompletionUsage(prompt_tokens=prompt, completion_tokens=completion,
                               total_tokens=prompt + completion)

    def read_all(self) -> str:
        texts = []
        while (chunk := self.next_chunk()) is not None:
            texts.append(chunk.text)
        return "".join(texts)

    async def completion(self) -> dict[str, object]:
        try:
            text = await anyio.to_thread.run_sync(self.read_all)
        except BaseException as exc:
            raise _answer_error(exc) from None
        finally:
            await self.end()
        body = ChatCompletion(
            id=self.id, object="chat.completion", created=self.created,
            model=self.answer.model_id, usage=self.usage(),
            choices=[Choice(index=0, finish_reason=self.finish_reason(),  # type: ignore[arg-type]
                            message=ChatCompletionMessage(role="assistant", content=text))])
        return body.model_dump(mode="json", exclude_unset=True)

    def _chunk(self, delta: ChoiceDelta | None, finish: str | None = None,
               usage: CompletionUsage | None = None) -> str:
        choices = [] if delta is None else [ChunkChoice(index=0, delta=delta,
                                                        finish_reason=finish)]  # type: ignore[arg-type]
        extra = {"usage": usage} if usage is not None else {}
        chunk = ChatCompletionChunk(id=self.id, object="chat.completion.chunk",
                                    created=self.created, model=self.answer.model_id,
                                    choices=choices, **extra)
        return f"data: {chunk.model_dump_json(exclude_unset=True)}\n\n"

    async def sse(self, request: Request, include_usage: bool) -> AsyncIterator[str]:
        try:
            yield self._chunk(ChoiceDelta(role="assistant", content=""))
            while True:
                try:
                    chunk = await anyio.to_thread.run_sync(self.next_chunk)
                except Exception as exc:  # the status is sent: say it in the stream
                    error = _answer_error(exc)
                    message = error.message if isinstance(error, ApiError) else str(exc)
                    yield f"data: {json.dumps({'error': {'message': message}})}\n\n"
                    return
                if chunk is None:
                    break
                if await request.is_disconnected():
                    return  # the finally below cancels the generation
                if chunk.text:
                    yield self._chunk(ChoiceDelta(content=chunk.text))
            yield self._chunk(ChoiceDelta(), finish=self.finish_reason())
            if include_usage:
                yield self._chunk(None, usage=self.usage())
            yield "data: [DONE]\n\n"
        finally:
            await self.end()

    async def end(self) -> None:
        """Stop the generation if the answer did not run to its end (the client left, or
        an error), and let the turn record it; shielded, as this runs when cancelled."""
        if self.done:
            return
        self.cancel.set()
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self._drain)

    def _drain(self) -> None:
        # The engine stops at its next token once cancel is set; reading on lets the turn
        # finish normally and write its row as cancelled, with the tokens it did produce.
        try:
            while self.next_chunk() is not None:
                pass
        except Exception:  # the turn recorded its error; the client is gone
            pass
        finally:
            self.done = True
            self.answer.close()
            self._ended()

    def _ended(self) -> None:
        on_end, self._on_end = self._on_end, None
        if on_end is not None:
            on_end()

