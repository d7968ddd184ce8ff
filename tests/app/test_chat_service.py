import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import event, text

from app.services import Services
from app.turn.chat_turn import ChatOptions
from inference.engines.types import ContextOverflowError, ModelInfo
from inference.models.library import ModelNotFoundError


@pytest.fixture
def services(stillroom_home: Path):
    opened = Services.open()
    yield opened
    opened.close()


def _usage_rows(services: Services) -> list[tuple]:
    with services.store.engine.connect() as connection:
        return connection.execute(text(
            "SELECT conversation_id, model_id, route_target, prompt_tokens, completion_tokens "
            "FROM usage ORDER BY id")).all()


def test_a_turn_is_saved_with_its_route_and_usage(services: Services) -> None:
    turn = services.chat().start("Say hello.", options=ChatOptions(temperature=0,
                                                                   max_tokens=12))
    streamed = "".join(chunk.text for chunk in turn)
    result = turn.result
    assert streamed == result.text and result.text.strip()
    question, answer = services.store.messages(turn.conversation_id)
    assert (question.role, question.content) == ("user", "Say hello.")
    assert (answer.role, answer.content, answer.status) == ("assistant", streamed, "complete")
    assert (answer.route_target, answer.route_rule) == ("local", "local-only")
    assert _usage_rows(services) == [(turn.conversation_id, turn.model.id, "local",
                                      result.prompt_tokens, result.completion_tokens)]


def test_the_next_turn_sees_the_history_and_reuses_the_cache(services: Services) -> None:
    chat = services.chat()
    options = ChatOptions(temperature=0, max_tokens=16, system_prompt="You are terse.")
    first = chat.start("Name a fruit.", options=options)
    list(first)
    second = chat.start("And a vegetable?", conversation_id=first.conversation_id,
                        options=ChatOptions(temperature=0, max_tokens=8))
    assert [m.role for m in second.request.messages] == ["system", "user", "assistant", "user"]
    assert second.request.messages[2].content == first.result.text
    list(second)
    assert second.result.timings.prompt_tokens_reused >= first.result.prompt_tokens


def test_cancel_keeps_the_partial_answer(services: Services) -> None:
    cancel = threading.Event()
    turn = services.chat().start("Tell me a long story.", cancel=cancel,
                                 options=ChatOptions(temperature=0, max_tokens=400))
    for index, _ in enumerate(turn):
        if index == 4:
            cancel.set()
    (_, answer) = services.store.messages(turn.conversation_id)
    assert answer.status == "cancelled" and answer.content == turn.result.text != ""
    assert turn.result.finish_reason == "cancelled"


def test_the_question_is_kept_when_the_model_cannot_load(services: Services, model: ModelInfo,
                                                         tmp_path: Path) -> None:
    copy = tmp_path / "gone.gguf"
    shutil.copyfile(model.path, copy)
    registered = services.library.register(copy)
    copy.unlink()
    with pytest.raises(ModelNotFoundError, match="is missing"):
        services.chat().start("Are you there?", options=ChatOptions(model=registered.id))
    (conversation,) = services.store.list()
    assert [m.content for m in services.store.messages(conversation.id)] == ["Are you there?"]


def test_an_overlong_prompt_is_recorded_as_an_error_not_lost(services: Services) -> None:
    turn = services.chat().start("sea " * 5000, options=ChatOptions(max_tokens=4))
    with pytest.raises(ContextOverflowError):
        list(turn)
    question, answer = services.store.messages(turn.conversation_id)
    assert question.content.startswith("sea sea")
    assert answer.status == "error" and "context holds" in answer.error
    # The failed answer is not fed back to the model on the next turn.
    assert [m.role for m in services.chat().history(turn.conversation)] == ["user"]


def test_empty_message_is_refused_before_anything_is_saved(services: Services) -> None:
    with pytest.raises(ValueError, match="empty"):
        services.chat().start("   ")
    assert services.store.list() == []


def test_a_local_only_setup_reads_no_ledger_before_answering(services: Services) -> None:
    # Cloud spending only matters to a budget cap on a cloud provider; with none, the
    # ledger query would only delay the first token.
    statements: list[str] = []
    event.listen(services.store.engine, "before_cursor_execute",
                 lambda _c, _cursor, statement, *_: statements.append(statement))
    turn = services.chat().start("Say hello.", options=ChatOptions(temperature=0,
                                                                   max_tokens=2))
    assert not [s for s in statements if "FROM usage" in s]
    list(turn)
