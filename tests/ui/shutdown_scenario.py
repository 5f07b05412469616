"""One session of the desktop app that uses every panel, then quits while rendering.

Run as a script by test_shutdown.py (a fresh interpreter each time: the crash it guards
against, "Fatal Python error: bool_dealloc", happened at interpreter exit):

    python -m tests.ui.shutdown_scenario VIDEO AUDIO LONG_AUDIO DONE_OUTPUT

Plays a finished render, flips Before/After, cancels and retries a job, opens the model
manager and the log panel, starts a long render and closes the window mid-render,
answering Yes to "Quit while rendering?". Prints "scenario: done" when it got that far.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox


def main(argv: list[str]) -> int:
    from app.engine.queue.jobstore import JobSpec
    from app.ui.main import run_gui
    from app.ui.main_window import MainWindow

    video, audio, long_audio, done_output = (Path(a) for a in argv[:4])
    QMessageBox.question = staticmethod(  # type: ignore[method-assign]
        lambda *a, **k: QMessageBox.StandardButton.Yes
    )
    steps: list[Callable[[MainWindow], bool]] = []

    def step(fn: Callable[[MainWindow], bool]) -> Callable[[MainWindow], bool]:
        steps.append(fn)
        return fn

    @step
    def add_jobs(w: MainWindow) -> bool:
        shutil.copy(video, done_output)
        settings = w.settings.render_settings(video, audio, done_output)
        (done_id,) = w.store.add_many([JobSpec(settings)])
        w.store.claim_next("cpu")
        w.store.finish(done_id, face_frames=0, warning="no face")
        w.model.refresh_job(done_id)
        w.add_paths([video, long_audio])
        return True

    @step
    def play_and_compare(w: MainWindow) -> bool:
        if w.model.rowCount() < 2:
            return False
        w.select_job(w.model.ids()[0])
        w.preview.toggle_play()
        w.preview.compare_button.click()
        return True

    @step
    def cancel_and_retry(w: MainWindow) -> bool:
        w.select_job(w.model.ids()[1])
        w.act_cancel.trigger()
        w.act_retry.trigger()
        return True

    @step
    def panels(w: MainWindow) -> bool:
        w.open_models()
        w.act_log.trigger()
        return True

    @step
    def render(w: MainWindow) -> bool:
        w.select_job(w.model.ids()[1])
        w.act_start.trigger()
        return True

    @step
    def quit_mid_render(w: MainWindow) -> bool:
        if not w.queue.running_jobs():
            return False
        print("scenario: done", flush=True)
        w.close()
        return True

    def tick() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        if windows and windows[0].isVisible() and steps[0](windows[0]):
            steps.pop(0)
        if steps:
            QTimer.singleShot(100, tick)

    QTimer.singleShot(0, tick)
    return run_gui(["lipsync-studio"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
