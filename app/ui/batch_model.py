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

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QPixmap

from app.engine.progress import FrameProgress, format_duration
from app.engine.queue.jobstore import DONE_WITH_WARNING, FINISHED_STATES, Job, JobStore

# State and Progress come right after the names: they stay visible in a narrow window.
(
    COL_THUMB,
    COL_VIDEO,
    COL_AUDIO,
    COL_STATE,
    COL_PROGRESS,
    COL_SPEED,
    COL_MODEL,
    COL_PRIORITY,
    COL_OUTPUT,
) = range(9)
COLUMN_COUNT = 9
JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 1
FRACTION_ROLE = Qt.ItemDataRole.UserRole + 2  # float 0..1, or None before a job knows
STATE_ROLE = Qt.ItemDataRole.UserRole + 3
OUTCOME_ROLE = Qt.ItemDataRole.UserRole + 4  # Job.outcome: the state or done-with-warning
PAGE_SIZE = 500

translate = QCoreApplication.translate


def headers() -> dict[int, str]:
    return {
        COL_THUMB: "",
        COL_VIDEO: translate("BatchModel", "Video"),
        COL_AUDIO: translate("BatchModel", "Audio"),
        COL_STATE: translate("BatchModel", "State"),
        COL_PROGRESS: translate("BatchModel", "Progress"),
        COL_SPEED: translate("BatchModel", "Speed / ETA"),
        COL_MODEL: translate("BatchModel", "Model"),
        COL_PRIORITY: translate("BatchModel", "Priority"),
        COL_OUTPUT: translate("BatchModel", "Output"),
    }


def state_label(state: str) -> str:
    labels = {
        "queued": translate("BatchModel", "Queued"),
        "running": translate("BatchModel", "Rendering"),
        "done": translate("BatchModel", "Done"),
        DONE_WITH_WARNING: translate("BatchModel", "Done, check it"),
        "failed": translate("BatchModel", "Failed"),
        "cancelled": translate("BatchModel", "Cancelled"),
    }
    return labels.get(state, state)


STATE_COLOURS = {
    "running": QColor(33, 118, 210),
    "done": QColor(46, 125, 50),
    DONE_WITH_WARNING: QColor(200, 120, 0),
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


def coverage_text(job: Job) -> str:
    """'faces in 92%' or 'no face found', from the job's coverage (the engine's own
    warning text is English: this one goes through translation)."""
    coverage = job.coverage
    if coverage is None:
        return ""
    if coverage.frames_with_face == 0:
        return translate("BatchModel", "no face found")
    return translate("BatchModel", "face in {percent}%").format(
        percent=int(coverage.fraction * 100)
    )


def device_label(device: str) -> str:
    """ "cpu" → "CPU", "cuda:1" → "CUDA:1", "dml" → "DirectML": names, not identifiers."""
    family, _, index = device.partition(":")
    name = {"cpu": "CPU", "cuda": "CUDA", "dml": "DirectML"}.get(family, family)
    return f"{name}:{index}" if index else name


def first_line(text: str | None, limit: int = 140) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _order_key(job: Job) -> tuple[int, int]:
    return (-job.priority, job.seq)


class BatchModel(QAbstractTableModel):
    def __init__(
        self,
        store: JobStore,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.missing_models: frozenset[str] = frozenset()  # asked of the registry, off-thread
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

    def set_missing_models(self, names: frozenset[str]) -> None:
        """Models jobs ask for that this machine has not installed: a failed job of one
        says so in its own words (the engine's message is English)."""
        if names == self.missing_models:
            return
        self.missing_models = names
        if self._ids:
            self.dataChanged.emit(
                self.index(0, COL_STATE), self.index(len(self._ids) - 1, COL_STATE)
            )

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
            return headers().get(section)
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
        if role == OUTCOME_ROLE:
            return job.outcome
        if role == FRACTION_ROLE:
            if job.state == "queued":
                return None
            if job.state in ("failed", "cancelled"):  # how far it got; no empty bar
                return job.fraction if job.done else None
            return self.fraction(job)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(job, col)
        if role == Qt.ItemDataRole.EditRole and col == COL_PRIORITY:
            return job.priority
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(job, col)
        if role == Qt.ItemDataRole.DecorationRole and col == COL_THUMB:
            return self._thumbs.get(job.video)
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_STATE:
            colour = STATE_COLOURS.get(job.outcome)
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
            return self.model_text(job)
        if col == COL_PRIORITY:
            return job.priority
        if col == COL_STATE:
            return self.state_text(job)
        if col == COL_PROGRESS:
            return self._progress_text(job)
        if col == COL_SPEED:
            return self._speed_text(job)
        if col == COL_OUTPUT:
            return job.output.name
        return None

    def model_text(self, job: Job) -> str:
        """The model asked for, and the one used when "auto" picked it."""
        used = job.model_used or ""
        text = f"{job.model} → {used}" if used and used != job.model else job.model
        return text if job.device == "auto" else f"{text} · {device_label(job.device)}"

    def state_text(self, job: Job) -> str:
        """The state and why: a failure's reason, a done job's face coverage."""
        label = state_label(job.outcome)
        if job.state == "failed" and job.model in self.missing_models:
            return translate("BatchModel", "{label}: {model} is not installed").format(
                label=label, model=job.model
            )
        if job.state == "failed" and job.error:
            return f"{label}: {first_line(job.error, 80)}"
        if job.state == "done" and job.coverage is not None:
            return f"{label} · {coverage_text(job)}"
        return label

    def _progress_text(self, job: Job) -> str:
        if job.state == "running":
            live = self._live.get(job.id)
            done, total = (live.done, live.total) if live else (job.done, job.total)
            return f"{done} / {total}" if total else translate("BatchModel", "starting…")
        if job.state == "done":
            return f"{job.total} / {job.total}" if job.total else state_label("done")
        if job.state in ("failed", "cancelled") and job.total:
            return f"{job.done} / {job.total}"
        return ""

    def _speed_text(self, job: Job) -> str:
        if job.state == "running":
            live = self._live.get(job.id)
            if live is None or live.fps <= 0:
                return "…"
            return translate("BatchModel", "{fps} fps · {eta} left").format(
                fps=f"{live.fps:.1f}", eta=format_duration(live.eta_s)
            )
        if job.state == "done" and job.started and job.finished:
            return translate("BatchModel", "took {time}").format(
                time=format_duration(job.finished - job.started)
            )
        return ""

    def _tooltip(self, job: Job, col: int) -> str | None:
        if col in (COL_VIDEO, COL_THUMB):
            return str(job.video)
        if col == COL_AUDIO:
            return str(job.audio)
        if col == COL_OUTPUT:
            return str(job.output)
        if col == COL_STATE:
            text = translate("BatchModel", "job {id}: {state}").format(
                id=job.id, state=state_label(job.outcome)
            )
            if job.error:
                text += f"\n{job.error}"
            if job.attempts > 1:
                text += "\n" + translate("BatchModel", "attempt {n}").format(n=job.attempts)
            return text
        if col == COL_PRIORITY:
            return translate("BatchModel", "Higher runs first; double-click to change")
        return None

    # -- the batch as a whole ----------------------------------------------------------

    def count(self, state: str) -> int:
        """Jobs in `state`: from the rows when the whole store is loaded (the GUI thread
        stays off the database while renders write to it), else from the store."""
        if self._loaded_all:
            return sum(1 for job in self._jobs.values() if job.state == state)
        return self.store.count(state)  # type: ignore[arg-type]

    def batch_summary(self, since: float) -> BatchSummary:
        """Counts of every listed job (the store's when not all of it is loaded, so they
        match the list) and how far the current batch is: the jobs queued or running plus
        those finished since `since` (epoch seconds)."""
        counts = {state: self.count(state) for state in STATES}
        batch = progress = 0.0
        fps = 0.0
        for job in self._jobs.values():
            if job.state in FINISHED_STATES and (job.finished or 0) < since:
                continue
            batch += 1
            progress += self.fraction(job)
            if job.state == "running":
                live = self._live.get(job.id)
                fps += live.fps if live else 0.0
        return BatchSummary(
            queued=counts["queued"],
            running=counts["running"],
            done=counts["done"],
            failed=counts["failed"],
            cancelled=counts["cancelled"],
            fps=fps,
            batch_fraction=progress / batch if batch else 0.0,
        )


STATES = ("queued", "running", "done", "failed", "cancelled")


@dataclass(frozen=True)
class BatchSummary:
    queued: int
    running: int
    done: int
    failed: int
    cancelled: int
    fps: float  # all running jobs together
    batch_fraction: float  # the current batch, 0..1

    @property
    def total(self) -> int:
        return self.queued + self.running + self.done + self.failed + self.cancelled

    @property
    def active(self) -> bool:
        return bool(self.queued or self.running)


def _with_state(job: Job, state: str) -> Job:
    return dataclasses.replace(job, state=state)  # type: ignore[arg-type]
