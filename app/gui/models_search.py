"""Search the Hugging Face Hub: a query, the matching repositories, a repository's model
files with their quantization, size and a fit estimate, and a Download button that hands
the chosen file to the download queue.

Every Hub request (search, file list, the GGUF headers the fit is read from) and the
keyring lookup for the token run off the UI thread. Answers to an older query or an
earlier selection are dropped (a generation number), so fast clicking never shows stale
results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.cli.render import human_bytes
from app.gui.background import run_in_background
from app.gui.empty_hint import EmptyHint
from app.gui.fit_badge import explain, set_badge
from app.services import Services

if TYPE_CHECKING:
    from inference.hub.remote_fit import RemoteModel
    from inference.hub.search import RepoSummary

RESULT_COLUMNS = ("Repository", "Format", "Downloads", "Likes", "")
FILE_COLUMNS = ("File", "Quantization", "Size", "Fit")
SEARCH_LIMIT = 30
TOKEN_HINT = ("{repo} is gated: accept its terms on huggingface.co, then store your Hugging "
              "Face token in Settings → Cloud keys under the provider name “huggingface”.")


def lock_icon(size: int = 14) -> QIcon:
    """A padlock drawn here: no icon theme or emoji font can be relied on everywhere."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = QColor("#c98a00")
    painter.setPen(QPen(colour, size / 8))
    shackle = QPainterPath()
    shackle.moveTo(QPointF(size * 0.3, size * 0.5))
    shackle.arcTo(QRectF(size * 0.3, size * 0.1, size * 0.4, size * 0.5), 180, -180)
    painter.drawPath(shackle)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawRoundedRect(QRectF(size * 0.15, size * 0.45, size * 0.7, size * 0.5), 2, 2)
    painter.end()
    return QIcon(pixmap)


def compact_count(value: int) -> str:
    for limit, suffix in ((1_000_000, "M"), (1_000, "k")):
        if value >= limit:
            return f"{value / limit:.1f}{suffix}".replace(".0", "")
    return str(value)


def _table(columns: tuple[str, ...], name: str) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setTabKeyNavigation(False)  # Tab moves on to the next control
    table.setWordWrap(False)  # one line per row; long text is elided
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for column in range(1, len(columns)):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    return table


def _busy() -> QProgressBar:
    spinner = QProgressBar()
    spinner.setRange(0, 0)  # indeterminate: Hub requests report no fraction
    spinner.setMaximumWidth(90)
    spinner.setMaximumHeight(12)
    spinner.setTextVisible(False)
    spinner.hide()
    return spinner


class HubSearch(QWidget):
    sig_download = Signal(object)
    """A tuple of RemoteFile (a model's file, or every shard of a split one) to queue."""
    sig_open_settings = Signal()

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.results: list[RepoSummary] = []  # as listed
        self.models: list[RemoteModel] = []   # of the selected repository
        self._search_generation = 0
        self._files_generation = 0
        self.setAccessibleName("Search the Hub")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        row = QHBoxLayout()
        self.query = QLineEdit()
        self.query.setAccessibleName("Hub search")
        self.query.setPlaceholderText("Search Hugging Face for GGUF and MLX models, e.g. "
                                      "qwen2.5 7b")
        self.query.setClearButtonEnabled(True)
        self.query.returnPressed.connect(self.search)
        self.search_button = QPushButton("Search")
        self.search_button.setAccessibleName("Search the Hub")
        self.search_button.clicked.connect(self.search)
        self.search_spinner = _busy()
        self.search_spinner.setAccessibleName("Searching")
        row.addWidget(self.query, 1)
        row.addWidget(self.search_spinner)
        row.addWidget(self.search_button)
        layout.addLayout(row)

        splitter = QSplitter()
        self.result_table = _table(RESULT_COLUMNS, "Hub search results")
        self.result_table.horizontalHeaderItem(4).setToolTip("gated: needs accepted terms "
                                                             "and a token")
        self.result_table.itemSelectionChanged.connect(self._repo_selected)
        splitter.addWidget(self.result_table)
        self.results_hint = EmptyHint(self.result_table, "Search for a model by name, e.g. "
                                      "“qwen2.5 7b” or “llama 3.2”. Each file says whether "
                                      "it fits this machine.")

        files = QWidget()
        files_layout = QVBoxLayout(files)
        files_layout.setContentsMargins(0, 0, 0, 0)
        self.file_table = _table(FILE_COLUMNS, "Model files in the repository")
        self.file_table.itemSelectionChanged.connect(self._update_download)
        self.file_table.itemActivated.connect(lambda _item: self.download_selected())
        files_layout.addWidget(self.file_table, 1)
        self.files_hint = EmptyHint(self.file_table, "Pick a repository on the left to see "
                                    "its model files.")
        self.hint = QLabel()
        self.hint.setAccessibleName("Token hint")
        self.hint.setWordWrap(True)
        self.hint.hide()
        self.settings_button = QPushButton("Open Settings…")
        self.settings_button.setAccessibleName("Open Settings to store the token")
        self.settings_button.clicked.connect(self.sig_open_settings)
        self.settings_button.hide()
        files_layout.addWidget(self.hint)
        actions = QHBoxLayout()
        self.files_spinner = _busy()
        self.files_spinner.setAccessibleName("Reading the model headers")
        self.files_status = QLabel()
        self.download_button = QPushButton("Download")
        self.download_button.setAccessibleName("Download the selected file")
        self.download_button.clicked.connect(self.download_selected)
        actions.addWidget(self.settings_button)
        actions.addWidget(self.files_spinner)
        actions.addWidget(self.files_status, 1)
        actions.addWidget(self.download_button)
        files_layout.addLayout(actions)
        splitter.addWidget(files)
        splitter.setSizes([400, 400])
        layout.addWidget(splitter, 1)

        self.message = QLabel()
        self.message.setAccessibleName("Hub search message")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self._update_download()

    # -- searching -------------------------------------------------------------------------
    def search(self) -> None:
        from app.gui.hub_tasks import search

        self._search_generation += 1
        generation = self._search_generation
        query = self.query.text().strip()
        self.message.clear()
        self.search_spinner.show()
        run_in_background(self, lambda: search(self.services, query, SEARCH_LIMIT),
                          lambda found: self._show_results(generation, found),
                          lambda message: self._search_failed(generation, message),
                          name="hub-search")

    def _search_failed(self, generation: int, message: str) -> None:
        if generation == self._search_generation:
            self.search_spinner.hide()
            self.message.setText(message)

    def _show_results(self, generation: int, found: list) -> None:
        if generation != self._search_generation:
            return
        self.search_spinner.hide()
        self.results = found
        self.result_table.setRowCount(len(found))
        for row, repo in enumerate(found):
            cells = (repo.repo_id, repo.format.upper(), compact_count(repo.downloads),
                     compact_count(repo.likes), "")
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (2, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.result_table.setItem(row, column, item)
            if repo.gated:
                lock = self.result_table.item(row, 4)
                lock.setIcon(lock_icon())
                lock.setToolTip("gated: accept its terms on huggingface.co and store a token")
                lock.setData(Qt.ItemDataRole.AccessibleTextRole, "gated")
        query = self.query.text().strip() or "models"
        self.message.setText(f"No GGUF or MLX repositories match “{query}”." if not found
                             else "")

    # -- a repository's files --------------------------------------------------------------
    def selected_repo(self) -> RepoSummary | None:
        rows = self.result_table.selectionModel().selectedRows()
        return self.results[rows[0].row()] if rows and rows[0].row() < len(self.results) \
            else None

    def _repo_selected(self) -> None:
        from app.gui.hub_tasks import repo_models

        repo = self.selected_repo()
        self._files_generation += 1
        generation = self._files_generation
        self.models = []
        self.file_table.setRowCount(0)
        self.hint.hide()
        self.settings_button.hide()
        self.files_status.clear()
        self._update_download()
        if repo is None:
            return
        self.files_spinner.show()
        self.files_status.setText(f"Listing {repo.repo_id}…")
        context = self.services.settings.context_length or 4096
        run_in_background(
            self, lambda report: repo_models(self.services, repo, context, report),
            lambda models: self._show_models(generation, repo, models),
            lambda message: self._files_failed(generation, message),
            on_progress=lambda listed: self._show_listed(generation, listed),
            name="hub-files")

    def _files_failed(self, generation: int, message: str) -> None:
        if generation == self._files_generation:
            self.files_spinner.hide()
            self.files_status.clear()
            self.message.setText(message)

    def _show_listed(self, generation: int, models: list) -> None:
        """The file list arrived; the headers (and so the fits) are still being read."""
        if generation != self._files_generation:
            return
        self._fill_files(models, pending=True)
        self.files_status.setText("Reading the model headers for the fit estimate…")

    def _show_models(self, generation: int, repo: RepoSummary,
                     models: list[RemoteModel] | None) -> None:
        if generation != self._files_generation:
            return
        self.files_spinner.hide()
        self.files_status.clear()
        if models is None:  # gated, and no token stored: asking would only be refused
            self.hint.setText(TOKEN_HINT.format(repo=repo.repo_id))
            self.hint.show()
            self.settings_button.show()
            return
        self._fill_files(models, pending=False)
        if not models:
            self.files_status.setText(f"{repo.repo_id} has no GGUF file; only GGUF models "
                                      f"can be downloaded here.")

    def _fill_files(self, models: list, *, pending: bool) -> None:
        selected = self.selected_model()
        self.models = models
        self.file_table.setRowCount(len(models))
        for row, model in enumerate(models):
            more = len(model.shards) - 1
            name = model.filename + (f" (+{more} part{'s' if more > 1 else ''})" if more
                                     else "")
            cells = (name, model.quantization or "?", human_bytes(model.size_bytes), "")
            for column, text in enumerate(cells):
                self.file_table.setItem(row, column, QTableWidgetItem(text))
            fit = self.file_table.item(row, 3)
            if model.kind != "model":
                fit.setText("—")
                fit.setToolTip("a vision projector, loaded beside a model")
            elif pending:
                set_badge(fit, None)
            elif model.fit is not None:
                set_badge(fit, model.fit.verdict, explain(model.fit))
            else:
                set_badge(fit, "unknown", model.error or "no estimate")
        names = [m.filename for m in models]
        if selected is not None and selected.filename in names:
            self.file_table.selectRow(names.index(selected.filename))
        elif models:
            self.file_table.selectRow(0)  # Download works at once; arrows pick another
        self._update_download()

    def selected_model(self) -> RemoteModel | None:
        rows = self.file_table.selectionModel().selectedRows()
        return self.models[rows[0].row()] if rows and rows[0].row() < len(self.models) \
            else None

    def fit_of(self, filename: str) -> str | None:
        for row, model in enumerate(self.models):
            if model.filename == filename:
                return self.file_table.item(row, 3).data(Qt.ItemDataRole.UserRole)
        return None

    def select_file(self, filename: str) -> None:
        for row, model in enumerate(self.models):
            if model.filename == filename:
                self.file_table.selectRow(row)

    def select_repo(self, repo_id: str) -> None:
        for row, repo in enumerate(self.results):
            if repo.repo_id == repo_id:
                self.result_table.selectRow(row)

    def _update_download(self) -> None:
        # A file whose header could not be read may still be downloaded: the fit is advice.
        self.download_button.setEnabled(self.selected_model() is not None)

    def download_selected(self) -> None:
        model = self.selected_model()
        if model is None:
            return
        if len(model.shards) > 1:
            # The queue registers each file as a model of its own, and llama.cpp finds a
            # split model's parts by their names, which cache blobs do not have.
            self.message.setText(f"{model.filename} is split into {len(model.shards)} files; "
                                 f"split models cannot be downloaded here yet, choose a "
                                 f"single-file quantization.")
            return
        # The queue's row (or its error) is the answer, in the Downloads panel below.
        self.sig_download.emit(tuple(model.shards))
