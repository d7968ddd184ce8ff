"""A server without users on loopback: the OpenAI SDK's view of every route (answers,
streams, usage, typed errors), the raw SSE bytes, the size limit, health, metrics, and a
client that leaves mid-stream."""

from __future__ import annotations

import http.client
import json
import socket

import openai
import pydantic
import pytest

from tests.server.conftest import MODEL, ServeProcess

HELLO = [{"role": "user", "content": "Say hello."}]


def test_an_answer_has_text_usage_and_its_route(open_server: ServeProcess) -> None:
    raw = open_server.client().chat.completions.with_raw_response.create(
        model=MODEL, messages=HELLO, max_tokens=8, temperature=0)
    completion = raw.parse()
    assert raw.headers["x-stillroom-route"].startswith("local; rule=")
    (choice,) = completion.choices
    assert choice.message.role == "assistant" and choice.message.content
    assert choice.finish_reason in ("stop", "length")
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens > 0 and 0 < usage.completion_tokens <= 8
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    # The ledger holds the same figures as the response (the desktop's turn path wrote it).
    rows = open_server.query("SELECT prompt_tokens, completion_tokens, \"user\" FROM usage")
    assert (usage.prompt_tokens, usage.completion_tokens, None) in rows


def test_a_stream_ends_with_the_usage_chunk(open_server: ServeProcess) -> None:
    stream = open_server.client().chat.completions.create(
        model=MODEL, messages=HELLO, max_completion_tokens=8, stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] in ("stop", "length") and all(f is None for f in finishes[:-1])
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert 0 < last.usage.completion_tokens <= 8


def _post(server: ServeProcess, body: bytes | str,
          headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", server.port)
    connection.request("POST", "/v1/chat/completions", body=body,
                       headers={"Content-Type": "application/json", **(headers or {})})
    return connection.getresponse()


def test_the_sse_bytes_are_data_lines_then_usage_then_done(open_server: ServeProcess) -> None:
    response = _post(open_server, json.dumps({
        "model": MODEL, "messages": HELLO, "max_tokens": 6, "stream": True,
        "stream_options": {"include_usage": True}}))
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/event-stream")
    raw = response.read()
    assert raw.endswith(b"\n\n")
    events = raw[:-2].split(b"\n\n")
    assert all(event.startswith(b"data: ") and b"\n" not in event for event in events)
    assert events[-1] == b"data: [DONE]"
    bodies = [json.loads(event[len(b"data: "):]) for event in events[:-1]]
    assert all(body["object"] == "chat.completion.chunk" for body in bodies)
    assert len({body["id"] for body in bodies}) == 1
    usage_chunk, finish_chunk = bodies[-1], bodies[-2]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["total_tokens"] == (usage_chunk["usage"]["prompt_tokens"]
                                                    + usage_chunk["usage"]["completion_tokens"])
    assert finish_chunk["choices"][0]["finish_reason"] in ("stop", "length")
    assert bodies[0]["choices"][0]["delta"]["role"] == "assistant"


def test_without_include_usage_no_usage_chunk_is_sent(open_server: ServeProcess) -> None:
    response = _post(open_server, json.dumps({
        "model": MODEL, "messages": HELLO, "max_tokens": 4, "stream": True}))
    events = response.read()[:-2].split(b"\n\n")
    assert events[-1] == b"data: [DONE]"
    assert all(b'"usage"' not in event for event in events)


def test_an_unknown_model_is_not_found(open_server: ServeProcess) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        open_server.client().chat.completions.create(model="gpt-9", messages=HELLO)
    assert caught.value.body["code"] == "model_not_found"  # type: ignore[index]
    assert "GET /v1/models" in caught.value.message


@pytest.mark.parametrize(("messages", "extra", "param"), [
    ([{"role": "assistant", "content": "Hi"}], {}, "messages"),
    (HELLO, {"temperature": 5}, "temperature"),
    (HELLO, {"n": 3}, "n"),
    ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}], {},
     "messages[0]"),
    ([], {}, "messages"),
])
def test_bad_requests_name_the_field(open_server: ServeProcess, messages: list,
                                     extra: dict, param: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        open_server.client().chat.completions.create(model=MODEL, messages=messages,
                                                     **extra)
    error = caught.value.body
    assert set(error) == {"message", "type", "param", "code"}  # type: ignore[arg-type]
    assert error["type"] == "invalid_request_error"  # type: ignore[index]
    assert error["param"] == param and error["message"].startswith(param)  # type: ignore[index]


def test_a_body_over_the_limit_is_413_in_openai_shape(open_server: ServeProcess) -> None:
    huge = json.dumps({"model": MODEL, "messages": [
        {"role": "user", "content": "x" * (2 << 20)}]})
    response = _post(open_server, huge)
    assert response.status == 413
    assert json.loads(response.read())["error"]["code"] == "request_too_large"


def test_models_health_and_metrics(open_server: ServeProcess) -> None:
    client = open_server.client()
    assert [m.id for m in client.models.list()] == [MODEL]
    connection = http.client.HTTPConnection("127.0.0.1", open_server.port)
    connection.request("GET", "/health")
    health = json.loads(connection.getresponse().read())
    assert health == {"status": "ok", "model": MODEL, "model_loaded": True,
                      "queue_depth": 0, "slots": 4}
    client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=2)
    # A fresh connection: uvicorn closes an idle keep-alive one after 5 s, and the answer
    # above can take longer on a loaded machine.
    connection = http.client.HTTPConnection("127.0.0.1", open_server.port)
    connection.request("GET", "/metrics")
    metrics = connection.getresponse().read().decode()
    assert 'stillroom_requests_total{path="/v1/chat/completions",status="200"}' in metrics
    assert 'stillroom_answers_total{target="local"}' in metrics
    for histogram in ("queue_wait_seconds", "time_to_first_token_seconds",
                      "decode_seconds"):
        assert f"stillroom_{histogram}_count" in metrics
    assert 'stillroom_tokens_total{kind="completion"}' in metrics


def test_a_client_that_leaves_mid_stream_cancels_its_answer(
        open_server: ServeProcess) -> None:
    body = json.dumps({"model": MODEL, "stream": True, "max_tokens": 400, "temperature": 0,
                       "messages": [{"role": "user", "content":
                                     "Count from 1 to 300, one number per line."}]}).encode()
    with socket.create_connection(("127.0.0.1", open_server.port)) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        received = b""
        while received.count(b"data: ") < 3:  # the role chunk and two tokens
            received += sock.recv(4096)
    # The server answers one request at a time: this one starts only after the one left
    # behind has stopped and been recorded.
    open_server.client().chat.completions.create(model=MODEL, messages=HELLO, max_tokens=2)
    counting = [row for row in open_server.query(
        "SELECT m.status, u.finish_reason, u.completion_tokens FROM messages m "
        "JOIN usage u ON u.message_id = m.id JOIN messages q ON q.id = m.id - 1 "
        "WHERE q.content LIKE 'Count from 1 to 300%'")]
    assert len(counting) == 1
    status, finish, completion_tokens = counting[0]
    assert (status, finish) == ("cancelled", "cancelled")
    assert 0 < completion_tokens < 400


@pytest.mark.parametrize("stream", [False, True])
def test_a_prompt_longer_than_the_context_is_a_bad_request(open_server: ServeProcess,
                                                           stream: bool) -> None:
    too_long = [{"role": "user", "content": "tea " * 6000}]  # over the 4096-token context
    with pytest.raises(openai.BadRequestError) as caught:
        open_server.client().chat.completions.create(model=MODEL, messages=too_long,
                                                     max_tokens=2, stream=stream)
    assert caught.value.body["code"] == "context_length_exceeded"  # type: ignore[index]
    # The server goes on answering.
    open_server.client().chat.completions.create(model=MODEL, messages=HELLO, max_tokens=2)



def test_a_stop_sequence_ends_the_answer_before_it(open_server: ServeProcess) -> None:
    client = open_server.client()
    ask = [{"role": "user", "content": "Name three colours."}]
    full = client.chat.completions.create(model=MODEL, messages=ask, max_tokens=12,
                                          temperature=0).choices[0].message.content or ""
    # The second word: greedy decoding agrees this early (later tokens may differ a little
    # between runs as the KV-cache reuse changes the arithmetic).
    second = full.split()[1]
    cut = client.chat.completions.create(model=MODEL, messages=ask, max_tokens=12,
                                         temperature=0, stop=[second])
    assert cut.choices[0].finish_reason == "stop"
    assert cut.choices[0].message.content == full[:full.index(second)]


@pytest.mark.parametrize(("body", "status", "says"), [
    (b'{"model": ', 400, "body: not valid JSON"),
    (b"[]", 400, "body: send a JSON object"),
    (b'{"model": "x"}', 400, "messages: Field required"),
])
def test_malformed_bodies_get_one_line_in_openai_shape(open_server: ServeProcess,
                                                       body: bytes, status: int,
                                                       says: str) -> None:
    response = _post(open_server, body)
    assert response.status == status
    error = json.loads(response.read())["error"]
    assert error["message"].startswith(says) and "\n" not in error["message"]


def test_an_unknown_path_is_404_in_openai_shape(open_server: ServeProcess) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", open_server.port)
    connection.request("GET", "/v1/engines")
    response = connection.getresponse()
    assert response.status == 404
    assert "/v1/chat/completions" in json.loads(response.read())["error"]["message"]


class Person(pydantic.BaseModel):
    name: str = pydantic.Field(max_length=12)
    age: int


def test_a_json_schema_response_format_parses_into_the_clients_model(
        open_server: ServeProcess) -> None:
    """The SDK's own structured-output path: it sends the model's schema (strict) and parses
    the answer; the engine's grammar is what makes the 135M model's answer valid."""
    completion = open_server.client().chat.completions.parse(
        model=MODEL, messages=[{"role": "user", "content": "Invent a person."}],
        response_format=Person, max_tokens=48, temperature=0)
    (choice,) = completion.choices
    assert choice.finish_reason == "stop", choice.message.content
    assert isinstance(choice.message.parsed, Person)


def test_json_object_streams_one_json_object(open_server: ServeProcess) -> None:
    stream = open_server.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Reply in JSON."}],
        response_format={"type": "json_object"}, max_tokens=40, temperature=0, stream=True)
    chunks = list(stream)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    if chunks[-1].choices[0].finish_reason == "stop":
        assert isinstance(json.loads(text), dict)
    else:  # cut at max_tokens: still the start of an object, never prose
        assert text.lstrip().startswith("{")


@pytest.mark.parametrize("response_format", [
    {"type": "json_schema"},
    {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": 12}}},
    {"type": "yaml"},
])
def test_an_unusable_response_format_is_a_bad_request_naming_it(
        open_server: ServeProcess, response_format: dict) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        open_server.client().chat.completions.create(
            model=MODEL, messages=HELLO, response_format=response_format)  # type: ignore[arg-type]
    assert caught.value.body["param"].startswith("response_format")  # type: ignore[index]
