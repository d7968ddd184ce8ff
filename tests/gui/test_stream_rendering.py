"""An answer that ends updates its own message in place: the conversation above it is not
rebuilt (that re-laid out every message after every answer)."""

from __future__ import annotations


def _answered(store, conversation_id: str, model_id: str, question: str, answer: str) -> None:
    store.add_user_message(conversation_id, question)
    writer = store.start_answer(conversation_id, model_id=model_id, route_target="local",
                                route_rule="default", route_reason="no provider is configured")
    writer.append(answer)
    writer.finish("complete")


def test_a_finished_turn_updates_its_widgets_in_place(window) -> None:
    store, model = window.services.store, window.services.library.list()[0]
    conversation = store.create(model_id=model.id, system_prompt=None, title="Leases")
    _answered(store, conversation.id, model.id, "First question?", "First answer.")
    window.open_conversation(conversation.id)
    earlier = list(window.chat_view.messages)
    assert [w.message_id is not None for w in earlier] == [True, True]

    # The window shows the new turn as it streams: widgets without ids yet.
    question = window._message_widget("user", "Second question?")
    answer = window._message_widget("assistant", "Second answer.", status="streaming")
    window.conversation_id = conversation.id
    _answered(store, conversation.id, model.id, "Second question?", "Second answer.")
    window._sync_last_turn()

    shown = window.chat_view.messages
    assert shown[:2] == earlier and shown[2:] == [question, answer]  # the same widgets
    stored = store.messages(conversation.id)
    assert [w.message_id for w in shown] == [m.id for m in stored]
    assert answer.status.text() == ""  # "(writing…)" is gone
    assert answer.badge.text().startswith("Local · SmolLM2-135M-Instruct")


def test_a_view_that_disagrees_with_the_store_is_rebuilt(window) -> None:
    store, model = window.services.store, window.services.library.list()[0]
    conversation = store.create(model_id=model.id, system_prompt=None, title="Leases")
    _answered(store, conversation.id, model.id, "Question?", "Answer.")
    window.open_conversation(conversation.id)
    window._message_widget("assistant", "a stray widget the store never saw")
    window._sync_last_turn()
    assert [w.text() for w in window.chat_view.messages] == ["Question?", "Answer."]
