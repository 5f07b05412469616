"""A first start opens the main window within the screen, also on a small one."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize

from app.ui.window_size import DEFAULT_SIZE, TITLE_BAR, first_size


def test_the_default_size_where_the_screen_has_room() -> None:
    assert first_size(QRect(0, 0, 1920, 1040)) == DEFAULT_SIZE


def test_a_small_screen_gets_a_window_that_fits_it() -> None:
    # A 1024x768 laptop with a 40 px taskbar.
    assert first_size(QRect(0, 0, 1024, 728)) == QSize(1024, 728 - TITLE_BAR)


def test_a_first_start_window_fits_the_screen_it_opens_on(make_window) -> None:
    window = make_window(first_start_size=True)
    window.show()
    available = window.screen().availableGeometry()  # offscreen: 800x800
    assert available.width() < DEFAULT_SIZE.width()  # else this test shows nothing
    assert window.width() <= available.width()
    assert window.height() <= available.height() - TITLE_BAR
