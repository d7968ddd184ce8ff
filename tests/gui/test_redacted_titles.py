"""The sidebar never shows what the sensitivity gate finds in a title: new titles are made
redacted, titles stored before are redacted when shown, and so is the "Deleted" line."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

from app.gui.sidebar import ConversationSidebar
from app.store.conversations import ConversationStore
from app.store.db import open_engine

CARD = "5500 0000 0000 0004"


def test_sidebar_titles_are_redacted(qtbot, tmp_path: Path) -> None:
    store = ConversationStore(open_engine(f"sqlite:///{tmp_path / 'store.db'}"))
    new = store.create(model_id=None, system_prompt=None)
    store.add_user_message(new.id, f"Refund card {CARD} to the client today")
    store.create(model_id=None, system_prompt=None, title=f"Old title with {CARD}")
    sidebar = ConversationSidebar(store)
    qtbot.addWidget(sidebar)
    sidebar.refresh()
    shown = [sidebar.list.item(row).text() for row in range(sidebar.list.count())]
    assert sorted(shown) == ["Old title with [card]", "Refund card [card] to the client today"]
    deleted = []
    sidebar.sig_deleted.connect(lambda _id, title: deleted.append(title))
    sidebar.list.setCurrentRow(0)
    sidebar.delete_current()
    assert deleted and CARD not in deleted[0]
