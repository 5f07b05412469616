"""Desktop-app test setup: isolated QSettings, tiny media, a window factory.

Renders here are tiny (160x160, draft model, Haar detector, CPU) so the whole folder
runs in seconds on two shared cores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from app.engine.queue.jobstore import JobStore
from app.engine.render import media
from app.ui.app_settings import AppSettings, open_settings
from app.ui.main_window import MainWindow
from tests.mediagen import make_audio, make_video

FACE_SOURCE = "video/v04_sadtalker_hdtf_katiehill_en.mp4"  # 512x512, 25 fps, face fills it
SIDE = 160


@pytest.fixture(autouse=True)
def isolated_qsettings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """QSettings of any scope and format land in a temp folder, never the user's."""
    folder = tmp_path_factory.mktemp("qsettings")
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, str(folder))
    return folder


def write_clip(path: Path, frames: list[np.ndarray], fps: int = 25) -> Path:
    """BGR frames -> H.264 MP4 (no audio), with PyAV."""
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream(
            "libx264", rate=Fraction(fps), options={"crf": "18", "preset": "ultrafast"}
        )
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for i, frame in enumerate(frames):
            picture = av.VideoFrame.from_ndarray(frame, format="bgr24")
            picture.pts = i
            out.mux(stream.encode(picture))
        out.mux(stream.encode())
    return path


@pytest.fixture(scope="session")
def face_frames(tmp_path_factory: pytest.TempPathFactory) -> list[np.ndarray]:
    """The first second of a real talking-head clip at 160x160."""
    from tests.conftest import SHARED_MEDIA

    source = SHARED_MEDIA / FACE_SOURCE
    if not source.is_file():
        pytest.fail(f"shared media missing: {source}")
    frames = []
    with media.open_video(source) as reader:
        for frame in reader.frames():
            frames.append(cv2.resize(frame, (SIDE, SIDE), interpolation=cv2.INTER_AREA))
            if len(frames) == 25:
                break
    return frames


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

    def make(save_settings: bool = True, **overrides: object) -> MainWindow:
        qs = open_settings()
        if save_settings:
            test_settings(out_dir, **overrides).save(qs)
        window = MainWindow(store, qs, devices=["cpu"])
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
