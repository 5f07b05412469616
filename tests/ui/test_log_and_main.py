"""The log panel (readable lines, job filter, diagnostics) and run_gui's error handling."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from app.engine.logs import shutdown_logging
from app.engine.queue.joblog import log_event
from app.ui.log_panel import LogPanel, format_event
from app.ui.main import ErrorReporter, run_gui
from app.ui.main_window import MainWindow
from app.ui.tasks import Tasks


@pytest.fixture
def panel(qtbot) -> Iterator[LogPanel]:
    tasks = Tasks(QThreadPool())
    panel = LogPanel(tasks)
    qtbot.addWidget(panel)
    yield panel
    tasks.shutdown()


def test_format_event_reads_like_a_log_line() -> None:
    line = format_event(
        {
            "time": "2026-05-01T14:02:03.123+02:00",
            "level": "WARNING",
            "job_id": 12,
            "message": "job_failed job_id=12 error=boom",
            "event": "job_failed",
            "error": "ValueError: boom",
            "elapsed_s": 1.25,
            "retry": True,
            "exc": "Traceback …\nValueError: boom",
        }
    )
    assert line.startswith("14:02:03  WARNING  job 12")
    assert "failed after 1.2 s: ValueError: boom (will retry)" in line
    assert line.endswith("| ValueError: boom")


def test_panel_shows_the_log_filtered_by_job(qtbot, panel, jsonlog) -> None:
    log = logging.getLogger("app.test")
    log_event("job_start", logger=log, job_id=3, slot="cpu")
    log_event("job_start", logger=log, job_id=4, slot="cpu")
    log_event("job_finish", logger=log, job_id=3, elapsed_s=1.5)
    log.warning("something without a job")
    panel.set_jobs([3, 4])
    panel.refresh()
    qtbot.waitUntil(lambda: len(panel.lines()) == 4, timeout=10_000)
    panel.show_job(3)
    qtbot.waitUntil(lambda: len(panel.lines()) == 2, timeout=10_000)
    assert all("job 3 " in line for line in panel.lines())
    assert panel.lines()[-1].endswith("done in 1.5 s")  # in words, not "job_finish k=v"


def test_copy_diagnostics_puts_versions_providers_and_errors_on_the_clipboard(
    qtbot, panel, jsonlog
) -> None:
    try:
        raise ValueError("the model file is truncated")
    except ValueError:
        logging.getLogger("app.test").error("render broke", exc_info=True, extra={"job_id": 9})
    panel.copy_diagnostics()
    qtbot.waitUntil(lambda: panel.status.text() == "Diagnostics copied", timeout=20_000)
    text = QGuiApplication.clipboard().text()
    for expected in (
        "lipsync-studio",
        "PySide6",
        "onnxruntime",
        "ONNX Runtime providers:",
        "CPUExecutionProvider",
        "GPUs:",
        "render broke",
        "ValueError: the model file is truncated",
    ):
        assert expected in text


def test_excepthook_logs_and_shows_a_dialog_from_any_thread(qtbot, jsonlog, monkeypatch) -> None:
    from app.engine.queue.joblog import read_events

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box.informativeText()))
    reporter = ErrorReporter()

    def crash() -> None:
        try:
            raise RuntimeError("worker blew up")
        except RuntimeError as exc:
            reporter.excepthook(type(exc), exc, exc.__traceback__)

    thread = threading.Thread(target=crash)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: shown == ["RuntimeError: worker blew up"], timeout=5000)
    (event,) = read_events(event="uncaught_exception")
    assert event["level"] == "CRITICAL" and "worker blew up" in event["exc"]


def test_run_gui_opens_the_window_and_returns_when_it_closes(qtbot, monkeypatch) -> None:
    import sys

    hooks = (sys.excepthook, threading.excepthook)
    seen: list[MainWindow] = []

    def close_it() -> None:
        windows = [
            w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()
        ]
        if not windows:
            QTimer.singleShot(20, close_it)
            return
        seen.extend(windows)
        windows[0].close()

    QTimer.singleShot(0, close_it)
    try:
        assert run_gui([]) == 0
    finally:
        shutdown_logging()
    assert len(seen) == 1 and seen[0].queue.closed  # shut down on close
    assert (sys.excepthook, threading.excepthook) == hooks  # put back


def test_run_gui_smoke_test_mode_and_files_from_the_command_line(
    qtbot, monkeypatch, capsys, tmp_path
) -> None:
    from tests.support.mediagen import make_audio, make_video

    video = make_video(tmp_path / "talk.mp4", 64, 48, audio=False)
    audio = make_audio(tmp_path / "voice.wav", 1.0)
    monkeypatch.setenv("LIPSYNC_STUDIO_SMOKE_TEST", "1")
    added: list[list] = []
    monkeypatch.setattr(MainWindow, "add_paths", lambda self, paths, *a: added.append(paths))
    try:
        assert run_gui(["lipsync-studio", str(video), str(audio), "--smoke-test"]) == 0
    finally:
        shutdown_logging()
    out = capsys.readouterr().out
    assert "smoke-test: main window shown: Lipsync Studio" in out
    # an empty data folder, default settings, no network: the shipped YuNet, never Haar
    assert "smoke-test: face detector: yunet\n" in out
    assert added == [[video, audio]]
