"""Costs and savings: the cost report over the usage ledger, with charts.

Every number comes from app.reports.cost_report (the same function as
`stillroom cost report`), built off the UI thread; each row shows its source.
"""

from __future__ import annotations

import threading
from decimal import Decimal

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.services import Services


class _ReportLoader(QObject):
    sig_ready = Signal(object)
    sig_failed = Signal(str)


class CostDialog(QDialog):
    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Costs and savings")
        self.resize(900, 640)
        self.services = services
        self.report = None
        layout = QVBoxLayout(self)
        self.status = QLabel("Reading the usage ledger…")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Figure", "Value", "Source"])
        self.table.setAccessibleName("Cost report figures")
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        # Rows take the height their wrapped text needs at the columns' final widths (a
        # one-off resizeRowsToContents ran before the stretch column settled, and cut it).
        self.table.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self.charts = QHBoxLayout()
        layout.addLayout(self.charts, 1)
        buttons = QHBoxLayout()
        self.save_button = QPushButton("Save as HTML…")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save_html)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons.addStretch()
        for button in (self.save_button, refresh, close):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self._loader = _ReportLoader()
        self._loader.sig_ready.connect(self._show)
        self._loader.sig_failed.connect(lambda message: self.status.setText(message))
        self.refresh()

    def refresh(self) -> None:
        self.status.setText("Reading the usage ledger…")
        threading.Thread(target=self._build, name="cost-report", daemon=True).start()

    def _build(self) -> None:
        from app.metering.price_catalog import load_price_catalog
        from app.reports.cost_report import report_from_store

        services = self.services
        try:
            report = report_from_store(services.store.engine, services.settings,
                                       lambda: load_price_catalog(services.data_dir))
        except Exception as exc:  # shown in the dialog rather than lost in a thread
            self._loader.sig_failed.emit(f"The report could not be built: {exc}")
            return
        self._loader.sig_ready.emit(report)

    def _show(self, report) -> None:  # noqa: ANN001 (CostReport)
        self.report = report
        reference = report.reference_cloud_model or "no reference model"
        self.status.setText(f"All answers in the ledger, priced against {reference}. "
                            f"“unknown” means a price, tariff or measurement is missing; "
                            f"it is never counted as $0.")
        self.table.setRowCount(len(report.figures))
        for row, figure in enumerate(report.figures):
            for column, text in enumerate((figure.label, figure.text, figure.source)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        self.table.resizeRowsToContents()
        self.save_button.setEnabled(True)
        self._draw_charts(report.daily)

    def _draw_charts(self, days) -> None:  # noqa: ANN001 (tuple[DailyUsage, ...])
        while self.charts.count():
            widget = self.charts.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        if not days:
            self.charts.addWidget(QLabel("No answers yet: the charts fill in as you chat."))
            return
        import pyqtgraph

        xs = list(range(len(days)))
        ticks = [[(i, day.day.strftime("%m-%d")) for i, day in enumerate(days)]]
        tokens = pyqtgraph.PlotWidget(title="Tokens per day")
        tokens.setAccessibleName("Tokens per day")
        tokens.addItem(pyqtgraph.BarGraphItem(x=xs, height=[d.tokens for d in days],
                                              width=0.6, brush="#3b78e7"))
        tokens.getAxis("bottom").setTicks(ticks)
        self.charts.addWidget(tokens)
        money = pyqtgraph.PlotWidget(title="Known cost per day: local vs cloud equivalent ($)")
        money.setAccessibleName("Cost per day, local against the cloud equivalent")
        money.addLegend()
        local = [float(d.local_usd.known or Decimal(0)) for d in days]
        cloud = [float(d.cloud_equivalent_usd.known or Decimal(0)) for d in days]
        money.addItem(pyqtgraph.BarGraphItem(x=[x - 0.18 for x in xs], height=local,
                                             width=0.34, brush="#2e8b57", name="local"))
        money.addItem(pyqtgraph.BarGraphItem(x=[x + 0.18 for x in xs], height=cloud,
                                             width=0.34, brush="#d9822b",
                                             name="cloud equivalent"))
        money.getAxis("bottom").setTicks(ticks)
        self.charts.addWidget(money)

    def save_html(self) -> None:
        if self.report is None:
            return
        from app.reports.cost_report_html import render_html

        path, _ = QFileDialog.getSaveFileName(self, "Save cost report",
                                              "stillroom-cost-report.html", "HTML (*.html)")
        if path:
            with open(path, "w", encoding="utf-8") as stream:  # noqa: PTH123
                stream.write(render_html(self.report))
            self.status.setText(f"Saved {path}")


def open_cost_dialog(services: Services, parent: QWidget) -> CostDialog:
    dialog = CostDialog(services, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
