"""What a person does to the window, as events: drops, clicks on rows, menu choices,
answering the dialog that pops up. Tests use these instead of calling slots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

from app.ui.batch_model import COL_VIDEO


def mime_of(paths: list[Path]) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drag_over(window: QWidget, mime: QMimeData) -> QDragEnterEvent:
    """Files dragged over the window, not yet dropped. (The caller keeps `mime` alive:
    the event holds only a C++ pointer to it.)"""
    pos = QPointF(window.width() / 2, window.height() / 2)
    enter = QDragEnterEvent(
        pos,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    return enter


def drag_leave(window: QWidget) -> None:
    QApplication.sendEvent(window, QDragLeaveEvent())


def drop(window: QWidget, paths: list[Path]) -> None:
    """A real drag-enter + drop of local files onto the window."""
    mime = mime_of(paths)
    enter = drag_over(window, mime)
    assert enter.isAccepted()
    event = QDropEvent(
        QPointF(window.width() / 2, window.height() / 2),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, event)
    assert event.isAccepted()


def show_active(qtbot, window: QWidget) -> None:
    """Show the window and make it the active one (keyboard shortcuts go to it)."""
    window.show()
    window.raise_()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)


def row_point(window, row: int, column: int = COL_VIDEO) -> QPoint:
    return window.table.visualRect(window.model.index(row, column)).center()


def click_row(qtbot, window, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A left click on the table's viewport inside row `row`."""
    window.table.scrollTo(window.model.index(row, COL_VIDEO))
    qtbot.mouseClick(
        window.table.viewport(), Qt.MouseButton.LeftButton, modifier, row_point(window, row)
    )


def wait_jobs(qtbot, window, n: int) -> None:
    qtbot.waitUntil(lambda: window.model.rowCount() == n and not window.intake.busy, timeout=20_000)


def answer_next_dialog(qtbot, act: Callable[[QWidget], None], timeout_ms: int = 10_000) -> list:
    """When the next modal dialog (message box or dialog) shows, call act(dialog) on it.
    Returns a list that holds the dialog once it was answered."""
    seen: list = []

    def poll() -> None:
        widget = QApplication.activeModalWidget()
        if isinstance(widget, QMessageBox | QDialog) and widget not in seen:
            seen.append(widget)
            act(widget)
            return
        if len(seen) == 0:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)
    return seen


def press_button(box: QMessageBox, text_start: str) -> None:
    for button in box.buttons():
        if button.text().replace("&", "").startswith(text_start):
            button.click()
            return
    raise AssertionError(f"no button {text_start!r} in {[b.text() for b in box.buttons()]}")
