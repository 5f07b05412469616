"""At 1024 px wide (a small laptop screen) every toolbar command is on the toolbar, in
English and in 简体中文: none goes behind the » extension menu or is cut off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication, QToolButton

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
