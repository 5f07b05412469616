"""Jobs that another process added or changed, shown within a second: the automation API
(`lipsync-studio serve`), a `batch` in a terminal, `queue cancel`, or the process that
runs the queue while this window only watches it.

SQLite's `PRAGMA data_version` moves only when another connection commits, so a tick
costs one pragma while nothing happens elsewhere; when it moved, one query of the
queued and running jobs says which rows to re-read.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from app.engine.queue.jobstore import JobStore
from app.ui.batch_model import BatchModel

INTERVAL_MS = 1000
PENDING = ("queued", "running")


class StoreWatch(QObject):
    def __init__(self, store: JobStore, model: BatchModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.model = model
        self._version = store.data_version()
        self._last_id = store.max_id()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def check(self) -> None:
        version = self.store.data_version()
        if version == self._version:
            return
        self._version = version
        new = self.store.ids_after(self._last_id)
        if new:
            self._last_id = new[-1]
            self.model.add_jobs(new)
        pending = self.store.pending()
        for job in self.model.jobs():
            now = pending.get(job.id)
            if job.state in PENDING and now is None:
                self.model.refresh_job(job.id)  # finished, cancelled or removed elsewhere
            elif now is not None and now != (job.state, job.done):
                self.model.refresh_job(job.id)
