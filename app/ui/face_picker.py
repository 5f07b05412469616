"""Choose which face a job animates by clicking it: a frame of the job's video with the
detected faces drawn as boxes. The choice is stored with the job as a point at a time
(`X,Y@SECONDS`, the `--face` of the command line), which the render follows from there
across cuts; "Automatic" goes back to `auto`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from app.ui.images import bgr_to_qimage

if TYPE_CHECKING:
    from app.engine.render.faces import Face

PICKED = QColor(80, 220, 120)
OTHER = QColor(240, 200, 60)


class FaceBoxesView(QWidget):
    """The frame scaled to fit, a box per face; a click inside a box picks that face.

    `faces` are in the file's pixels (`source_size`: width, height), which may be larger
    than `frame` (a still the render reads scaled down: media/stills.py); the picture
    and the boxes are both mapped onto the widget from that size."""

    picked = Signal(int)  # index into `faces`

    def __init__(
        self,
        frame: np.ndarray,
        faces: tuple[Face, ...],
        parent: QWidget | None = None,
        source_size: tuple[int, int] | None = None,
    ):
        super().__init__(parent)
        self.image = bgr_to_qimage(frame)
        self.faces = faces
        self.source_size = source_size or (self.image.width(), self.image.height())
        self.chosen: int | None = None
        self._shown = QImage()  # the picture smoothed to the size it is drawn at
        self.setMinimumSize(320, 200)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def sizeHint(self) -> QSize:
        return QSize(640, 400)

    def _image_rect(self) -> QRectF:
        w, h = self.source_size
        scale = min(self.width() / w, self.height() / h)
        x = (self.width() - w * scale) / 2
        y = (self.height() - h * scale) / 2
        return QRectF(x, y, w * scale, h * scale)

    def face_rect(self, index: int) -> QRectF:
        """Where face `index` is drawn, in this widget's coordinates."""
        target = self._image_rect()
        sx = target.width() / self.source_size[0]
        sy = target.height() / self.source_size[1]
        x1, y1, x2, y2 = (float(v) for v in self.faces[index].box)
        return QRectF(target.x() + x1 * sx, target.y() + y1 * sy, (x2 - x1) * sx, (y2 - y1) * sy)

    def paintEvent(self, event: QPaintEvent) -> None:
        target = self._image_rect()
        size = target.size().toSize()
        if self._shown.size() != size and not size.isEmpty():
            # Smoothed once per size: a 4096 px still drawn unsmoothed at 640 px aliases.
            self._shown = self.image.scaled(
                size,
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(20, 20, 20))
        painter.drawImage(target, self._shown)
        for i in range(len(self.faces)):
            painter.setPen(
                QPen(PICKED if i == self.chosen else OTHER, 3 if i == self.chosen else 2)
            )
            painter.drawRect(self.face_rect(i))
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        point = QPointF(event.position())
        hits = [i for i in range(len(self.faces)) if self.face_rect(i).contains(point)]
        if not hits:
            return
        # The innermost box under the click: a face in front of a bigger one.
        self.chosen = min(hits, key=lambda i: self.faces[i].area)
        self.update()
        self.picked.emit(self.chosen)


class FacePickerDialog(QDialog):
    """A job's frame and its faces; OK stores the clicked face as the job's `face`."""

    def __init__(
        self,
        title: str,
        seconds: float,
        frame: np.ndarray,
        faces: tuple[Face, ...],
        parent: QWidget | None = None,
        source_size: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.seconds = seconds
        self.view = FaceBoxesView(frame, faces, self, source_size)
        self.note = QLabel(
            self.tr("Click the face that should speak.")
            if faces
            else self.tr("No face found in this frame: pick another moment in the preview.")
        )
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(self.tr("Use this face"))
        self.ok.setEnabled(False)
        self.automatic = self.buttons.addButton(
            self.tr("Automatic"), QDialogButtonBox.ButtonRole.ResetRole
        )
        self.automatic.clicked.connect(self._choose_automatic)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.view.picked.connect(lambda _i: self.ok.setEnabled(True))
        self._automatic = False
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.buttons)

    def _choose_automatic(self) -> None:
        self._automatic = True
        self.accept()

    def choice(self) -> str:
        """The job's `face` setting for what was picked: "X,Y@SECONDS" (the file's
        pixels) or "auto"."""
        if self._automatic or self.view.chosen is None:
            return "auto"
        box = self.view.faces[self.view.chosen].box
        x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        return f"{x:.0f},{y:.0f}@{self.seconds:.3f}"
