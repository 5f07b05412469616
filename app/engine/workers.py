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

Also the small engine helpers the workers run (`probe_files`, `render_one_frame`,
`frame_pair`): they need no Qt and could move into the engine proper.

Only QtCore is imported here. Errors never escape a `run()`: they are logged and sent as
`errored(exception)`. Cancelling is cooperative: a `threading.Event` the engine checks.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRunnable, Signal

from app.engine.errors import InputError, RenderCancelled
from app.engine.progress import FrameProgress
from app.engine.settings import RenderSettings

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1  # ~10 progress signals a second per job
PREVIEW_INTERVAL_S = 0.25  # ~4 preview frames a second per job
THUMB_HEIGHT = 54
MAX_FOLDER_FILES = 5000  # a dropped folder deeper than this is a mistake, not a batch


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


# -- the plain-Python work the workers above run -------------------------------------------


@dataclass(frozen=True)
class ProbeReport:
    """What a drop or an "Add …" held, told apart by probing (never by extension)."""

    videos: tuple[Path, ...] = ()  # has a video stream (or is a still image)
    audios: tuple[Path, ...] = ()  # audio only
    unreadable: tuple[tuple[Path, str], ...] = ()  # (file, why)
    durations: dict[Path, float] = field(default_factory=dict)
    thumbnails: dict[Path, np.ndarray] = field(default_factory=dict, repr=False)


def expand_paths(paths: Iterable[Path], limit: int = MAX_FOLDER_FILES) -> list[Path]:
    """Files as given, and the files inside given folders (recursively, sorted, hidden
    ones skipped), without repeats, at most `limit`."""
    found: dict[Path, None] = {}
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        found.setdefault(Path(root) / name)
                    if len(found) >= limit:
                        return list(found)
        else:
            found.setdefault(path)
        if len(found) >= limit:
            break
    return list(found)


def probe_files(
    paths: Sequence[Path], cancel: threading.Event | None = None, thumb_height: int = THUMB_HEIGHT
) -> ProbeReport:
    """Probe every file (folders expanded): videos, audios, unreadable ones with why.

    A video's first frame comes back as a small thumbnail.
    """
    from app.engine.render import media

    videos: list[Path] = []
    audios: list[Path] = []
    bad: list[tuple[Path, str]] = []
    durations: dict[Path, float] = {}
    thumbs: dict[Path, np.ndarray] = {}
    for path in expand_paths(paths):
        if cancel is not None and cancel.is_set():
            raise RenderCancelled("probing cancelled")
        path = Path(os.path.abspath(path))
        try:
            info = media.probe(path)
        except InputError as exc:
            bad.append((path, _why(exc, path)))
            continue
        except Exception as exc:  # a probe must never take the whole drop down
            log.warning("probing %s failed", path, exc_info=True)
            bad.append((path, f"{type(exc).__name__}: {exc}"))
            continue
        durations[path] = info.duration
        if info.video is not None:
            videos.append(path)
            thumb = thumbnail(path, thumb_height)
            if thumb is not None:
                thumbs[path] = thumb
        else:
            audios.append(path)
    return ProbeReport(tuple(videos), tuple(audios), tuple(bad), durations, thumbs)


def _why(exc: Exception, path: Path) -> str:
    """The engine's message without the leading "NAME: " (the dialog lists the name)."""
    text = str(exc)
    prefix = f"{path.name}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def thumbnail(video: Path, height: int = THUMB_HEIGHT) -> np.ndarray | None:
    """The first frame of a video, `height` pixels high (BGR), or None if undecodable."""
    import cv2

    from app.engine.render import media

    try:
        with media.open_video(video) as reader:
            frame = next(iter(reader.frames(0)), None)
    except InputError:
        return None
    if frame is None:
        return None
    h, w = frame.shape[:2]
    width = max(1, round(w * height / h))
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)


def thumbnails(videos: Sequence[Path], height: int = THUMB_HEIGHT) -> dict[Path, np.ndarray]:
    out: dict[Path, np.ndarray] = {}
    for video in videos:
        thumb = thumbnail(video, height)
        if thumb is not None:
            out[video] = thumb
    return out


@dataclass(frozen=True)
class FramePair:
    """One output frame before and after lip-sync."""

    index: int  # output frame number
    before: np.ndarray = field(repr=False)
    after: np.ndarray = field(repr=False)
    face_found: bool = True


def decode_frame(video: Path, index: int) -> np.ndarray:
    """Frame `index` (at the file's constant rate) of a video; the last one if past the end."""
    from app.engine.render import media

    with media.open_video(video) as reader:
        frame = next(iter(reader.frames(index)), None)
        if frame is None and index > 0:  # the frame count was an estimate: take the last
            tail = collections.deque(reader.frames(max(0, index - 5)), maxlen=1)
            frame = tail[0] if tail else None
    if frame is None:
        raise InputError(f"{video.name}: frame {index} could not be decoded")
    return frame


def render_one_frame(settings: RenderSettings, index: int) -> FramePair:
    """Output frame `index` of `settings`' render, rendered alone (a quick look before a
    long render): the same face detector, crop, model and blend as the pipeline, on one
    frame. The output path is not touched."""
    from app.engine.models.lipsync.loader import load_model
    from app.engine.render import media
    from app.engine.render.audio import mel_chunks, mel_spectrogram
    from app.engine.render.blend import paste_face
    from app.engine.render.crop import estimate_alignment, warp_to_crop
    from app.engine.render.faces import create_detector
    from app.engine.render.frame_plan import source_index
    from app.engine.render.pipeline import ANALYSIS_RATE, MIN_AUDIO_S, detector_path, paste_options

    video = media.probe(settings.video).video
    if video is None:
        raise InputError(f"{settings.video.name}: has no video stream")
    wav = media.load_audio(settings.audio, ANALYSIS_RATE)
    if len(wav) / ANALYSIS_RATE < MIN_AUDIO_S:
        raise InputError(f"{settings.audio.name}: audio too short")
    n_out = max(1, round(len(wav) / ANALYSIS_RATE * video.fps))
    index = min(max(0, int(index)), n_out - 1)
    mels = mel_chunks(mel_spectrogram(wav), video.fps, n_out)
    del wav
    src = source_index(index, max(1, video.frame_count), settings.loop)
    before = decode_frame(settings.video, src)
    model = load_model(settings.model, settings.device, 1)
    model.prepare(mels)
    detector = create_detector(settings.detector, detector_path(settings))
    faces = detector.detect(before)
    after = before.copy()
    if not faces:
        return FramePair(index, before, after, face_found=False)
    size = model.crop_size
    matrix = estimate_alignment(faces[0].landmarks, model.template, size)
    crop = warp_to_crop(before, matrix, size)
    mouth = model.infer(crop[None], mels[[index]], np.array([index], dtype=np.int64))[0]
    paste_face(after, mouth, crop, matrix, faces[0].landmarks, paste_options(settings))
    return FramePair(index, before, after)


def frame_index_at(path: Path, seconds: float) -> int:
    """The frame of a video shown at `seconds`."""
    from app.engine.render import media

    info = media.probe(path).video
    if info is None:
        raise InputError(f"{path.name}: has no video stream")
    return max(0, int(seconds * info.fps + 1e-6))


def decode_frame_at(path: Path, seconds: float) -> tuple[int, np.ndarray]:
    index = frame_index_at(path, seconds)
    return index, decode_frame(path, index)


def frame_pair_at(video: Path, output: Path, seconds: float, loop: str = "pingpong") -> FramePair:
    """The frame of a finished render shown at `seconds`, next to the source frame it
    came from (before/after on one frame)."""
    return frame_pair(video, output, frame_index_at(output, seconds), loop)


def frame_pair(video: Path, output: Path, index: int, loop: str = "pingpong") -> FramePair:
    """Output frame `index` of a finished render next to the source frame it came from."""
    from app.engine.render import media

    source = media.probe(video).video
    if source is None:
        raise InputError(f"{video.name}: has no video stream")
    after = decode_frame(output, index)
    before = decode_frame(video, source_index_of(index, source.frame_count, loop))
    if before.shape != after.shape:  # odd sizes: the writer drops the last column/row
        before = before[: after.shape[0], : after.shape[1]]
    return FramePair(index, before, after)


def source_index_of(index: int, n_src: int, loop: str) -> int:
    from app.engine.render.frame_plan import source_index

    return source_index(index, max(1, n_src), loop)
