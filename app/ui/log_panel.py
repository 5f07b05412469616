"""The log panel: the JSON-lines log (joblog.py) as readable lines, filterable by job,
and "Copy diagnostics" for a bug report.

Reading the log (up to a few MB across rotated files) and collecting diagnostics
happen in workers; the panel refreshes itself at most twice a second.
"""

from __future__ import annotations

import logging
import platform
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.engine.workers import CallWorker
from app.ui.tasks import Tasks

log = logging.getLogger(__name__)

LIMIT = 1000  # lines shown
MAX_FILTER_JOBS = 500  # jobs the filter lists (the newest)
REFRESH_DELAY_MS = 500
_SKIP_FIELDS = {"time", "level", "logger", "message", "event", "job_id", "exc", "stack"}


def _seconds(value: object) -> str:
    return f"{value:.1f} s" if isinstance(value, int | float) else "?"


def describe(event: Mapping[str, Any]) -> str:
    """The record's message, in words for the queue's own events: their fields (paths,
    render results, stage clocks) never reach the panel as Python reprs. The log stays
    in English: it is what a bug report quotes."""
    name = event.get("event")
    if name == "job_start":
        return (
            f"started on {event.get('slot', '?')} (attempt {event.get('attempt', '?')}): "
            f"{Path(str(event.get('video', ''))).name} + {Path(str(event.get('audio', ''))).name}"
            f" → {Path(str(event.get('output', ''))).name}, model {event.get('model', '?')}"
        )
    if name == "job_finish":
        result = event.get("result") if isinstance(event.get("result"), Mapping) else {}
        text = f"done in {_seconds(event.get('elapsed_s'))}"
        if result.get("frames"):
            text += f": {result['frames']} frames"
        if result.get("model"):
            text += f", model {result['model']}"
        if result.get("frames_with_face") is not None and result.get("frames"):
            text += f", face in {result['frames_with_face']} of {result['frames']} frames"
        return text
    if name == "job_failed":
        text = f"failed after {_seconds(event.get('elapsed_s'))}: {event.get('error', '?')}"
        return text + (" (will retry)" if event.get("retry") else "")
    if name == "job_cancelled":
        return f"cancelled after {_seconds(event.get('elapsed_s'))}"
    if name == "job_interrupted":
        return "stopped by quitting; queued again"
    return str(event.get("message", ""))


def format_event(event: Mapping[str, Any]) -> str:
    """One log record as a line: time, level, job, message (+ the exception's last line)."""
    stamp = str(event.get("time", ""))
    clock = stamp[11:19] if len(stamp) >= 19 else stamp
    level = str(event.get("level", ""))
    job = event.get("job_id")
    parts = [clock, f"{level:<7}"]
    parts.append(f"job {job:<4}" if job is not None else " " * 8)
    parts.append(describe(event))
    line = "  ".join(parts)
    exc = event.get("exc")
    if exc:
        line += "  | " + str(exc).strip().splitlines()[-1]
    return line


def read_lines(job_id: int | None, limit: int = LIMIT, path: Path | None = None) -> list[str]:
    from app.engine.queue.joblog import read_events

    return [format_event(e) for e in read_events(job_id=job_id, limit=limit, path=path)]


def gpu_names() -> list[str]:
    """NVIDIA GPUs the driver lists (Linux /proc), without starting CUDA; [] elsewhere."""
    names = []
    root = Path("/proc/driver/nvidia/gpus")
    try:
        folders = sorted(root.iterdir())
    except OSError:
        return []
    for folder in folders:
        try:
            for line in (folder / "information").read_text().splitlines():
                if line.startswith("Model:"):
                    names.append(line.split(":", 1)[1].strip())
        except OSError:
            continue
    return names


def diagnostics(job_counts: Mapping[str, int] | None = None, last_errors: int = 15) -> str:
    """Versions, providers, GPUs, folders and the last errors, as plain text."""
    import PySide6
    from PySide6.QtCore import qVersion

    from app import __version__
    from app.engine import paths
    from app.engine.logs import log_path
    from app.engine.queue.joblog import read_events

    lines = [
        f"lipsync-studio {__version__}",
        f"Python {sys.version.split()[0]} on {platform.platform()}",
        f"PySide6 {PySide6.__version__}, Qt {qVersion()}",
    ]
    for module in ("av", "numpy", "cv2", "onnxruntime"):
        try:
            version = getattr(__import__(module), "__version__", "?")
        except Exception as exc:  # a broken install is exactly what this is for
            version = f"not importable ({exc})"
        lines.append(f"{module} {version}")
    try:
        from app.engine.models.providers import available_providers, list_devices

        lines.append("ONNX Runtime providers: " + ", ".join(available_providers()))
        lines.append("devices: " + ", ".join(f"{d.device} ({d.label})" for d in list_devices()))
    except Exception as exc:
        lines.append(f"providers: unavailable ({exc})")
    gpus = gpu_names()
    lines.append("GPUs: " + (", ".join(gpus) if gpus else "none found"))
    lines.append(f"data: {paths.data_dir()}")
    lines.append(f"log: {log_path()}")
    if job_counts:
        lines.append("jobs: " + ", ".join(f"{k} {v}" for k, v in job_counts.items()))
    errors = [
        e
        for e in read_events(limit=5000)
        if e.get("level") in ("ERROR", "CRITICAL") or e.get("event") == "job_failed"
    ]
    lines.append(f"last errors ({min(len(errors), last_errors)} of {len(errors)}):")
    for event in errors[-last_errors:]:
        lines.append("  " + format_event(event))
        if event.get("exc"):
            lines.extend("    " + x for x in str(event["exc"]).strip().splitlines()[-6:])
    return "\n".join(lines)


class LogPanel(QWidget):
    def __init__(self, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self._reading = False
        self._again = False
        self._job_ids: list[int] = []
        self.job_filter = QComboBox()
        self.job_filter.addItem(self.tr("All jobs"), None)
        self.job_filter.setMinimumContentsLength(10)
        self.job_filter.currentIndexChanged.connect(lambda _: self.refresh())
        self.refresh_button = QPushButton(self.tr("Refresh"))
        self.refresh_button.clicked.connect(self.refresh)
        self.copy_button = QPushButton(self.tr("Copy diagnostics"))
        self.copy_button.setToolTip(
            self.tr("Versions, GPUs, providers and the last errors, for a bug report")
        )
        self.copy_button.clicked.connect(self.copy_diagnostics)
        self.status = QLabel("")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.text.setFont(mono)
        self.job_counts: Mapping[str, int] = {}

        row = QHBoxLayout()
        row.addWidget(QLabel(self.tr("Show")))
        row.addWidget(self.job_filter)
        row.addWidget(self.refresh_button)
        row.addStretch(1)
        row.addWidget(self.status)
        row.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.text, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)

    def set_jobs(self, job_ids: Sequence[int]) -> None:
        """The jobs the filter offers: the batch list's, the newest MAX_FILTER_JOBS."""
        job_ids = sorted(job_ids)[-MAX_FILTER_JOBS:]
        if job_ids == self._job_ids:
            return
        self._job_ids = job_ids
        current = self.job_filter.currentData()
        self.job_filter.blockSignals(True)
        self.job_filter.clear()
        self.job_filter.addItem(self.tr("All jobs"), None)
        for job_id in sorted(self._job_ids):
            self.job_filter.addItem(self.tr("Job {id}").format(id=job_id), job_id)
        index = self.job_filter.findData(current)
        self.job_filter.setCurrentIndex(max(0, index))
        self.job_filter.blockSignals(False)

    def show_job(self, job_id: int | None) -> None:
        index = self.job_filter.findData(job_id)
        if index < 0 and job_id is not None:
            self.job_filter.addItem(self.tr("Job {id}").format(id=job_id), job_id)
            index = self.job_filter.count() - 1
        self.job_filter.setCurrentIndex(max(0, index))
        self.refresh()

    def schedule_refresh(self) -> None:
        """Refresh soon; many calls in a burst read the log once."""
        if not self._timer.isActive():
            self._timer.start()

    def refresh(self) -> None:
        if self._reading:
            self._again = True
            return
        self._reading = True
        self.tasks.start(
            CallWorker(read_lines, self.job_filter.currentData()),
            on_finished=self._show,
            on_errored=self._failed,
        )

    def _show(self, lines: list[str]) -> None:
        self._reading = False
        bar = self.text.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        self.text.setPlainText("\n".join(lines))
        if at_end:
            bar.setValue(bar.maximum())
        if self._again:
            self._again = False
            self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self._reading = False
        self.text.setPlainText(self.tr("Cannot read the log: {error}").format(error=exc))

    def lines(self) -> list[str]:
        text = self.text.toPlainText()
        return text.splitlines() if text else []

    def copy_diagnostics(self) -> None:
        self.status.setText(self.tr("Collecting…"))
        self.tasks.start(
            CallWorker(diagnostics, dict(self.job_counts)),
            on_finished=self._copied,
            on_errored=lambda exc: self.status.setText(
                self.tr("Failed: {error}").format(error=exc)
            ),
        )

    def _copied(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.status.setText(self.tr("Diagnostics copied"))
        self.last_diagnostics = text
