"""The main window's size on a first start, before it has a saved geometry."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize

DEFAULT_SIZE = QSize(1280, 760)
TITLE_BAR = 40  # px the window manager adds above the window: keep it on the screen too


def first_size(available: QRect) -> QSize:
    """DEFAULT_SIZE, shrunk to the screen's free area (a 1024x768 laptop's is smaller):
    a window wider than its screen opens with its right side out of reach."""
    return QSize(
        min(DEFAULT_SIZE.width(), available.width()),
        min(DEFAULT_SIZE.height(), available.height() - TITLE_BAR),
    )
