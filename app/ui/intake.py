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

from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app.engine.errors import InputError
from app.engine.queue.batch_plan import pair_by_name, pair_each, queue_pairs
from app.engine.queue.jobstore import JobSpec, JobStore
from app.engine.render.file_probe import ProbeReport, probe_files
from app.engine.workers import CallWorker
from app.ui.app_settings import AppSettings
from app.ui.tasks import Tasks

log = logging.getLogger(__name__)
translate = QCoreApplication.translate

PAIR_EACH, PAIR_BY_NAME = "each", "names"
MAX_LISTED = 12  # files named in one message; the rest are counted


def ask_pairing(
    parent: QWidget | None, n_videos: int, n_audios: int, n_by_name: int, all_paired: bool
) -> str | None:
    """Several videos and several audios: PAIR_EACH, PAIR_BY_NAME, or None (cancel).

    The default is matching by name only when names pair every file; otherwise every
    combination, so a plain Enter never turns a drop into nothing."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(translate("Intake", "Pair videos and audios"))
    box.setText(
        translate("Intake", "You added {videos} videos and {audios} audio files.").format(
            videos=n_videos, audios=n_audios
        )
    )
    box.setInformativeText(
        translate(
            "Intake",
            "Render every video with every audio, or pair files whose names "
            "match (alice.mp4 with alice.wav, alice_take2.wav …)?",
        )
    )
    each = box.addButton(
        translate("Intake", "Every combination ({n} jobs)").format(n=n_videos * n_audios),
        QMessageBox.ButtonRole.AcceptRole,
    )
    names = box.addButton(
        translate("Intake", "Match by name ({n} jobs)").format(n=n_by_name),
        QMessageBox.ButtonRole.AcceptRole,
    )
    names.setEnabled(n_by_name > 0)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(names if all_paired and n_by_name else each)
    box.exec()
    clicked = box.clickedButton()
    if clicked is each:
        return PAIR_EACH
    if clicked is names:
        return PAIR_BY_NAME
    return None


def ask_selected_video(parent: QWidget | None, audios: list[Path], videos: list[Path]) -> bool:
    """Audio added while jobs are selected: pair it with their video(s)? (never silently)"""
    answer = QMessageBox.question(
        parent,
        translate("Intake", "Pair with the selected video?"),
        translate(
            "Intake",
            "Render {audios} with the selected job's video {videos}?\n\n"
            "No: the audio waits for a video you drop or add next.",
        ).format(
            audios=", ".join(a.name for a in audios), videos=", ".join(v.name for v in videos)
        ),
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
    )
    return answer == QMessageBox.StandardButton.Yes


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
    pending_changed = Signal(object, object)  # videos, audios waiting for their other half

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
        self.message.emit(translate("Intake", "Reading {n} item(s)…").format(n=len(items)))
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
        QMessageBox.warning(self._parent, translate("Intake", "Cannot read the files"), str(exc))

    def _probed(self, report: ProbeReport, fallback_videos: list[Path]) -> None:
        self._probing -= 1
        self.probed.emit(report)
        if report.unreadable:
            QMessageBox.warning(
                self._parent,
                translate("Intake", "Some files cannot be used"),
                translate(
                    "Intake", "{n} file(s) could not be read as video or audio and were not added:"
                ).format(n=len(report.unreadable))
                + "\n\n"
                + list_files(report.unreadable),
            )
        videos = _unique(self.pending_videos + list(report.videos))
        audios = _unique(self.pending_audios + list(report.audios))
        if audios and not videos and fallback_videos:
            chosen = _unique(fallback_videos)
            if ask_selected_video(self._parent, audios, chosen):
                videos = chosen
        if not (videos and audios):
            self._set_pending(videos, audios)
            return
        self._set_pending([], [])
        pairs = self.pair(videos, audios)
        if pairs:
            self.create_jobs(pairs)

    def _set_pending(self, videos: list[Path], audios: list[Path]) -> None:
        self.pending_videos, self.pending_audios = videos, audios
        self.pending_changed.emit(list(videos), list(audios))

    def clear_pending(self) -> None:
        self._set_pending([], [])

    def pair(self, videos: list[Path], audios: list[Path]) -> list[tuple[Path, Path]]:
        """Pairs to queue; files matching by name leaves alone stay pending."""
        if len(videos) == 1 or len(audios) == 1:
            return pair_each(videos, audios)
        by_name, lonely_videos, lonely_audios = pair_by_name(videos, audios)
        all_paired = not lonely_videos and not lonely_audios
        choice = ask_pairing(self._parent, len(videos), len(audios), len(by_name), all_paired)
        if choice == PAIR_EACH:
            return pair_each(videos, audios)
        if choice != PAIR_BY_NAME:
            self._set_pending(videos, audios)  # nothing lost: they wait in the bar
            self.message.emit(translate("Intake", "Nothing added yet"))
            return []
        self._set_pending(list(lonely_videos), list(lonely_audios))
        return by_name

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
                self._parent,
                translate("Intake", "Cannot add the jobs"),
                translate("Intake", "Output folder {folder}: {error}").format(
                    folder=folder, error=exc
                ),
            )
            return []
        log.info("queued %d job(s): ids %s", len(ids), ids)
        self.message.emit(translate("Intake", "Added {n} job(s)").format(n=len(ids)))
        self.jobs_added.emit(ids)
        return ids


def _unique(items: Sequence[Path]) -> list[Path]:
    return list(dict.fromkeys(items))
