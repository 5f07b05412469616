"""The batch list: a QAbstractTableModel over the JobStore, keyed by job id (STYLE.md 11).

Rows are the store's jobs in the order the scheduler runs them (priority desc, then seq),
loaded a page at a time (canFetchMore/fetchMore), so a 100k-job store opens at once.
Job events refresh one row from the store (a millisecond); live progress (frames,
fps, ETA) arrives from the scheduler bridge and is kept beside the rows, never written
by the GUI. Thumbnails are keyed by video path and made off the GUI thread.
"""

from __future__ import annotations

import bisect
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QPixmap

from app.engine.progress import FrameProgress
from app.engine.queue.jobstore import FINISHED_STATES, Job, JobStore

(
    COL_THUMB,
    COL_VIDEO,
    COL_AUDIO,
    COL_MODEL,
    COL_PRIORITY,
    COL_STATE,
    COL_PROGRESS,
    COL_SPEED,
    COL_OUTPUT,
) = range(9)
COLUMN_COUNT = 9
HEADERS = {
    COL_THUMB: "",
    COL_VIDEO: "Video",
    COL_AUDIO: "Audio",
    COL_MODEL: "Model",
    COL_PRIORITY: "Priority",
    COL_STATE: "State",
    COL_PROGRESS: "Progress",
    COL_SPEED: "Speed / ETA",
    COL_OUTPUT: "Output",
}
JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 1
FRACTION_ROLE = Qt.ItemDataRole.UserRole + 2  # float 0..1, or None before a job knows
STATE_ROLE = Qt.ItemDataRole.UserRole + 3
PAGE_SIZE = 500

STATE_LABELS = {
    "queued": "Queued",
    "running": "Rendering",
    "done": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
}
STATE_COLOURS = {
    "running": QColor(33, 118, 210),
    "done": QColor(46, 125, 50),
    "failed": QColor(198, 40, 40),
    "cancelled": QColor(117, 117, 117),
}

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Live:
    """A running job's latest progress, as the bridge reported it."""

    done: int
    total: int
    fps: float
    eta_s: float

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


def format_duration(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf") or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _order_key(job: Job) -> tuple[int, int]:
    return (-job.priority, job.seq)


class BatchModel(QAbstractTableModel):
    def __init__(self, store: JobStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._ids: list[int] = []  # row -> job id, in run order
        self._keys: list[tuple[int, int]] = []  # row -> order key, for bisect
        self._jobs: dict[int, Job] = {}
        self._live: dict[int, Live] = {}
        self._thumbs: dict[Path, QPixmap] = {}
        self._loaded_all = False

    # -- loading ---------------------------------------------------------------------

    def reload(self) -> None:
        self.beginResetModel()
        self._ids, self._keys, self._jobs = [], [], {}
        self._loaded_all = False
        self._load_page()
        self.endResetModel()

    def _load_page(self) -> list[Job]:
        page = self.store.page(offset=len(self._ids), limit=PAGE_SIZE, order="priority")
        for job in page:
            self._ids.append(job.id)
            self._keys.append(_order_key(job))
            self._jobs[job.id] = job
        self._loaded_all = len(page) < PAGE_SIZE
        return page

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._loaded_all

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._loaded_all:
            return
        page = self.store.page(offset=len(self._ids), limit=PAGE_SIZE, order="priority")
        fresh = [job for job in page if job.id not in self._jobs]
        if fresh:
            first = len(self._ids)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            for job in fresh:
                self._ids.append(job.id)
                self._keys.append(_order_key(job))
                self._jobs[job.id] = job
            self.endInsertRows()
        self._loaded_all = len(page) < PAGE_SIZE

    # -- lookups ---------------------------------------------------------------------

    def job(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    def job_at(self, row: int) -> Job | None:
        return self._jobs.get(self._ids[row]) if 0 <= row < len(self._ids) else None

    def row_of(self, job_id: int) -> int:
        try:
            return self._ids.index(job_id)
        except ValueError:
            return -1

    def ids(self) -> list[int]:
        return list(self._ids)

    def jobs(self) -> list[Job]:
        return [self._jobs[i] for i in self._ids]

    def live(self, job_id: int) -> Live | None:
        return self._live.get(job_id)

    def fraction(self, job: Job) -> float:
        """How far a job is: finished 1, running its live fraction, queued 0."""
        if job.state in FINISHED_STATES:
            return 1.0
        if job.state == "running":
            live = self._live.get(job.id)
            return live.fraction if live is not None else job.fraction
        return 0.0

    # -- updates ---------------------------------------------------------------------

    def refresh_job(self, job_id: int) -> Job | None:
        """Re-read one job from the store: insert, update, move or remove its row."""
        job = self.store.get(job_id)
        row = self.row_of(job_id)
        if job is None:
            if row >= 0:
                self._remove_row(row)
            return None
        if job.state != "running":
            self._live.pop(job_id, None)
        if row < 0:
            self._insert(job)
            return job
        old = self._jobs[job_id]
        self._jobs[job_id] = job
        if _order_key(old) != _order_key(job):
            self._move(row, job)
        else:
            self.dataChanged.emit(self.index(row, 0), self.index(row, COLUMN_COUNT - 1))
        return job

    def add_jobs(self, job_ids: list[int]) -> None:
        for job_id in job_ids:
            self.refresh_job(job_id)

    def remove_job(self, job_id: int) -> None:
        row = self.row_of(job_id)
        if row >= 0:
            self._remove_row(row)

    def set_progress(self, job_id: int, progress: FrameProgress) -> None:
        row = self.row_of(job_id)
        self._live[job_id] = Live(progress.done, progress.total, progress.fps, progress.eta_s)
        if row >= 0:
            job = self._jobs[job_id]
            if job.state != "running":  # the bridge's first progress may beat the event
                self._jobs[job_id] = _with_state(job, "running")
            self.dataChanged.emit(self.index(row, COL_STATE), self.index(row, COL_SPEED))

    def set_thumbnail(self, video: Path, pixmap: QPixmap) -> None:
        self._thumbs[Path(video)] = pixmap
        for row, job_id in enumerate(self._ids):
            if self._jobs[job_id].video == Path(video):
                index = self.index(row, COL_THUMB)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def has_thumbnail(self, video: Path) -> bool:
        return Path(video) in self._thumbs

    def thumbnail(self, video: Path) -> QPixmap | None:
        return self._thumbs.get(Path(video))

    def _insert(self, job: Job) -> None:
        key = _order_key(job)
        row = bisect.bisect_right(self._keys, key)
        if row == len(self._ids) and not self._loaded_all:
            return  # it belongs to a page not loaded yet: fetchMore brings it
        self.beginInsertRows(QModelIndex(), row, row)
        self._ids.insert(row, job.id)
        self._keys.insert(row, key)
        self._jobs[job.id] = job
        self.endInsertRows()

    def _remove_row(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        job_id = self._ids.pop(row)
        self._keys.pop(row)
        self._jobs.pop(job_id, None)
        self._live.pop(job_id, None)
        self.endRemoveRows()

    def _move(self, row: int, job: Job) -> None:
        key = _order_key(job)
        keys = self._keys[:row] + self._keys[row + 1 :]
        dest = bisect.bisect_right(keys, key)  # position after removal
        if dest == row:
            self._keys[row] = key
            self.dataChanged.emit(self.index(row, 0), self.index(row, COLUMN_COUNT - 1))
            return
        # beginMoveRows counts the destination before the removal.
        qt_dest = dest + 1 if dest > row else dest
        self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), qt_dest)
        self._ids.pop(row)
        self._keys.pop(row)
        self._ids.insert(dest, job.id)
        self._keys.insert(dest, key)
        self.endMoveRows()
        self.dataChanged.emit(self.index(dest, 0), self.index(dest, COLUMN_COUNT - 1))

    # -- Qt model interface ----------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else COLUMN_COUNT

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS.get(section)
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return None
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid() and index.column() == COL_PRIORITY:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or index.column() != COL_PRIORITY:
            return False
        job = self.job_at(index.row())
        if job is None:
            return False
        try:
            priority = int(value)
        except (TypeError, ValueError):
            return False
        if not self.store.set_priority(job.id, priority):
            return False
        self.priority_changed(job.id)
        self.refresh_job(job.id)
        return True

    def priority_changed(self, job_id: int) -> None:
        """Hook for the window: wake the scheduler (it orders by priority)."""

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        job = self.job_at(index.row())
        if job is None:
            return None
        col = index.column()
        if role == JOB_ID_ROLE:
            return job.id
        if role == STATE_ROLE:
            return job.state
        if role == FRACTION_ROLE:
            if job.state == "queued":
                return None
            return job.fraction if job.state in ("failed", "cancelled") else self.fraction(job)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(job, col)
        if role == Qt.ItemDataRole.EditRole and col == COL_PRIORITY:
            return job.priority
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(job, col)
        if role == Qt.ItemDataRole.DecorationRole and col == COL_THUMB:
            return self._thumbs.get(job.video)
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_STATE:
            colour = STATE_COLOURS.get(job.state)
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL_PRIORITY, COL_SPEED):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def _display(self, job: Job, col: int) -> Any:
        if col == COL_VIDEO:
            return job.video.name
        if col == COL_AUDIO:
            return job.audio.name
        if col == COL_MODEL:
            return job.model if job.device == "auto" else f"{job.model} · {job.device}"
        if col == COL_PRIORITY:
            return job.priority
        if col == COL_STATE:
            return STATE_LABELS.get(job.state, job.state)
        if col == COL_PROGRESS:
            return self._progress_text(job)
        if col == COL_SPEED:
            return self._speed_text(job)
        if col == COL_OUTPUT:
            return job.output.name
        return None

    def _progress_text(self, job: Job) -> str:
        if job.state == "running":
            live = self._live.get(job.id)
            done, total = (live.done, live.total) if live else (job.done, job.total)
            return f"{done} / {total}" if total else "starting…"
        if job.state == "done":
            return f"{job.total} / {job.total}" if job.total else "done"
        if job.state in ("failed", "cancelled") and job.total:
            return f"{job.done} / {job.total}"
        return ""

    def _speed_text(self, job: Job) -> str:
        if job.state == "running":
            live = self._live.get(job.id)
            if live is None or live.fps <= 0:
                return "…"
            return f"{live.fps:.1f} fps · {format_duration(live.eta_s)} left"
        if job.state == "done" and job.started and job.finished:
            return f"took {format_duration(job.finished - job.started)}"
        return ""

    def _tooltip(self, job: Job, col: int) -> str | None:
        if col in (COL_VIDEO, COL_THUMB):
            return str(job.video)
        if col == COL_AUDIO:
            return str(job.audio)
        if col == COL_OUTPUT:
            return str(job.output)
        if col == COL_STATE:
            text = f"job {job.id}: {STATE_LABELS.get(job.state, job.state)}"
            if job.error:
                text += f"\n{job.error}"
            if job.attempts > 1:
                text += f"\nattempt {job.attempts}"
            return text
        if col == COL_PRIORITY:
            return "Higher runs first; double-click to change"
        return None

    # -- the batch as a whole ----------------------------------------------------------

    def batch_summary(self, since: float) -> BatchSummary:
        """Jobs queued or running, plus those finished since `since` (epoch seconds)."""
        total = done = failed = running = 0
        progress = 0.0
        fps = 0.0
        for job in self._jobs.values():
            if job.state in FINISHED_STATES and (job.finished or 0) < since:
                continue
            total += 1
            progress += self.fraction(job)
            if job.state == "done":
                done += 1
            elif job.state in ("failed", "cancelled"):
                failed += 1
            elif job.state == "running":
                running += 1
                live = self._live.get(job.id)
                fps += live.fps if live else 0.0
        return BatchSummary(total, done, failed, running, progress / total if total else 0.0, fps)


@dataclass(frozen=True)
class BatchSummary:
    total: int
    done: int
    failed: int  # failed or cancelled
    running: int
    fraction: float
    fps: float

    @property
    def active(self) -> bool:
        return self.total > self.done + self.failed


def _with_state(job: Job, state: str) -> Job:
    return dataclasses.replace(job, state=state)  # type: ignore[arg-type]
