"""`lipsync-studio` with no arguments: the desktop app.

run_gui() sets up the JSON-lines log, the QApplication, an excepthook that logs an
uncaught exception and shows it in a dialog (from any thread: the dialog is shown on the
GUI thread), the job store and the main window.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app import __version__
from app.ui.app_settings import APPLICATION, ORGANISATION

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

log = logging.getLogger(__name__)

SMOKE_ENV = "LIPSYNC_STUDIO_SMOKE_TEST"

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class ErrorReporter(QObject):
    """Logs uncaught exceptions and shows each in a dialog on the GUI thread."""

    raised = Signal(str, str)  # summary, traceback text

    def __init__(self, parent_widget: Callable[[], QWidget | None] = lambda: None) -> None:
        super().__init__()
        self._parent_widget = parent_widget
        self.raised.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self.shown: list[str] = []

    def excepthook(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.critical(
            "uncaught exception",
            exc_info=(exc_type, exc, tb),
            extra={"event": "uncaught_exception"},
        )
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        self.raised.emit(f"{exc_type.__name__}: {exc}", text)  # queued: safe from any thread

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            self.excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    def install(self) -> None:
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook

    def _show(self, summary: str, details: str) -> None:
        self.shown.append(summary)
        box = QMessageBox(self._parent_widget())
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle(self.tr("Lipsync Studio: unexpected error"))
        box.setText(
            self.tr(
                "Something went wrong. The error was written to the log; "
                "Log → Copy diagnostics helps a bug report."
            )
        )
        box.setInformativeText(summary)
        box.setDetailedText(details)
        box.exec()


def _smoke_test_done(window: MainWindow) -> None:
    try:
        print(f"smoke-test: main window shown: {window.windowTitle()}", flush=True)
        print(f"smoke-test: face detector: {_gui_detector(window)}", flush=True)
    except Exception as exc:  # a smoke test reports and fails; it never waits on a dialog
        print(f"smoke-test: failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        QApplication.exit(1)
        return
    window.close()  # the last window: the event loop ends as when the user closes it


def _gui_detector(window: MainWindow) -> str:
    """The face detector the window's renders get, resolved as a render resolves it."""
    from app.engine.render.recipe import make_detector

    return make_detector(window.settings.render_settings(Path("v"), Path("a"), Path("o.mp4"))).name


def run_gui(argv: Sequence[str] | None = None) -> int:
    """The desktop app; returns its exit status.

    argv (default sys.argv): files given on the command line (a file association, "Open
    with") are added as if dropped. `--smoke-test` or LIPSYNC_STUDIO_SMOKE_TEST=1 (the
    installer's CI): show the main window, print "smoke-test: main window shown: TITLE"
    and "smoke-test: face detector: NAME" (what its renders would use), close it and
    return 0; on an error print "smoke-test: failed: …" and return 1.
    """
    from app.engine import paths
    from app.engine.logs import log_to_file
    from app.engine.queue.jobstore import JobStore
    from app.ui.app_settings import AppSettings, open_settings
    from app.ui.i18n import install_translators, remove_translators
    from app.ui.main_window import MainWindow

    argv = list(argv) if argv is not None else list(sys.argv)
    smoke = "--smoke-test" in argv[1:] or os.environ.get(SMOKE_ENV) == "1"
    files = [Path(a) for a in argv[1:] if not a.startswith("-") and Path(a).exists()]
    log_to_file()  # INFO and up, for the log panel; the console keeps what `-v` gave it
    app = QApplication.instance() or QApplication(argv or ["lipsync-studio"])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Lipsync Studio")
    app.setApplicationVersion(__version__)
    icon = paths.resources_dir() / "icons" / "lipsync-studio.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    qsettings = open_settings()
    # Before any widget: every tr() from here on reads the chosen language.
    translators = install_translators(app, AppSettings.load(qsettings).language)
    window: MainWindow | None = None
    reporter = ErrorReporter(lambda: window)
    old_hooks = (sys.excepthook, threading.excepthook)
    reporter.install()
    log.info("lipsync-studio %s: desktop app starting", __version__)
    store = JobStore()
    try:
        window = MainWindow(store, qsettings)
        window.show()
        if files:
            window.add_paths(files)
        if smoke:
            QTimer.singleShot(0, lambda: _smoke_test_done(window))
        return int(app.exec())
    finally:
        if window is not None:
            window.shutdown()
            # Destroy the window now, while Python is whole: a deleteLater() posted after
            # the event loop ended runs only at interpreter exit (see MainWindow.shutdown).
            shiboken6.delete(window)
            window = None
        store.close()
        remove_translators(app, translators)
        sys.excepthook, threading.excepthook = old_hooks
        log.info("desktop app closed")
