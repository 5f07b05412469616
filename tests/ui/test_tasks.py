"""Tasks: a finished worker and its signals are freed on the GUI thread, at once.

The lifetime fault behind "Fatal Python error: bool_dealloc" at quit (issue 13, item 8):
each worker's connected lambdas captured the worker, and the worker held its
WorkerSignals: a reference cycle through Qt's connections. Only Python's cyclic GC could
free it, on whatever thread happened to trigger a collection (a scheduler or pool
thread, or the interpreter's final collection after Qt was gone), deleting a QObject of
the GUI thread from elsewhere, with its queued signal arguments (a `True` from
models.verify, say) still pending.
"""

from __future__ import annotations

import gc
import threading

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QThreadPool

from app.engine.workers import CallWorker
from app.ui.tasks import Tasks


def test_a_finished_worker_is_freed_on_the_gui_thread_without_the_cyclic_gc(qtbot) -> None:
    pool = QThreadPool()
    tasks = Tasks(pool)
    results: list[bool] = []
    destroyed_on: list[threading.Thread] = []
    gc.disable()  # only reference counting may free it
    try:
        worker = CallWorker(lambda: True)
        signals = worker.signals
        worker.signals.destroyed.connect(lambda: destroyed_on.append(threading.current_thread()))
        tasks.start(worker, on_finished=results.append)
        del worker
        qtbot.waitUntil(lambda: results == [True], timeout=5000)
        assert pool.waitForDone(5000)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        assert destroyed_on == [threading.main_thread()]
        assert not shiboken6.isValid(signals) and not tasks.running()
        # (The worker itself stays referenced by PySide's QThreadPool wrapper, which
        # holds a runnable until the pool goes: the window's pool is its child.)
    finally:
        gc.enable()
