"""The only Qt file in the engine: QRunnables and signal adapters (docs/architecture.md).

Everything else in `app.engine` is plain Python; this module turns its callbacks into
Qt signals so the GUI thread only paints:

- `WorkerSignals`: the explicit signals of every worker here (STYLE.md 3):
  started, progress, preview, finished, errored, cancelled.
- `CallWorker`: any blocking call (probe, thumbnails, model status, one-frame preview)
  off the GUI thread; its result or exception comes back as a signal.
- `DownloadWorker`: a model download with throttled byte progress and cancel (resumable:
  the engine keeps the `.part`).
- `PoolExecutor`: the Scheduler's executor in the desktop app: each job a QRunnable on
  the window's QThreadPool.
- `SchedulerBridge`: a QObject whose methods are the Scheduler's hooks; they run on the
  jobs' threads and emit signals that Qt queues to the GUI thread, progress throttled to
  ~10/s and preview frames to ~4/s per job (BGR ndarrays, made QImages by the UI).

The plain-Python work they run lives in the engine proper (render/file_probe.py,
render/one_frame.py, the scheduler): this module only adapts it to Qt.

Only QtCore is imported here. Errors never escape a `run()`: they are logged and sent as
`errored(exception)`. Cancelling is cooperative: a `threading.Event` the engine checks.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.engine.errors import Cancelled, InputError
from app.engine.progress import FrameProgress
from app.engine.throttle import Throttle

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1  # ~10 progress signals a second per job
PREVIEW_INTERVAL_S = 0.25  # ~4 preview frames a second per job


class WorkerSignals(QObject):
    """Signals of one worker. Created in the GUI thread, so Qt queues every emit from a
    pool thread to the receivers there. Payloads are Python objects (`Signal(object)`):
    64-bit numbers and numpy arrays cross unharmed (STYLE.md 6)."""

    started = Signal()
    progress = Signal(object)  # FrameProgress without its preview, or (bytes, total)
    preview = Signal(object)  # BGR uint8 ndarray (small: the pipeline's preview size)
    finished = Signal(object)  # the result (RenderResult, a call's return value …)
    errored = Signal(object)  # the exception
    cancelled = Signal()


class BaseWorker(QRunnable):
    """Shared plumbing: signals, cancel Event, catch-all run().

    autoDelete is off: the owner keeps the worker (and so its signals) alive until a
    terminal signal arrives, then drops it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.signals = WorkerSignals()
        self.cancel_event = threading.Event()

    def cancel(self) -> None:
        self.cancel_event.set()

    def run(self) -> None:
        try:
            self._run()
        except RuntimeError as exc:  # the receiving side was torn down mid-run: nobody to tell
            log.debug("%s: %s", type(self).__name__, exc)

    def _run(self) -> None:
        self.signals.started.emit()
        try:
            result = self.work()
        except Cancelled:
            self.signals.cancelled.emit()
            return
        except Exception as exc:  # every error crosses to the GUI thread as a signal
            if isinstance(exc, InputError):
                log.info("%s: %s", type(self).__name__, exc)
            else:
                log.error("%s failed", type(self).__name__, exc_info=True)
            self.signals.errored.emit(exc)
            return
        if self.cancel_event.is_set():  # finished anyway: the caller no longer wants it
            self.signals.cancelled.emit()
            return
        self.signals.finished.emit(result)

    def work(self) -> object:  # pragma: no cover - overridden
        raise NotImplementedError


class CallWorker(BaseWorker):
    """Runs `fn(*args, **kwargs)` on a pool thread: finished(result) or errored(exc).

    With `pass_cancel=True`, fn gets the cancel Event as `cancel=`; a call that returns
    after a cancel reports cancelled() instead of its result.
    """

    def __init__(
        self, fn: Callable[..., object], *args: object, pass_cancel: bool = False, **kwargs: object
    ) -> None:
        super().__init__()
        self.fn, self.args, self.kwargs = fn, args, kwargs
        if pass_cancel:
            self.kwargs["cancel"] = self.cancel_event

    def work(self) -> object:
        return self.fn(*self.args, **self.kwargs)


class DownloadWorker(BaseWorker):
    """`download.download(name)` with progress((bytes, total or None)) at most ~10/s.

    cancel() stops it between chunks: cancelled() is emitted and the partial file stays,
    so the next download of that model resumes where this one stopped.
    """

    def __init__(
        self, name: str, *, progress_interval: float = PROGRESS_INTERVAL_S, **download_kwargs: Any
    ) -> None:
        super().__init__()
        self.name = name
        self.download_kwargs = download_kwargs
        self._gate = Throttle(progress_interval)

    def work(self) -> object:
        from app.engine.models.download import download

        return download(self.name, self._on_progress, self.cancel_event, **self.download_kwargs)

    def _on_progress(self, done: int, total: int | None) -> None:
        if self._gate.ready(force=total is not None and done >= total):
            self.signals.progress.emit((done, total))


class _JobRunnable(QRunnable):
    """One scheduler job on a pool thread (the scheduler's `work` catches everything)."""

    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__()
        self.work = work
        self.setAutoDelete(True)

    def run(self) -> None:
        self.work()


class PoolExecutor:
    """The Scheduler's executor in the desktop app: each job a QRunnable on `pool`.

    The pool grows by the scheduler's `slots` while it runs, so probing, thumbnails and
    previews never queue behind renders, and by one more for each runnable the scheduler
    abandons (a stuck render keeps its thread; the queue must still move on).
    """

    def __init__(self, pool: QThreadPool, slots: int) -> None:
        self.pool = pool
        self.slots = slots
        self._reserved = 0  # threads added for the slots (from the first job to close())

    def start(self, work: Callable[[], None], name: str) -> None:
        if not self._reserved:
            self._reserved = self.slots
            self.pool.setMaxThreadCount(self.pool.maxThreadCount() + self.slots)
        log.debug("pool job %s", name)
        self.pool.start(_JobRunnable(work))

    def abandoned(self) -> None:
        self.pool.setMaxThreadCount(self.pool.maxThreadCount() + 1)

    def close(self) -> None:
        self.pool.setMaxThreadCount(max(1, self.pool.maxThreadCount() - self._reserved))
        self._reserved = 0


class SchedulerBridge(QObject):
    """The Scheduler's hooks as Qt signals (pass `bridge.on_job_event` and
    `bridge.on_progress` to `Scheduler(...)`).

    The hooks run on scheduler threads; the signals are queued to the thread this object
    lives in (the GUI thread), in the order each job's thread emitted them. Progress is
    throttled per job to ~10/s (the last frame always passes), previews to ~4/s.
    """

    job_event = Signal(object, str)  # job id, state (queued/running/done/failed/cancelled)
    progress = Signal(object, object)  # job id, FrameProgress (preview stripped)
    preview = Signal(object, object)  # job id, BGR ndarray

    def __init__(
        self,
        progress_interval: float = PROGRESS_INTERVAL_S,
        preview_interval: float = PREVIEW_INTERVAL_S,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.progress_interval = progress_interval
        self.preview_interval = preview_interval
        self._gates: dict[int, tuple[Throttle, Throttle]] = {}
        self._lock = threading.Lock()

    def on_job_event(self, job_id: int, state: str) -> None:
        if state != "running":
            with self._lock:
                self._gates.pop(job_id, None)
        self.job_event.emit(job_id, state)

    def on_progress(self, job_id: int, progress: FrameProgress) -> None:
        with self._lock:
            gates = self._gates.get(job_id)
            if gates is None:
                gates = self._gates[job_id] = (
                    Throttle(self.progress_interval),
                    Throttle(self.preview_interval),
                )
        last = progress.total > 0 and progress.done >= progress.total
        if progress.preview is not None and gates[1].ready(force=last):
            self.preview.emit(job_id, progress.preview)
        if gates[0].ready(force=last):
            self.progress.emit(job_id, dataclasses.replace(progress, preview=None))
