"""What the sensitivity gate finds never reaches a title, a preview, a status line or a crash
report: app.redaction.redact puts a placeholder per kind in its place."""

from pathlib import Path

from app.redaction import redact
from app.store.conversations import ConversationStore
from app.store.db import open_engine

CARD = "5500 0000 0000 0004"  # a Mastercard test number that passes the Luhn check


def test_each_finding_gets_a_placeholder_and_the_rest_is_kept() -> None:
    text = (f"Refund {CARD} for jane.doe@acme.com, SSN 123-45-6789, "
            "key sk-proj-abcdefghijklmnopqrstuvwxyz123456")
    assert redact(text) == "Refund [card] for [email], SSN [SSN], key [secret]"
    assert redact("Lunch plans for Friday?") == "Lunch plans for Friday?"
    assert redact("") == ""


def test_new_titles_are_made_redacted_and_old_ones_redacted_on_display(
        tmp_path: Path) -> None:
    store = ConversationStore(open_engine(f"sqlite:///{tmp_path / 'store.db'}"))
    conversation = store.create(model_id="m", system_prompt=None)
    store.add_user_message(conversation.id, f"Charge card {CARD} for the client")
    (listed,) = store.list()
    assert listed.title == "Charge card [card] for the client"
    # A title stored before this fix keeps its text in the database; every place that shows
    # it redacts it.
    older = store.create(model_id="m", system_prompt=None, title=f"Charge card {CARD}")
    assert CARD in next(c.title for c in store.list() if c.id == older.id)
    assert redact(f"Charge card {CARD}") == "Charge card [card]"


def test_a_crash_report_and_its_line_hold_no_finding(stillroom_home: Path) -> None:
    from app.cli.errors import run_guarded

    def crash(_args) -> int:
        raise RuntimeError(f"could not parse 'card {CARD}'")

    assert run_guarded(crash, None) == 1
    (report,) = (stillroom_home / "crash-reports").iterdir()
    text = report.read_text(encoding="utf-8")
    assert CARD not in text and "could not parse 'card [card]'" in text
