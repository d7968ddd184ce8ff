"""Streaming costs the UI one render per frame, whatever the token rate (issue 17): tokens
that arrive between two frames are rendered together, a paragraph is parsed as markdown
once (when it is complete), and the text shown at the end is the text that streamed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from app.gui.markdown_view import MarkdownView
from tests.gui.conftest import ESSAY, ask

ANSWER = ("# Leases\n\nA lease is **binding** once signed.\n\n```python\nprint('hi')\n```\n\n"
          "The tenant pays *rent* monthly.")


def _labels(view: MarkdownView) -> list[QLabel]:
    return [w for w in view._widgets if isinstance(w, QLabel)]


def test_a_burst_of_tokens_is_rendered_once_at_the_next_frame(window) -> None:
    widget = window._message_widget("assistant", "", status="streaming")
    window.active = {"request_id": 7, "widget": widget, "text": "", "dirty": False,
                     "figures": None, "conversation_id": window.conversation_id}
    renders: list[str] = []
    original = widget.body.set_text
    widget.body.set_text = lambda text, final=True: (renders.append(text),
                                                     original(text, final=final))
    tokens = [ANSWER[i:i + 3] for i in range(0, len(ANSWER), 3)]
    for token in tokens:
        window._on_chunk(7, token, {"completion_tokens": 1})
    assert renders == []  # nothing is laid out per token
    window._repaint_stream()
    window._repaint_stream()  # a frame with nothing new renders nothing
    assert renders == [ANSWER]
    assert widget.text() == "".join(tokens)
    window.active = None


def test_the_growing_paragraph_is_plain_text_until_it_is_complete(qtbot) -> None:
    view = MarkdownView()
    qtbot.addWidget(view)
    streamed = ""
    first_label = None
    for start in range(0, len(ANSWER), 5):
        streamed += ANSWER[start:start + 5]
        view.set_text(streamed, final=False)
        for index, widget in enumerate(view._widgets):
            if isinstance(widget, QLabel):
                growing = index == len(view._widgets) - 1
                assert widget.textFormat() == (Qt.TextFormat.PlainText if growing
                                               else Qt.TextFormat.MarkdownText)
        if first_label is None and _labels(view):
            first_label = _labels(view)[0]
    assert _labels(view)[-1].textFormat() == Qt.TextFormat.PlainText
    view.set_text(streamed, final=True)
    assert all(label.textFormat() == Qt.TextFormat.MarkdownText for label in _labels(view))
    assert _labels(view)[0] is first_label  # settled paragraphs are kept, not rebuilt
    assert view.text() == ANSWER


def test_the_answer_shown_at_the_end_is_the_stored_answer_as_markdown(qtbot, window) -> None:
    ask(qtbot, window, ESSAY, max_tokens=32)
    answer = window.chat_view.messages[-1]
    stored = window.services.store.messages(window.conversation_id)[-1]
    assert stored.role == "assistant" and stored.content
    assert answer.text() == stored.content
    assert all(label.textFormat() == Qt.TextFormat.MarkdownText
               for label in _labels(answer.body))
