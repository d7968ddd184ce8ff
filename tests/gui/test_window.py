"""The main window driven as a user would: real model, real database, offscreen Qt."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.gui.conftest import ESSAY, ask, wait_idle


def _stored(window) -> list:
    return window.services.store.messages(window.conversation_id)


def test_send_and_receive_a_streamed_answer(qtbot, window) -> None:
    assert window.windowTitle() == "Stillroom"
    texts: list[str] = []
    window.workers.worker.sig_chunk.connect(lambda _rid, text, _f: texts.append(text))
    window.temperature.setValue(0)
    window.max_tokens.setValue(64)
    window.composer.setPlainText("Write three sentences about the sea.")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    assert window.generating and window.composer.toPlainText() == ""
    wait_idle(qtbot, window)
    assert len(texts) > 1  # it streamed, not one block at the end
    question, answer = window.chat_view.messages
    assert question.text() == "Write three sentences about the sea."
    assert answer.text() == "".join(texts) != ""
    assert answer.badge.text().startswith("Local · SmolLM2-135M-Instruct · ")
    stored = _stored(window)
    assert [(m.role, m.status) for m in stored] == [("user", "complete"),
                                                     ("assistant", "complete")]
    assert stored[1].content == answer.text()
    assert window.sidebar.list.count() == 1


def test_stop_mid_answer_keeps_the_partial_text(qtbot, window) -> None:
    window.temperature.setValue(0)
    window.max_tokens.setValue(2000)
    window.composer.setPlainText(ESSAY)
    window.send()
    qtbot.waitUntil(lambda: len(window.active["text"].split()) > 10, timeout=120_000)
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    answer = _stored(window)[-1]
    assert answer.status == "cancelled" and len(answer.content.split()) > 10
    assert window.chat_view.messages[-1].status.text() == "(stopped)"
    assert window.send_button.isEnabled() and not window.stop_button.isEnabled()


def test_edit_and_resend_replaces_the_question_and_answer(qtbot, window) -> None:
    ask(qtbot, window, "Name a fruit.")
    question = window.chat_view.messages[0]
    question.sig_edit_requested.emit((question, "Name a vegetable."))
    wait_idle(qtbot, window)
    stored = _stored(window)
    assert (stored[0].role, stored[0].content) == ("user", "Name a vegetable.")
    assert len(stored) == 2 and stored[1].role == "assistant" and stored[1].content


def test_regenerate_answers_again_and_keeps_the_ledger(qtbot, window) -> None:
    from sqlalchemy import text

    ask(qtbot, window, "Name a colour.")
    window.chat_view.messages[-1].regenerate_button.click()
    wait_idle(qtbot, window)
    stored = _stored(window)
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[0].content == "Name a colour."
    with window.services.store.engine.connect() as connection:
        ledger = connection.execute(text("SELECT message_id FROM usage ORDER BY id")).all()
    # Both answers were paid for; the replaced one's row outlives its message.
    assert ledger == [(None,), (stored[1].id,)]


def test_switching_conversation_while_streaming(qtbot, window) -> None:
    other = window.services.store.create(model_id=None, system_prompt=None, title="Other")
    window.services.store.add_user_message(other.id, "An older question")
    window.sidebar.refresh()
    window.temperature.setValue(0)
    window.max_tokens.setValue(150)
    window.composer.setPlainText(ESSAY)
    window.send()
    qtbot.waitUntil(lambda: window.conversation_id is not None and bool(window.active["text"]),
                    timeout=120_000)
    streaming_id = window.conversation_id
    window.open_conversation(other.id)
    assert [w.text() for w in window.chat_view.messages] == ["An older question"]
    assert window.generating  # the answer goes on in the background
    wait_idle(qtbot, window)
    assert [w.text() for w in window.chat_view.messages] == ["An older question"]
    window.open_conversation(streaming_id)
    stored = window.services.store.messages(streaming_id)
    assert stored[-1].status == "complete"
    assert window.chat_view.messages[-1].text() == stored[-1].content != ""


def test_meters_update_during_generation(qtbot, window) -> None:
    assert window.meters.value("decode") == "—"
    window.temperature.setValue(0)
    window.max_tokens.setValue(120)
    window.composer.setPlainText(ESSAY)
    window.send()
    qtbot.waitUntil(lambda: window.generating and window.meters.value("decode") != "—",
                    timeout=120_000)
    assert window.meters.value("decode").endswith("tok/s")
    wait_idle(qtbot, window)
    prompt_tokens, completion_tokens = window.meters.value("tokens").split(" / ")
    assert int(prompt_tokens) > 0 and 0 < int(completion_tokens) <= 120
    assert window.meters.value("cloud_cost").startswith("$")
    assert "list price as of" in window.meters.sources["cloud_cost"].text()
    from sqlalchemy import text

    with window.services.store.engine.connect() as connection:
        joules = connection.execute(text("SELECT energy_joules FROM usage")).scalar_one()
    # The meters show what the ledger recorded: no sensor here means "not measured".
    if joules is None:
        assert window.meters.value("energy") == "not measured"
    else:
        assert window.meters.value("energy").endswith(f"({joules:.1f} J)")
    # No tariff or hardware price is set in a new data directory: unknown, never $0.
    assert window.meters.value("local_cost") == "unknown"
    assert "not set" in window.meters.sources["local_cost"].text()


def test_settings_and_window_state_persist_across_restart(qtbot, windows) -> None:
    from app.config import save_settings

    first = windows.open()
    first.resize(800, 590)  # inside the offscreen platform's 800x600 screen
    first.meters.tour.findChild(type(first.send_button)).click()
    first.services.settings.system_prompt = "Answer in French."
    first.services.settings.cpu_tdp_watts = 35.0
    save_settings(first.services.settings_path, first.services.settings)
    windows.close(first)
    second = windows.open()
    assert second.services.settings.system_prompt == "Answer in French."
    assert second.services.settings.cpu_tdp_watts == 35.0
    # The default is 1280x800; the offscreen platform may shift the width by its frame.
    assert second.height() == 590 and abs(second.width() - 800) <= 2
    assert not second.meters.tour.isVisibleTo(second)


def test_delete_with_undo(qtbot, window) -> None:
    ask(qtbot, window, "Hello there.", max_tokens=8)
    conversation_id = window.conversation_id
    window.sidebar.list.setCurrentRow(0)
    window.sidebar.delete_current()
    assert window.sidebar.list.count() == 0 and window.undo_button.isVisibleTo(window)
    window.undo_button.click()
    assert window.sidebar.list.count() == 1 and window.conversation_id == conversation_id
    window.sidebar.list.setCurrentRow(0)
    window.sidebar.delete_current()
    window.sidebar.flush_deletes()
    assert window.services.store.list() == []


def test_search_finds_titles_and_message_text(qtbot, window) -> None:
    store = window.services.store
    for title, content in (("Trip", "Plan a week in Lisbon"), ("Code", "Fix my regex")):
        conversation = store.create(model_id=None, system_prompt=None, title=title)
        store.add_user_message(conversation.id, content)
    window.sidebar.refresh()
    assert window.sidebar.list.count() == 2
    window.sidebar.search.setText("lisbon")
    qtbot.waitUntil(lambda: window.sidebar.list.count() == 1, timeout=5000)
    assert window.sidebar.list.item(0).text() == "Trip"


def test_closing_while_generating_shuts_down_cleanly(qtbot, windows) -> None:
    window = windows.open()
    services = window.services
    window.temperature.setValue(0)
    window.max_tokens.setValue(2000)
    window.composer.setPlainText(ESSAY)
    window.send()
    qtbot.waitUntil(lambda: bool(window.active["text"]), timeout=120_000)
    conversation_id = window.active["conversation_id"]
    window.close()  # cancels, waits for the worker, keeps the partial answer
    assert not window.workers.thread.isRunning()
    answer = services.store.messages(conversation_id)[-1]
    assert answer.status == "cancelled" and answer.content


def test_costs_dialog_shows_the_ledger_report(qtbot, window) -> None:
    from sqlalchemy import text

    ask(qtbot, window, "Name a bird.", max_tokens=12)
    window.open_costs()
    dialog = window.cost_dialog
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=60_000)
    rows = {dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text()
            for r in range(dialog.table.rowCount())}
    with window.services.store.engine.connect() as connection:
        tokens = connection.execute(text(
            "SELECT sum(prompt_tokens + completion_tokens) FROM usage")).scalar_one()
    assert any(value.startswith(f"{tokens:,}") or value.startswith(str(tokens))
               for value in rows.values())  # the ledger's own total
    assert any("unknown" in value for value in rows.values())  # no tariff set: never $0
    assert dialog.charts.count() == 2  # tokens per day, cost per day
    assert dialog.save_button.isEnabled()


def test_route_pin_is_stored_per_conversation(qtbot, window) -> None:
    ask(qtbot, window, "Hello.", max_tokens=8)
    local = window.route_pin.findData("local")
    window.route_pin.setCurrentIndex(local)
    window.route_pin.activated.emit(local)
    assert window.services.store.get(window.conversation_id).route_pin == "local"
    conversation_id = window.conversation_id
    window.new_chat()
    assert window.route_pin.currentData() is None
    window.open_conversation(conversation_id)
    assert window.route_pin.currentData() == "local"


def test_policy_editor_refuses_an_invalid_policy_and_keeps_the_file(qtbot, window) -> None:
    from app.gui.dialogs import PolicyDialog

    path = window.services.data_dir / "policy.toml"
    dialog = PolicyDialog(path, window)
    qtbot.addWidget(dialog)
    assert "[escalation]" in dialog.editor.toPlainText()  # the commented default
    assert dialog.check()
    dialog.editor.setPlainText("[sensitivity]\ntarget = 'the moon'\n")
    dialog.save()
    assert "⚠" in dialog.message.text() and not path.exists()
    dialog.editor.setPlainText("[sensitivity]\ntarget = 'local'\n")
    dialog.save()
    assert path.read_text(encoding="utf-8") == "[sensitivity]\ntarget = 'local'\n"


def test_providers_added_in_settings_become_routes(qtbot, window) -> None:
    from app.gui.dialogs import SettingsDialog
    from routing.keys import KeyStore

    services = window.services
    dialog = SettingsDialog(services.settings, services.library.list(),
                            str(services.data_dir),
                            KeyStore(services.data_dir / "keys-index.json"), window)
    qtbot.addWidget(dialog)
    dialog.new_provider.setText("office-vllm")
    dialog.new_url.setText("http://127.0.0.1:8000/v1")
    dialog.new_models.setText("qwen2.5-7b")
    dialog.new_tier.setCurrentText("onprem")
    dialog._add_provider()
    assert dialog.provider_list.count() == 1 and "office-vllm [onprem]" in \
        dialog.provider_list.item(0).text()
    dialog.new_url.setText("not a url")
    dialog.new_provider.setText("broken")
    dialog._add_provider()
    assert dialog.provider_list.count() == 1 and dialog.provider_message.text()
    window._reload_router("reloaded")
    assert window.route_pin.findData("office-vllm") >= 0
    # The key tab offers the Hub token and the presets; without a keyring the user is told.
    offered = [dialog.provider.itemText(i) for i in range(dialog.provider.count())]
    assert offered[0] == "huggingface" and "openai" in offered
    dialog.provider.setCurrentText("huggingface")
    dialog.secret.setText("hf_" + "x" * 30)
    dialog._store_key()
    assert "keyring" in dialog.key_message.text().lower()


def test_settings_say_whether_conversations_are_encrypted(qtbot, window, monkeypatch) -> None:
    """No keyring in this process: the settings dialog says the store is plaintext and why."""
    import app.gui.dialogs as dialogs_module  # the window imports it when the menu is used
    from app.gui.dialogs import SettingsDialog

    shown: list[SettingsDialog] = []

    class Recorded(SettingsDialog):
        def exec(self) -> int:
            shown.append(self)
            return 0

    monkeypatch.setattr(dialogs_module, "SettingsDialog", Recorded)
    window.open_settings()
    (dialog,) = shown
    qtbot.addWidget(dialog)
    assert dialog.at_rest.text().startswith("Conversations: not encrypted: no OS keyring")


def test_audit_view_gives_the_verdict_and_says_when_the_trail_is_not_keyed(
        qtbot, window, monkeypatch) -> None:
    """Without a keyring the view must say the trail is only hash-chained and a rollback
    cannot be detected; a tampered row is named, as `stillroom audit verify` names it."""
    import sqlite3

    import keyring
    from keyring.backends import fail

    from routing.audit import record_for
    from routing.decision import RouteDecision

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    decision = RouteDecision("local", "default", "the policy's default is this machine")
    for number in range(3):
        window.services.audit.append([record_for(decision, conversation_id=f"c{number}")])

    window.open_audit()
    dialog = window.audit_dialog
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=60_000)
    assert dialog.verdict.text().startswith("Audit log consistent: 3 rows")
    assert "NOT keyed" in dialog.protection.text()
    assert "rollback of the database together with audit-head.json cannot be detected" in \
        dialog.protection.text()
    dialog.close()

    database = window.services.store.engine.url.database
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE audit SET target = 'cloud' WHERE seq = 2")
    window.open_audit()
    dialog = window.audit_dialog
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=60_000)
    assert dialog.verdict.text().startswith("Not intact: the audit log is broken at row 2 "
                                            "(seq 2)")
