"""The batch list's view: columns sized so State and Progress stay in sight, names elided
in the middle (the extension stays), and the first-run hint painted in the empty table."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from app.ui.batch_model import (
    COL_AUDIO,
    COL_MODEL,
    COL_OUTPUT,
    COL_PRIORITY,
    COL_PROGRESS,
    COL_SPEED,
    COL_STATE,
    COL_THUMB,
    COL_VIDEO,
    BatchModel,
)
from app.ui.delegates import ElideRightDelegate, ProgressDelegate

translate = QCoreApplication.translate

COLUMN_WIDTHS = {
    COL_THUMB: 64,
    COL_VIDEO: 120,
    COL_AUDIO: 120,
    COL_STATE: 150,
    COL_PROGRESS: 110,
    COL_SPEED: 130,
    COL_MODEL: 110,
    COL_PRIORITY: 60,
    COL_OUTPUT: 160,
}
ROW_HEIGHT = 60


class BatchTable(QTableView):
    def __init__(self, model: BatchModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # "long_na…me.mp4"
        self.setIconSize(QSize(56, 52))
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.setItemDelegateForColumn(COL_PROGRESS, ProgressDelegate(self))
        self.setItemDelegateForColumn(COL_STATE, ElideRightDelegate(self))
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(40)
        for col, width in COLUMN_WIDTHS.items():
            self.setColumnWidth(col, width)
        header.setSectionResizeMode(COL_THUMB, QHeaderView.ResizeMode.Fixed)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def empty_text(self) -> str:
        return translate(
            "BatchTable",
            "Drop presenter videos and speech here\n\n"
            "One video with several audios makes a job per audio.\n"
            "Or use Add videos and Add audio above.",
        )

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        if self.model().rowCount() > 0:
            return
        painter = QPainter(self.viewport())
        painter.setPen(QColor(120, 125, 135))
        area: QRect = self.viewport().rect().adjusted(24, 24, -24, -24)
        painter.drawText(
            area, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self.empty_text()
        )
