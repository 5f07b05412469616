"""Item delegates of the batch table."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
)

from app.ui.batch_model import FRACTION_ROLE

SELECTED_CHUNK = QColor(150, 205, 250)


class ProgressDelegate(QStyledItemDelegate):
    """A progress bar with the cell's text ("37 / 250") for every job that has started."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        fraction = index.data(FRACTION_ROLE)
        if fraction is None:
            super().paint(painter, option, index)
            return
        widget = option.widget  # type: ignore[attr-defined]
        style = widget.style() if widget is not None else QApplication.style()
        background = QStyleOptionViewItem(option)
        self.initStyleOption(background, index)
        background.text = ""
        style.drawPrimitive(
            QStyle.PrimitiveElement.PE_PanelItemViewItem, background, painter, widget
        )
        bar = QStyleOptionProgressBar()
        rect = option.rect  # type: ignore[attr-defined]
        margin = max(4, (rect.height() - 22) // 2)
        bar.rect = rect.adjusted(6, margin, -6, -margin)
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = int(round(max(0.0, min(1.0, float(fraction))) * 1000))
        bar.text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        state = option.state  # type: ignore[attr-defined]
        bar.state = (state & ~QStyle.StateFlag.State_Selected) | QStyle.StateFlag.State_Horizontal
        palette = QPalette(option.palette)  # type: ignore[attr-defined]
        if state & QStyle.StateFlag.State_Selected:
            # On a selected row the chunk would be the selection's own blue: a lighter
            # chunk and dark text keep "37 / 250" readable.
            palette.setColor(QPalette.ColorRole.Highlight, SELECTED_CHUNK)
            palette.setColor(
                QPalette.ColorRole.HighlightedText, palette.color(QPalette.ColorRole.Text)
            )
        bar.palette = palette
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, widget)


class ElideRightDelegate(QStyledItemDelegate):
    """Text cut at its end ("Failed: model wav2lip_96 is no…"): the start says the most.
    (The table elides names in the middle, which keeps their extension.)"""

    def initStyleOption(  # noqa: N802
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideRight  # type: ignore[attr-defined]
