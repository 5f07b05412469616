"""numpy BGR frames -> Qt images (the engine's frames are BGR uint8 H×W×3)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap


def bgr_to_qimage(frame: np.ndarray) -> QImage:
    """A QImage that owns a copy of the pixels (the array may be reused afterwards)."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"expected a BGR uint8 H×W×3 array, got {frame.shape} {frame.dtype}")
    frame = np.ascontiguousarray(frame)
    h, w = frame.shape[:2]
    image = QImage(frame.data, w, h, frame.strides[0], QImage.Format.Format_BGR888)
    return image.copy()  # detach from the numpy buffer


def bgr_to_pixmap(frame: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(bgr_to_qimage(frame))
