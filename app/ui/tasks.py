"""Starting workers from widgets: keep each alive until it ends, cancel all on close.

The widgets own a `Tasks` (one QThreadPool shared by a window and its dialogs, passed
in, never `QThreadPool.globalInstance()`), so shutting the window down cancels every
worker and waits for them (STYLE.md 5).

Lifetime. The callbacks connected here capture the worker and the worker holds its
signals: a reference cycle through Qt's connections that only Python's cyclic GC could
break, on whatever thread ran a collection (a pool or scheduler thread, or the
interpreter's last collection at exit): a GUI-thread QObject deleted from elsewhere with
queued arguments still pending ("Fatal Python error: bool_dealloc" at quit). So the
signals are parented to this object and deleted with deleteLater() on the GUI thread
once the terminal signal has been handled: the connections and the cycle go with them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QMetaObject, QObject, QThreadPool

from app.engine.workers import BaseWorker

log = logging.getLogger(__name__)


class Tasks(QObject):
    def __init__(self, pool: QThreadPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self._running: dict[BaseWorker, list[QMetaObject.Connection]] = {}

    def start(
        self,
        worker: BaseWorker,
        on_finished: Callable[[Any], None] | None = None,
        on_errored: Callable[[BaseException], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
        on_preview: Callable[[Any], None] | None = None,
    ) -> BaseWorker:
        signals = worker.signals
        signals.setParent(self)  # the C++ object is Qt's now: freed on this thread
        links = []
        if on_progress is not None:
            links.append(signals.progress.connect(on_progress))
        if on_preview is not None:
            links.append(signals.preview.connect(on_preview))
        # Connected to the Tasks object (a receiver in the GUI thread): queued there.
        links.append(signals.finished.connect(lambda r: self._end(worker, on_finished, r)))
        links.append(signals.errored.connect(lambda exc: self._end(worker, on_errored, exc)))
        links.append(signals.cancelled.connect(lambda: self._end(worker, on_cancelled)))
        self._running[worker] = links
        self.pool.start(worker)
        return worker

    def _end(self, worker: BaseWorker, callback: Callable[..., None] | None, *args: Any) -> None:
        links = self._running.pop(worker, [])
        try:
            if callback is not None:
                callback(*args)
            elif args and isinstance(args[0], BaseException):
                log.warning("%s: %s", type(worker).__name__, args[0])
        finally:
            # Cut the connections (the cycle) and free the signals here, on this thread.
            for link in links:
                QObject.disconnect(link)
            worker.signals.deleteLater()

    def busy(self, kind: type | None = None) -> bool:
        return any(kind is None or isinstance(w, kind) for w in self._running)

    def running(self) -> list[BaseWorker]:
        return list(self._running)

    def cancel_all(self) -> None:
        for worker in list(self._running):
            worker.cancel()

    def shutdown(self, msecs: int = 10_000) -> bool:
        """Cancel every worker and wait for the pool; False if some did not stop in time."""
        self.cancel_all()
        return self.pool.waitForDone(msecs)
