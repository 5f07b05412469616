"""The only Qt file in the engine: QRunnables and a signals adapter for the scheduler.

Everything else in `app.engine` is plain Python; this module turns its callbacks into
Qt signals so the GUI thread only paints (ARCHITECTURE.md, "Threads and Qt"):

- `WorkerSignals`: the explicit signals of every worker here (STYLE.md 3):
  started, progress, preview, finished, errored, cancelled.
- `RenderWorker`: one render through `pipeline.render`, progress throttled to ~10/s
  and preview frames to ~4/s (BGR ndarrays, converted to QImage by the UI).
- `CallWorker`: any blocking call (probe, thumbnails, model status, one-frame preview)
  off the GUI thread; its result or exception comes back as a signal.
- `DownloadWorker`: a model download with throttled byte progress and cancel (resumable:
  the engine keeps the `.part`).
- `SchedulerBridge`: a QObject whose methods are the Scheduler's hooks; they run on the
  scheduler's threads and emit signals that Qt queues to the GUI thread.

The plain-Python work they run lives in the engine proper (render/file_probe.py,
render/one_frame.py, the scheduler): this module only adapts it to Qt.

Only QtCore is imported here. Errors never escape a `run()`: they are logged and sent as
`errored(exception)`. Cancelling is cooperative: a `threading.Event` the engine checks.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Signal

from app.engine.errors import InputError, RenderCancelled
from app.engine.progress import FrameProgress
from app.engine.settings import RenderSettings

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1  # ~10 progress signals a second per job
PREVIEW_INTERVAL_S = 0.25  # ~4 preview frames a second per job


class Throttle:
    """Lets an event through at most once per `interval_s` (or when forced).

    Plain Python, used from worker threads; a Qt timer would need an event loop there.
    """

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._last = float("-inf")

    def ready(self, force: bool = False) -> bool:
        now = self._clock()
        if force or now - self._last >= self.interval_s:
            self._last = now
            return True
        return False


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

    @property
    def is_cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def run(self) -> None:
        try:
            self._run()
        except RuntimeError as exc:  # the receiving side was torn down mid-run: nobody to tell
            log.debug("%s: %s", type(self).__name__, exc)

    def _run(self) -> None:
        self.signals.started.emit()
        try:
            result = self.work()
        except RenderCancelled:
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


class RenderWorker(BaseWorker):
    """One render job as a QRunnable: `QThreadPool.start(worker)`; `worker.cancel()`.

    Signals: started; progress(FrameProgress, preview stripped) at most every
    `progress_interval` s plus the last frame; preview(ndarray) at most every
    `preview_interval` s; then exactly one of finished(RenderResult), cancelled(),
    errored(exception). `components` go to `pipeline.render` (model, detector, face_track).
    """

    def __init__(
        self,
        settings: RenderSettings,
        *,
        progress_interval: float = PROGRESS_INTERVAL_S,
        preview_interval: float = PREVIEW_INTERVAL_S,
        **components: object,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.components = components
        self._progress = Throttle(progress_interval)
        self._preview = Throttle(preview_interval)

    def work(self) -> object:
        from app.engine.render import pipeline  # lazy: PyAV/ONNX Runtime load on the pool thread

        return pipeline.render(
            self.settings, self._on_progress, self.cancel_event, **self.components
        )

    def _on_progress(self, progress: FrameProgress) -> None:
        emit_throttled(self.signals, progress, self._progress, self._preview)


def emit_throttled(
    signals: WorkerSignals,
    progress: FrameProgress,
    progress_gate: Throttle,
    preview_gate: Throttle,
) -> None:
    last = progress.total > 0 and progress.done >= progress.total
    if progress.preview is not None and preview_gate.ready(force=last):
        signals.preview.emit(progress.preview)
    if progress_gate.ready(force=last):
        signals.progress.emit(dataclasses.replace(progress, preview=None))


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
    """`models.download(name)` with progress((bytes, total or None)) at most ~10/s.

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
        from app.engine.models import registry as models

        try:
            return models.download(
                self.name, self._on_progress, self.cancel_event, **self.download_kwargs
            )
        except models.DownloadCancelled:
            raise RenderCancelled(f"download of {self.name} cancelled") from None

    def _on_progress(self, done: int, total: int | None) -> None:
        if self._gate.ready(force=total is not None and done >= total):
            self.signals.progress.emit((done, total))


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
