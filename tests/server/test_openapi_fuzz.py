"""schemathesis against a real `stillroom serve` on loopback: requests generated from the
server's own /openapi.json (valid and deliberately invalid bodies), every response checked
against that document, and no 500 anywhere.

Bounded and repeatable: derandomized (the same cases every run), a small number of
examples per operation and mode, no per-example deadline (the model answers the documented
examples, which takes seconds on a busy machine). The cases are drawn inside the test from
a schema loaded off the running server (schemathesis's `from_fixture` does the same, but
its pytest plugin does not run under pytest 9)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.server.conftest import MODEL, ServeProcess

OPERATIONS = [("/health", "GET"), ("/metrics", "GET"), ("/v1/models", "GET"),
              ("/v1/chat/completions", "POST")]
_READ_TIMEOUT_S = 600
_BOUNDED = settings(derandomize=True, max_examples=15, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def api_schema(open_server: ServeProcess) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{open_server.root}/openapi.json")


def test_the_fuzzed_operations_are_all_the_documented_ones(
        api_schema: schemathesis.BaseSchema) -> None:
    documented = {(path, method.upper()) for path, methods in api_schema.raw_schema[
        "paths"].items() for method in methods}
    assert documented == set(OPERATIONS)


# Invalid requests exist only where there is something to get wrong: the chat body (the GET
# routes take no parameters, so no request to them can break the document).
@pytest.mark.parametrize(("path", "method", "mode"), [
    *((path, method, GenerationMode.POSITIVE) for path, method in OPERATIONS),
    ("/v1/chat/completions", "POST", GenerationMode.NEGATIVE)])
def test_generated_requests_get_documented_answers_and_no_server_error(
        api_schema: schemathesis.BaseSchema, path: str, method: str,
        mode: GenerationMode) -> None:
    operation = api_schema[path][method]

    @_BOUNDED
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(operation.as_strategy(generation_mode=mode))
        # The default checks: no 5xx; status code, content type, headers and body as the
        # document says. The read timeout is requests' own, raised from schemathesis's 10 s
        # default: on a busy machine the model's answer to the documented examples is slow.
        case.call_and_validate(timeout=_READ_TIMEOUT_S)

    run()


def test_the_documented_examples_are_answered_as_documented(
        api_schema: schemathesis.BaseSchema) -> None:
    """The two bodies in the document are real answers from the model (JSON, and a stream
    of events): the 200 path is checked against the document every run."""
    operation = api_schema["/v1/chat/completions"]["POST"]
    examples = operation.definition.raw["requestBody"]["content"]["application/json"][
        "examples"]
    assert {example["value"]["model"] for example in examples.values()} == {MODEL}
    for example in examples.values():
        response = operation.Case(body=example["value"], media_type="application/json"
                                  ).call_and_validate(timeout=_READ_TIMEOUT_S)
        assert response.status_code == 200
        streamed = example["value"].get("stream", False)
        assert response.headers["content-type"][0].startswith(
            "text/event-stream" if streamed else "application/json")
        assert response.headers["x-stillroom-route"][0].startswith("local;")


def test_the_document_says_errors_not_422(api_schema: schemathesis.BaseSchema) -> None:
    responses = api_schema["/v1/chat/completions"]["POST"].definition.raw["responses"]
    assert set(responses) >= {"200", "400", "401", "403", "404", "413", "429"}
    assert "422" not in responses
