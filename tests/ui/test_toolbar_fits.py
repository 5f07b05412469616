"""At 1024 px wide (a small laptop screen) every toolbar command is on the toolbar, in
English and in 简体中文: none goes behind the » extension menu or is cut off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QApplication, QToolButton

from app.ui import job_files
from app.ui.i18n import install_translators, remove_translators


@pytest.fixture(params=["en", "zh_CN"])
def language(request) -> Iterator[str]:
    app = QApplication.instance()
    translators = install_translators(app, request.param) if request.param != "en" else []
    try:
        yield request.param
    finally:
        remove_translators(app, translators)


def test_every_toolbar_action_is_shown_at_1024_px(qtbot, language, make_window) -> None:
    window = make_window()
    window.resize(1024, 700)
    window.show()
    qtbot.waitExposed(window)
    assert window.width() == 1024
    toolbar = window.toolbar
    qtbot.waitUntil(lambda: toolbar.width() > 0)
    actions = [a for a in toolbar.actions() if not a.isSeparator()]
    assert window.act_open_folder in actions
    for action in actions:
        button = toolbar.widgetForAction(action)
        assert button is not None and button.isVisible(), action.text()
        assert toolbar.rect().contains(button.geometry()), (action.text(), button.geometry())
    extension = toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert extension is None or not extension.isVisible()  # no » menu of hidden actions


def test_the_output_folder_button_opens_the_output_folder(
    qtbot, language, make_window, out_dir, monkeypatch
) -> None:
    opened: list[QUrl] = []
    monkeypatch.setattr(job_files, "_system_opener", lambda url: opened.append(url) or True)
    window = make_window()
    window.resize(1024, 700)
    window.show()
    qtbot.waitExposed(window)
    button = window.toolbar.widgetForAction(window.act_open_folder)
    assert button.text() == window.act_open_folder.iconText()  # the short label
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert opened == [QUrl.fromLocalFile(str(out_dir))]
