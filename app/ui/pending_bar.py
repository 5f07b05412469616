"""Files added without their other half, shown above the list until paired or removed.

A video dropped alone waits for its speech (and an audio for its presenter): the bar
names them and offers Remove, so nothing vanishes behind an 8-second status message.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QWidget

from app.ui.elided_label import ElidedLabel


class PendingBar(QFrame):
    clear_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pending_bar")
        self.setStyleSheet(
            "#pending_bar { background: #fff4d6; border: 1px solid #e0b84a; border-radius: 4px; }"
            " QLabel { color: #5a4300; }"
        )
        self.label = ElidedLabel()
        self.remove_button = QPushButton(self.tr("Remove"))
        self.remove_button.clicked.connect(self.clear_requested.emit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.remove_button)
        self.hide()

    def show_pending(self, videos: list[Path], audios: list[Path]) -> None:
        parts = []
        if videos:
            parts.append(self.tr("Waiting for speech audio: {files}").format(files=_names(videos)))
        if audios:
            parts.append(
                self.tr("Waiting for a presenter video: {files}").format(files=_names(audios))
            )
        if not parts:
            self.hide()
            return
        self.label.setText(" · ".join(parts))
        self.show()


def _names(paths: list[Path]) -> str:
    return ", ".join(p.name for p in paths)
