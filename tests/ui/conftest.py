"""Desktop-app test setup: isolated QSettings, tiny media, a window factory.

Renders here are tiny (160x160, draft model, Haar detector, CPU) so the whole folder
runs in seconds on two shared cores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from app.engine.queue.jobstore import JobStore
from app.ui.app_settings import AppSettings, open_settings
from app.ui.main_window import MainWindow
from app.ui.window_size import DEFAULT_SIZE
from tests.support.media import talking_head_frames, write_clip
from tests.support.mediagen import make_audio, make_video

SIDE = 160


@pytest.fixture(autouse=True)
def isolated_qsettings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """QSettings of any scope and format land in a temp folder, never the user's."""
    folder = tmp_path_factory.mktemp("qsettings")
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, str(folder))
    return folder


@pytest.fixture(scope="session")
def face_frames(tmp_path_factory: pytest.TempPathFactory) -> list[np.ndarray]:
    """The first second of a real talking-head clip at 160x160."""
    return talking_head_frames(25, SIDE)


@pytest.fixture
def face_clip(tmp_path: Path, face_frames: list[np.ndarray]) -> Path:
    return write_clip(tmp_path / "presenter.mp4", face_frames)


@pytest.fixture
def pattern_clip(tmp_path: Path) -> Path:
    return make_video(tmp_path / "pattern.mp4", SIDE, SIDE, 25, 1.0, audio=False)


@pytest.fixture
def speech(tmp_path: Path) -> Callable[..., Path]:
    def make(name: str, seconds: float = 1.0) -> Path:
        return make_audio(tmp_path / name, seconds, kind="speechlike")

    return make


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "renders"
    folder.mkdir()
    return folder


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    with JobStore(tmp_path / "jobs.sqlite3") as job_store:
        yield job_store


def test_settings(out_dir: Path, **overrides: object) -> AppSettings:
    values: dict[str, object] = dict(
        model="draft", detector="haar", device="cpu", output_dir=str(out_dir), preset="ultrafast"
    )
    values.update(overrides)
    return AppSettings(**values)  # type: ignore[arg-type]


test_settings.__test__ = False  # type: ignore[attr-defined]  # not a test


@pytest.fixture
def make_window(qtbot, store: JobStore, out_dir: Path) -> Iterator[Callable[..., MainWindow]]:
    """MainWindow(s) on the test's store with tiny-render settings; shut down afterwards."""
    windows: list[MainWindow] = []

    def make(
        save_settings: bool = True, first_start_size: bool = False, **overrides: object
    ) -> MainWindow:
        qs = open_settings()
        if save_settings:
            test_settings(out_dir, **overrides).save(qs)
        window = MainWindow(store, qs, devices=["cpu"])
        if not first_start_size:
            # The tests were written for the default size; the offscreen screen
            # (800x800) shrinks a first start (window_size.py, test_window_size.py).
            window.resize(DEFAULT_SIZE)
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()


@pytest.fixture
def no_dialogs(monkeypatch):
    """Record every static QMessageBox call a test does not expect instead of blocking on
    it; a question is answered Yes."""
    shown: list[tuple[str, str, str]] = []

    def record(kind):
        def box(parent, title, text, *args, **kwargs):
            shown.append((kind, title, text))
            return (
                QMessageBox.StandardButton.Yes
                if kind == "question"
                else QMessageBox.StandardButton.Ok
            )

        return box

    for kind in ("warning", "information", "critical", "question"):
        monkeypatch.setattr(QMessageBox, kind, record(kind))
    return shown


@pytest.fixture
def jsonlog() -> Iterator[None]:
    """The app's JSON-lines log file, as the desktop app sets it up (the log panel's source)."""
    from app.engine.logs import setup_logging, shutdown_logging

    setup_logging()
    yield
    shutdown_logging()
