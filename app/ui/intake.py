"""From dropped or chosen files to queued jobs.

1. Probe every file in a worker (folders expanded): videos and audios are told apart by
   their streams, never by extension; unreadable files are reported in ONE message and
   the rest go on.
2. Pair: one video with several audios (or several videos with one audio) gives a job
   per pair; several of each asks: every video with every audio, or by matching names.
   A drop with only videos (or only audios) waits for the other half.
3. Name the outputs from the output folder and the name pattern, never onto an existing
   file, an input, or another queued job's output ("_2", "_3" …), and queue the jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app.engine.errors import InputError
from app.engine.queue.batch_plan import pair_by_name, pair_each, queue_pairs
from app.engine.queue.jobstore import JobSpec, JobStore
from app.engine.render.file_probe import ProbeReport, probe_files
from app.engine.workers import CallWorker
from app.ui.app_settings import AppSettings
from app.ui.tasks import Tasks

log = logging.getLogger(__name__)

PAIR_EACH, PAIR_BY_NAME = "each", "names"
MAX_LISTED = 12  # files named in one message; the rest are counted


def ask_pairing(parent: QWidget | None, n_videos: int, n_audios: int) -> str | None:
    """Several videos and several audios: PAIR_EACH, PAIR_BY_NAME, or None (cancel)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Pair videos and audios")
    box.setText(f"You added {n_videos} videos and {n_audios} audio files.")
    box.setInformativeText(
        "Render every video with every audio, or pair files whose names "
        "match (alice.mp4 with alice.wav, alice_take2.wav …)?"
    )
    each = box.addButton(
        f"Every combination ({n_videos * n_audios} jobs)", QMessageBox.ButtonRole.AcceptRole
    )
    names = box.addButton("Match by name", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(names)
    box.exec()
    clicked = box.clickedButton()
    if clicked is each:
        return PAIR_EACH
    if clicked is names:
        return PAIR_BY_NAME
    return None


def list_files(items: Sequence[tuple[Path, str]] | Sequence[Path]) -> str:
    lines = []
    for item in list(items)[:MAX_LISTED]:
        if isinstance(item, tuple):
            lines.append(f"• {item[0].name}: {item[1]}")
        else:
            lines.append(f"• {item.name}")
    if len(items) > MAX_LISTED:
        lines.append(f"… and {len(items) - MAX_LISTED} more")
    return "\n".join(lines)


class Intake(QObject):
    """Turns paths into jobs; the window connects its signals."""

    jobs_added = Signal(object)  # list of new job ids
    probed = Signal(object)  # the ProbeReport (thumbnails for the table)
    message = Signal(str)  # a line for the status bar

    def __init__(
        self,
        store: JobStore,
        tasks: Tasks,
        settings: Callable[[], AppSettings],
        submit: Callable[[list[JobSpec]], list[int]],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.tasks = tasks
        self._settings = settings
        self._submit = submit
        self._parent = parent
        self.pending_videos: list[Path] = []
        self.pending_audios: list[Path] = []
        self._probing = 0

    @property
    def busy(self) -> bool:
        return self._probing > 0

    def add_paths(self, items: Sequence[Path | str], fallback_videos: Sequence[Path] = ()) -> None:
        """Probe `items` in a worker, then pair and queue (see the module docstring).

        fallback_videos: videos to pair audio with when none is pending or given (the
        selected jobs' videos, for "Add audio").
        """
        items = [Path(p) for p in items if str(p)]
        if not items:
            return
        self._probing += 1
        self.message.emit(f"Reading {len(items)} item(s)…")
        self.tasks.start(
            CallWorker(probe_files, items, pass_cancel=True),
            on_finished=lambda report: self._probed(report, list(fallback_videos)),
            on_errored=self._probe_failed,
            on_cancelled=self._probe_done,
        )

    def _probe_done(self) -> None:
        self._probing -= 1

    def _probe_failed(self, exc: BaseException) -> None:
        self._probing -= 1
        QMessageBox.warning(self._parent, "Cannot read the files", str(exc))

    def _probed(self, report: ProbeReport, fallback_videos: list[Path]) -> None:
        self._probing -= 1
        self.probed.emit(report)
        if report.unreadable:
            n = len(report.unreadable)
            QMessageBox.warning(
                self._parent,
                "Some files cannot be used",
                f"{n} file{'s' if n > 1 else ''} could not be read as video or audio and "
                f"{'were' if n > 1 else 'was'} not added:\n\n{list_files(report.unreadable)}",
            )
        videos = _unique(self.pending_videos + list(report.videos))
        audios = _unique(self.pending_audios + list(report.audios))
        if audios and not videos and fallback_videos:
            videos = _unique(fallback_videos)
        if not (videos and audios):
            self.pending_videos, self.pending_audios = videos, audios
            if videos:
                self.message.emit(
                    f"{len(videos)} video(s) waiting for speech audio: drop or add audio files"
                )
            elif audios:
                self.message.emit(
                    f"{len(audios)} audio file(s) waiting for a presenter "
                    "video: drop or add a video"
                )
            return
        self.pending_videos, self.pending_audios = [], []
        pairs = self.pair(videos, audios)
        if pairs:
            self.create_jobs(pairs)

    def pair(self, videos: list[Path], audios: list[Path]) -> list[tuple[Path, Path]]:
        if len(videos) == 1 or len(audios) == 1:
            return pair_each(videos, audios)
        choice = ask_pairing(self._parent, len(videos), len(audios))
        if choice == PAIR_EACH:
            return pair_each(videos, audios)
        if choice != PAIR_BY_NAME:
            self.message.emit("Nothing added")
            return []
        pairs, lonely_videos, lonely_audios = pair_by_name(videos, audios)
        if lonely_videos or lonely_audios:
            parts = []
            if lonely_audios:
                parts.append(
                    "No video named like these audio files (an audio name must start "
                    f"with its video's name):\n{list_files(lonely_audios)}"
                )
            if lonely_videos:
                parts.append(f"No audio for these videos:\n{list_files(lonely_videos)}")
            QMessageBox.information(self._parent, "Some files have no partner", "\n\n".join(parts))
        return pairs

    def create_jobs(self, pairs: Sequence[tuple[Path, Path]]) -> list[int]:
        """Queue a job per (video, audio) with the current settings; returns the ids."""
        settings = self._settings()
        folder = settings.output_folder
        try:
            ids = queue_pairs(
                self.store,
                pairs,
                folder,
                settings.name_pattern,
                settings.render_settings,
                submit=self._submit,
            )
        except (OSError, InputError) as exc:
            QMessageBox.warning(
                self._parent, "Cannot add the jobs", f"Output folder {folder}: {exc}"
            )
            return []
        log.info("queued %d job(s): ids %s", len(ids), ids)
        self.message.emit(f"Added {len(ids)} job(s)")
        self.jobs_added.emit(ids)
        return ids


def _unique(items: Sequence[Path]) -> list[Path]:
    return list(dict.fromkeys(items))
