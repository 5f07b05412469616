"""Issue 13, item 13: 简体中文. With the zh_CN catalogue loaded, no visible text of the
main window, Settings or the model manager stays English (file names, model names,
product names and units aside); the catalogue is complete and compiled (the CI check)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialogButtonBox,
    QLabel,
    QMenu,
    QTableView,
    QTableWidget,
    QWidget,
)

from app.engine.models import registry
from app.engine.queue.jobstore import JobSpec
from app.engine.settings import ENCODERS, PRESETS
from app.ui.i18n import install_translators, remove_translators, resolve_language
from app.ui.settings_dialog import SettingsDialog
from tests.support.person import drop, finished_job, show_active

REPO = Path(__file__).resolve().parents[2]

# Names that stay as they are in any language: products, models, formats, units.
NAMES = [
    r"Lipsync Studio",
    r"\S+\.(mp4|wav|mov|png|jpg|onnx|ini)\b",
    r"\w+ExecutionProvider",
    r"\b(YuNet|OpenCV|Haar|ONNX|GPU|CPU|CUDA|DirectML|H\.264|CRF|MIT|Apache-2\.0|Qt)\b",
    r"\b(fps|MB|KB|GB|B|s)\b",
    r"\(&[A-Z]\)",  # a menu mnemonic: 文件(&F)
    r"\b(draft|auto)\b",
    r"\bEnglish\b",  # a language is offered in its own name
    r"\b(Wav2Lip|EDTalk)\b",  # model families, by their papers' names
    r"\bface_enhancer\b",  # the enhancers' family, as the registry names it
    r"\bRay\b",  # the render farm engine (ray.io) is called Ray in every language
    # encoders and their makers, as FFmpeg and the vendors name them
    r"\b(NVIDIA|NVENC|HEVC|AMD|AMF|Intel|Quick Sync|Apple|VideoToolbox|VA-API)\b",
    r"\bDirect3D 11 \(D3D11VA\)",
    r"\bWindows Media Foundation\b",
    *(rf"\b{encoder}\b" for encoder in ENCODERS),
    r"\bCtrl\+\S+",
    *(rf"\b{re.escape(name)}\b" for name in registry.load_registry().names()),
    *(rf"\b{preset}\b" for preset in PRESETS),  # x264's own preset names
]
ENGLISH = re.compile(r"[A-Za-z]{2,}")


def english_left(text: str) -> list[str]:
    for pattern in NAMES:
        text = re.sub(pattern, " ", text)
    return ENGLISH.findall(text)


def visible_texts(root: QWidget) -> list[str]:
    """What a person reads: labels, buttons, combo items, headers, cells, menus."""
    texts: list[str] = [root.windowTitle()]
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisibleTo(root) and widget is not root:
            continue
        if isinstance(widget, QLabel):
            texts.append(widget.text())
        elif isinstance(widget, QAbstractButton):
            texts.append(widget.text())
        elif isinstance(widget, QComboBox):
            texts += [widget.itemText(i) for i in range(widget.count())]
        elif isinstance(widget, QTableView | QTableWidget):
            model = widget.model()
            for col in range(model.columnCount()):
                if not widget.isColumnHidden(col):
                    texts.append(str(model.headerData(col, Qt.Orientation.Horizontal) or ""))
                    for row in range(model.rowCount()):
                        value = model.data(model.index(row, col))
                        texts.append("" if value is None else str(value))
    for menu in root.findChildren(QMenu):
        texts.append(menu.title())
        texts += [action.text() for action in menu.actions()]
    return [t for t in texts if t]


@pytest.fixture
def chinese() -> Iterator[None]:
    app = QApplication.instance()
    translators = install_translators(app, "zh_CN")
    assert len(translators) == 2  # ours and Qt's own (standard dialog buttons)
    try:
        yield
    finally:
        remove_translators(app, translators)


def test_no_english_left_in_the_main_window_settings_and_models(
    qtbot, chinese, make_window, pattern_clip, speech, out_dir, no_dialogs
) -> None:
    window = make_window()
    show_active(qtbot, window)
    finished_job(window, pattern_clip, speech("讲解.wav"), out_dir / "成片.mp4")
    job = finished_job(
        window,
        pattern_clip,
        speech("b.wav"),
        out_dir / "b.mp4",
        face_frames=0,
        warning="no face found in any frame",
    )
    failed = window.store.add_many(
        [JobSpec(window.settings.render_settings(pattern_clip, speech("c.wav"), out_dir / "c.mp4"))]
    )
    window.store.claim_next("cpu")
    window.store.fail(failed[0], "x")
    window.model.reload()
    window.select_job(job)
    drop(window, [pattern_clip])  # a video waiting for its audio: the pending bar
    qtbot.waitUntil(lambda: window.pending_bar.isVisible(), timeout=10_000)
    window.act_log.trigger()
    window.update_summary()
    assert window.act_start.text() == "开始" and window.notice.isVisible()
    problems = {t: english_left(t) for t in visible_texts(window)}
    assert {t: w for t, w in problems.items() if w} == {}

    settings = SettingsDialog(window.settings, window)
    qtbot.addWidget(settings)
    settings.show()
    ok = settings.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    assert ok.text() == "确定"  # Qt's own catalogue
    problems = {t: english_left(t) for t in visible_texts(settings)}
    assert {t: w for t, w in problems.items() if w} == {}

    models = window.open_models()
    qtbot.waitUntil(lambda: models.loaded)
    problems = {t: english_left(t) for t in visible_texts(models)}
    assert {t: w for t, w in problems.items() if w} == {}


def test_long_chinese_strings_fit_the_toolbar_at_1280(qtbot, chinese, make_window) -> None:
    window = make_window()
    window.resize(1280, 760)
    show_active(qtbot, window)
    toolbar = window.toolbar
    # No action pushed into the overflow menu: every toolbar button is shown in full.
    hidden = [
        action.text()
        for action in toolbar.actions()
        if not action.isSeparator() and not toolbar.widgetForAction(action).isVisible()
    ]
    assert hidden == []


def test_system_language_picks_simplified_chinese_only_for_it() -> None:
    assert resolve_language("system", QLocale("zh_CN")) == "zh_CN"
    assert resolve_language("system", QLocale("zh_TW")) == "en"
    assert resolve_language("system", QLocale("de_DE")) == "en"
    assert resolve_language("en", QLocale("zh_CN")) == "en"
    assert QCoreApplication.translate("BatchModel", "Done") == "Done"  # nothing installed


def test_catalogue_is_complete_and_compiled() -> None:
    """The CI build step: the .ts holds every string of the code, all translated, and the
    committed .qm is compiled from it."""
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "i18n.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
