"""What the preview pane shows for the selected job: the live frames of a running job,
a finished job's render (played, compared before/after), a queued job's first frame,
a failed job's reason with its fixes. It answers the pane's requests with workers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.engine.queue.jobstore import Job
from app.engine.render.file_probe import thumbnail
from app.engine.render.one_frame import (
    FramePair,
    decode_frame_at,
    frame_pair_at,
    render_one_frame,
)
from app.engine.workers import CallWorker
from app.ui.app_settings import AppSettings
from app.ui.batch_model import BatchModel, coverage_text
from app.ui.job_notice import JobNotice
from app.ui.preview import PreviewPanel
from app.ui.settings_dialog import missing_models
from app.ui.tasks import Tasks

POSTER_HEIGHT = 480


class PreviewPresenter(QObject):
    message = Signal(str)  # a line for the status bar
    failed = Signal(str, str)  # title, text: a dialog for the window

    def __init__(
        self,
        panel: PreviewPanel,
        notice: JobNotice,
        model: BatchModel,
        tasks: Tasks,
        current_job: Callable[[], Job | None],
        settings: Callable[[], AppSettings],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.panel = panel
        self.notice = notice
        self.model = model
        self.tasks = tasks
        self._current_job = current_job
        self._settings = settings
        self.latest: dict[int, np.ndarray] = {}  # newest preview frame per running job
        self._posters: dict[Path, np.ndarray] = {}
        panel.one_frame_requested.connect(self.preview_one_frame)
        panel.compare_requested.connect(self._compare_frame)
        panel.scrub_requested.connect(self._scrub)

    # -- the selected job ------------------------------------------------------------------

    def show_selected(self) -> None:
        job = self._current_job()
        self._show_notice(job)
        if job is None:
            running = next(iter(self.latest), None)
            if running is not None:
                self.show_live(running)
            else:
                self.panel.show_empty(self.tr("Select a job to preview it"))
            return
        title = f"{job.video.name} + {job.audio.name}"
        self.panel.set_one_frame_enabled(True)
        if job.state == "running":
            if job.id in self.latest:
                self.show_live(job.id)
            else:
                self._show_poster(job, title, self.tr("starting…"))
        elif job.state == "done" and job.output.is_file():
            self.panel.show_output(job.output, job.output.name)
            if self.panel.mode == "scrub":
                from app.engine.render.media import probe

                self.tasks.start(
                    CallWorker(probe, job.output),
                    on_finished=lambda info: self.panel.set_duration(info.duration),
                )
        else:
            captions = {
                "queued": self.tr("queued"),
                "failed": self.tr("failed"),
                "cancelled": self.tr("cancelled"),
                "done": self.tr("output file missing"),
            }
            self._show_poster(job, title, captions.get(job.state, job.state))

    def _show_notice(self, job: Job | None) -> None:
        if job is None:
            self.notice.clear()
            return
        if job.state == "failed":
            # Typed, not read from the error text: is the job's model installed here?
            self.notice.show_failure(job, None)
            if job.model not in ("auto", "draft"):
                self.tasks.start(
                    CallWorker(missing_models, [job.model]),
                    on_finished=lambda missing: self._model_checked(job, missing),
                )
            return
        if job.done_with_warning:
            self.notice.show_warning(
                job,
                self.tr(
                    "Check this render: {coverage}. Frames without a face are left unchanged."
                ).format(coverage=coverage_text(job)),
            )
            return
        self.notice.clear()

    def _model_checked(self, job: Job, missing: list[str]) -> None:
        current = self._current_job()
        if missing and current is not None and current.id == job.id and job.state == "failed":
            self.notice.show_failure(job, missing[0])

    def show_live(self, job_id: int) -> None:
        job = self.model.job(job_id)
        frame = self.latest.get(job_id)
        if job is None or frame is None:
            return
        self.panel.show_live(
            job_id,
            frame,
            self.tr("Rendering {video} + {audio}").format(
                video=job.video.name, audio=job.audio.name
            ),
            self.live_caption(job_id),
        )

    def live_caption(self, job_id: int) -> str:
        live = self.model.live(job_id)
        if live is None:
            return self.tr("live")
        return self.tr("live · frame {done} / {total}").format(done=live.done, total=live.total)

    def on_preview(self, job_id: int, frame: np.ndarray) -> None:
        self.latest[job_id] = frame
        current = self._current_job()
        if current is not None and current.id == job_id:
            self.show_live(job_id)
        elif current is None and self.panel.live_job in (None, job_id):
            self.show_live(job_id)

    def on_job_event(self, job_id: int, state: str) -> None:
        if state != "running":
            self.latest.pop(job_id, None)
        current = self._current_job()
        if current is not None and current.id == job_id:
            self.show_selected()
        elif current is None and state != "running" and self.panel.live_job == job_id:
            self.show_selected()

    def _show_poster(self, job: Job, title: str, caption: str) -> None:
        poster = self._posters.get(job.video)
        if poster is not None:
            self.panel.show_still(poster, title, caption)
            return
        self.panel.show_empty(self.tr("Loading…"))
        self.panel.title.setText(title)
        self.tasks.start(
            CallWorker(thumbnail, job.video, POSTER_HEIGHT),
            on_finished=lambda frame: self._poster_ready(job, frame, title, caption),
            on_errored=lambda exc: self.panel.show_empty(str(exc)),
        )

    def _poster_ready(self, job: Job, frame: np.ndarray | None, title: str, caption: str) -> None:
        if frame is None:
            return
        self._posters[job.video] = frame
        current = self._current_job()
        if current is not None and current.id == job.id and current.state != "running":
            self.panel.show_still(frame, title, caption)

    # -- the pane's requests ---------------------------------------------------------------

    def preview_one_frame(self, index: int) -> None:
        """Render output frame `index` of the selected job alone, with the current settings."""
        job = self._current_job()
        if job is None:
            self.message.emit(self.tr("Select a job to preview one of its frames"))
            return
        settings = self._settings().render_settings(job.video, job.audio, job.output)
        self.panel.set_one_frame_enabled(True, busy=True)
        title = self.tr("{video} + {audio}: one frame, current settings").format(
            video=job.video.name, audio=job.audio.name
        )
        self.tasks.start(
            CallWorker(render_one_frame, settings, index),
            on_finished=lambda pair: self._one_frame_ready(pair, title),
            on_errored=self._one_frame_failed,
        )

    def _one_frame_ready(self, pair: FramePair, title: str) -> None:
        self.panel.set_one_frame_enabled(True)
        caption = self.tr("frame {n}").format(n=pair.index)
        if not pair.face_found:
            caption += " · " + self.tr("no face found")
        self.panel.show_pair(pair.before, pair.after, title, caption)

    def _one_frame_failed(self, exc: BaseException) -> None:
        self.panel.set_one_frame_enabled(True)
        self.failed.emit(self.tr("Preview failed"), str(exc))

    def _compare_frame(self, seconds: float) -> None:
        job = self._current_job()
        if job is None or job.state != "done":
            return
        loop = str(job.settings.get("loop", "pingpong"))
        self.tasks.start(
            CallWorker(frame_pair_at, job.video, job.output, seconds, loop),
            on_finished=lambda pair: self.panel.show_pair(
                pair.before,
                pair.after,
                job.output.name,
                self.tr("frame {n}").format(n=pair.index),
                show_before=True,
                from_player=True,
            ),
            on_errored=lambda exc: self.message.emit(str(exc)),
        )

    def _scrub(self, seconds: float) -> None:
        job = self._current_job()
        if job is None:
            return
        self.tasks.start(
            CallWorker(decode_frame_at, job.output, seconds),
            on_finished=lambda found: self.panel.show_scrub_frame(*found),
        )
