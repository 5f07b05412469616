"""The main window: lays out the batch list, the preview and the log, and wires the
toolbar and menus to the parts that do the work.

- QueueController (queue_controller.py): the Scheduler, the queue lock, Start/Hold.
- Intake (intake.py): dropped or chosen files → probed, paired, queued jobs.
- PreviewPresenter (preview_presenter.py): what the preview shows for the selected job.
- batch_status.py: the status line and the title; batch_eta.py: the time left.

The GUI thread only paints and makes millisecond store calls; probing, thumbnails,
previews, model work and log reading run in a QThreadPool owned by the window (no
global pool, no global state).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import (
    QByteArray,
    QItemSelectionModel,
    QSettings,
    Qt,
    QThreadPool,
    QTimer,
)
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.engine.progress import FrameProgress
from app.engine.queue.jobstore import FINISHED_STATES, Job, JobStore
from app.engine.queue.scheduler import Runner
from app.engine.render.face_pick import FramePick, faces_at
from app.engine.render.file_probe import ProbeReport, thumbnails
from app.engine.workers import CallWorker
from app.ui.about_dialog import AboutDialog
from app.ui.app_settings import AppSettings
from app.ui.batch_eta import batch_eta
from app.ui.batch_model import COL_VIDEO, BatchModel
from app.ui.batch_status import summary_text, window_title
from app.ui.batch_table import BatchTable
from app.ui.face_picker import FacePickerDialog
from app.ui.images import bgr_to_pixmap
from app.ui.intake import Intake
from app.ui.job_edit_dialog import JobEditDialog
from app.ui.job_files import copy_path, open_path, reveal
from app.ui.job_notice import JobNotice
from app.ui.log_panel import LogPanel
from app.ui.models_dialog import ModelsDialog
from app.ui.pending_bar import PendingBar
from app.ui.preview import PreviewPanel
from app.ui.preview_presenter import PreviewPresenter
from app.ui.queue_controller import QueueController
from app.ui.settings_dialog import SettingsDialog, missing_models
from app.ui.store_watch import StoreWatch
from app.ui.tasks import Tasks
from app.ui.window_actions import install_actions
from app.ui.window_size import DEFAULT_SIZE, first_size

log = logging.getLogger(__name__)

APP_TITLE = "Lipsync Studio"
SUMMARY_INTERVAL_MS = 250  # status bar and title: 4 updates a second at most
SHUTDOWN_WAIT_S = 15.0
CONFIRM_REMOVE_AT = 2  # removing this many selected jobs asks first
VIDEO_EXTENSIONS = "*.mp4 *.mov *.mkv *.avi *.webm *.m4v *.png *.jpg *.jpeg"
AUDIO_EXTENSIONS = "*.wav *.mp3 *.flac *.m4a *.aac *.ogg *.opus"


def preload_engine() -> None:
    """Import what a render needs, here on the GUI thread at start-up.

    A first import holds the GIL for its whole run (~0.1-0.3 s for PyAV, OpenCV and the
    pipeline); done lazily on a worker thread it would freeze the window just as the
    first job starts.
    """
    import app.engine.models.lipsync.loader  # noqa: F401
    import app.engine.models.registry  # noqa: F401
    import app.engine.render.pipeline  # noqa: F401
    import app.engine.render.track_cache  # noqa: F401


def machine_devices() -> list[str]:
    """The scheduler slots this machine offers: the CPU and each GPU provider."""
    from app.engine.models.providers import list_devices

    return [d.device for d in list_devices()]


class DropHighlight(QWidget):
    """A frame over the window while files are dragged over it: "drop here" at a glance."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setObjectName("drop_highlight")
        self.setStyleSheet(
            "#drop_highlight { border: 3px dashed #2176d2; background: rgba(33,118,210,40); }"
        )
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.hide()

    def cover(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        self.raise_()
        self.show()


class MainWindow(QMainWindow):
    def __init__(
        self,
        store: JobStore,
        qsettings: QSettings,
        *,
        devices: list[str] | None = None,
        runner: Runner | None = None,
        pool: QThreadPool | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        preload_engine()
        self.store = store
        self.qsettings = qsettings
        self.settings = AppSettings.load(qsettings)
        self.devices = devices if devices is not None else machine_devices()
        self.pool = pool or QThreadPool(self)
        if pool is None:
            self.pool.setMaxThreadCount(4)
        self.tasks = Tasks(self.pool, self)
        self._closed = False
        self._batch_since = time.time()
        self._thumbs_requested: set[Path] = set()
        self._offered_models: set[str] = set()
        self.models_dialog: ModelsDialog | None = None
        self.about_dialog: AboutDialog | None = None
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        screen = self.screen()
        self.resize(first_size(screen.availableGeometry()) if screen else DEFAULT_SIZE)

        self.queue = QueueController(
            store, lambda: self.settings, self.devices, runner, self, pool=self.pool
        )
        self.queue.auto_start = bool(qsettings.value("queue/auto_start", False, type=bool))
        self.bridge = self.queue.bridge
        self.model = BatchModel(store, self)
        self.model.priority_changed = lambda _job_id: self.queue.wake()  # type: ignore[method-assign]
        self.store_watch = StoreWatch(store, self.model, self)  # jobs other processes add
        self.table = BatchTable(self.model)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.pending_bar = PendingBar()
        self.preview = PreviewPanel()
        self.notice = JobNotice()
        self.presenter = PreviewPresenter(
            self.preview,
            self.notice,
            self.model,
            self.tasks,
            self.current_job,
            lambda: self.settings,
            self,
        )
        self.intake = Intake(store, self.tasks, lambda: self.settings, self.queue.submit, self)
        self._make_layout()
        install_actions(self)
        self._make_status_bar()
        self._connect()
        self._summary_timer = QTimer(self)
        self._summary_timer.setInterval(SUMMARY_INTERVAL_MS)
        self._summary_timer.timeout.connect(self.update_summary)
        self._restore_state()

        self.model.reload()
        self._request_thumbnails([job.video for job in self.model.jobs()])
        self.check_models()
        self.preview.show_empty(self.tr("Select a job to preview it"))
        self._update_actions()
        self.update_summary()

    # -- building ------------------------------------------------------------------------

    def _make_layout(self) -> None:
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(4)
        left_layout.addWidget(self.pending_bar)
        left_layout.addWidget(self.table, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.preview, 1)
        right_layout.addWidget(self.notice)
        right.setMinimumWidth(280)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([780, 480])
        self.splitter = splitter
        self.setCentralWidget(splitter)
        self.drop_highlight = DropHighlight(splitter)
        self.log_panel = LogPanel(self.tasks)
        self.log_dock = QDockWidget(self.tr("Log"), self)
        self.log_dock.setObjectName("log_dock")
        self.log_dock.setWidget(self.log_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.log_dock.hide()

    def _make_status_bar(self) -> None:
        bar = self.statusBar()
        self.summary_label = QLabel("")
        self.overall = QProgressBar()
        self.overall.setRange(0, 1000)
        self.overall.setFixedWidth(180)
        self.overall.setTextVisible(True)
        self.overall.setFormat("%p%")
        self.target_label = QLabel()  # where jobs render
        self._show_target(self.queue.target_text())
        bar.addPermanentWidget(self.target_label)
        bar.addPermanentWidget(self.summary_label)
        bar.addPermanentWidget(self.overall)

    def _connect(self) -> None:
        self.bridge.job_event.connect(self._on_job_event)
        self.bridge.progress.connect(self._on_progress)
        self.bridge.preview.connect(self.presenter.on_preview)
        self.queue.state_changed.connect(self._on_queue_state)
        self.queue.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.queue.target_changed.connect(self._show_target)
        self.presenter.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.presenter.failed.connect(lambda title, text: QMessageBox.warning(self, title, text))
        self.notice.open_models.connect(self._open_models_at)
        self.notice.change_job.connect(self.change_job)
        self.notice.retry_job.connect(self._retry_job)
        self.intake.jobs_added.connect(self._on_jobs_added)
        self.intake.probed.connect(self._on_probed)
        self.intake.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.intake.pending_changed.connect(self.pending_bar.show_pending)
        self.pending_bar.clear_requested.connect(self.intake.clear_pending)
        selection = self.table.selectionModel()
        # selectionChanged, not currentRowChanged: a mouse press moves the current index
        # before it selects the row, so at currentRowChanged the old row is still selected.
        selection.selectionChanged.connect(lambda *_: self._selection_changed())
        selection.currentRowChanged.connect(lambda *_: self._selection_changed())
        self.log_dock.visibilityChanged.connect(self._log_shown)

    def _show_target(self, text: str) -> None:
        self.target_label.setText(text)
        self.target_label.setToolTip(self.queue.target_problem())  # the why, in full

    def _restore_state(self) -> None:
        geometry = self.qsettings.value("window/geometry")
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(QByteArray(geometry))
        header = self.qsettings.value("window/batch_columns")
        if isinstance(header, QByteArray | bytes):
            self.table.horizontalHeader().restoreState(QByteArray(header))
        if self.qsettings.value("window/log_visible", False, type=bool):
            self.log_dock.show()
        height = self.qsettings.value("window/log_height", 0, type=int)
        if height:
            self.resizeDocks([self.log_dock], [int(height)], Qt.Orientation.Vertical)

    def _save_state(self) -> None:
        self.qsettings.setValue("window/geometry", self.saveGeometry())
        self.qsettings.setValue("window/batch_columns", self.table.horizontalHeader().saveState())
        self.qsettings.setValue("window/log_visible", self.log_dock.isVisible())
        if self.log_dock.isVisible():
            self.qsettings.setValue("window/log_height", self.log_dock.height())
        self.qsettings.setValue("queue/auto_start", self.queue.auto_start)
        self.qsettings.sync()

    # -- the queue -----------------------------------------------------------------------

    @property
    def scheduler(self):  # noqa: ANN201 - the engine's Scheduler, for tests and tools
        return self.queue.scheduler

    def start(self) -> None:
        summary = self.model.batch_summary(self._batch_since)
        if not summary.running:
            self._batch_since = time.time()
        if not self.queue.start():
            return
        if summary.queued or summary.running:
            self.statusBar().showMessage(self.tr("Rendering…"), 3000)
        self._summary_timer.start()

    def pause(self) -> None:
        self.queue.hold()
        running = len(self.queue.running_jobs())
        self.statusBar().showMessage(
            self.tr("Held: {n} job(s) rendering now finish, no new job starts").format(n=running)
            if running
            else self.tr("Held: no new job starts until you press Start"),
            6000,
        )

    def _toggle_auto_start(self, on: bool) -> None:
        self.queue.set_auto_start(on)
        self.qsettings.setValue("queue/auto_start", on)

    def _on_queue_state(self) -> None:
        self.act_auto_start.setChecked(self.queue.auto_start)
        if self.queue.running:
            self._summary_timer.start()
        self._update_actions()
        self.update_summary()

    def cancel_selected(self) -> None:
        for job in self.selected_jobs():
            if job.state in ("queued", "running"):
                self.queue.cancel(job.id)

    def cancel_job(self, job_id: int) -> bool:
        return self.queue.cancel(job_id)

    def remove_selected(self) -> None:
        jobs = [job for job in self.selected_jobs() if job.state != "running"]
        running = len(self.selected_jobs()) - len(jobs)
        if len(jobs) >= CONFIRM_REMOVE_AT and not self._confirm(
            self.tr("Remove jobs"),
            self.tr("Remove {n} jobs from the list? Their rendered files stay.").format(
                n=len(jobs)
            ),
        ):
            return
        for job in jobs:
            if self.queue.remove(job.id):
                self.model.remove_job(job.id)
        if running:
            self.statusBar().showMessage(
                self.tr("{n} rendering job(s) not removed: cancel them first").format(n=running),
                6000,
            )
        self._update_actions()
        self.update_summary()

    def retry_selected(self) -> None:
        retried = sum(self.queue.retry(job) for job in self.selected_jobs())
        self._say_requeued(retried)
        self._update_actions()

    def _retry_job(self, job_id: int) -> None:
        job = self.model.job(job_id)
        self._say_requeued(int(job is not None and self.queue.retry(job)))

    def _say_requeued(self, n: int) -> None:
        if not n:
            return
        text = (
            self.tr("{n} job(s) queued again").format(n=n)
            if self.queue.running
            else self.tr("{n} job(s) queued again: press Start to render").format(n=n)
        )
        self.statusBar().showMessage(text, 8000)

    def change_job(self, job_id: int) -> None:
        """Change a finished job's model or device, then queue it again."""
        job = self.model.job(job_id)
        if job is None or job.state == "running":
            return
        dialog = JobEditDialog(job, self)
        if not dialog.exec():
            return
        model, device = dialog.values()
        if self.store.set_model(job_id, model, device):
            self.model.refresh_job(job_id)
            self._retry_job(job_id)

    def choose_face(self) -> None:
        """Show the selected job's frame at the preview's time with its faces boxed; the
        face clicked is stored with the job (FacePickerDialog)."""
        job = self.current_job()
        if job is None or job.state == "running":
            return
        self.tasks.start(
            CallWorker(faces_at, job.to_settings(), self.preview.current_time_s()),
            on_finished=lambda pick: self._face_pick_ready(job.id, pick),
            on_errored=lambda exc: self.statusBar().showMessage(str(exc), 8000),
        )

    def _face_pick_ready(self, job_id: int, pick: FramePick) -> None:
        job = self.model.job(job_id)
        if job is None:
            return
        dialog = FacePickerDialog(
            self.tr("Face for {name}").format(name=job.video.name),
            pick.seconds,
            pick.frame,
            pick.faces,
            self,
            pick.source_size,
        )
        self.face_picker = dialog  # reachable while open (tests drive it like a person)
        dialog.accepted.connect(lambda: self._face_chosen(job_id, dialog.choice()))
        dialog.open()

    def _face_chosen(self, job_id: int, face: str) -> None:
        if self.store.set_face(job_id, face):
            self.model.refresh_job(job_id)
            self.statusBar().showMessage(self.tr("Face set: {face}").format(face=face), 4000)

    def clear_finished(self) -> None:
        summary = self.model.batch_summary(self._batch_since)
        finished = summary.done + summary.failed + summary.cancelled
        if not finished:
            return
        if not self._confirm(
            self.tr("Clear finished"),
            self.tr(
                "Remove {n} done, failed and cancelled jobs from the list? "
                "Their rendered files stay."
            ).format(n=finished),
        ):
            return
        removed = self.queue.clear_finished()
        self.model.reload()
        self.statusBar().showMessage(self.tr("Removed {n} finished job(s)").format(n=removed), 4000)
        self._selection_changed()
        self.update_summary()

    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(
            self,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        return answer == QMessageBox.StandardButton.Yes

    # -- files ------------------------------------------------------------------------

    def add_paths(self, items: list[Path], fallback_videos: list[Path] | None = None) -> None:
        """What a drop does: probe, pair, queue (see intake.py)."""
        self.intake.add_paths(items, fallback_videos or [])

    def add_videos_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self,
            self.tr("Add presenter videos"),
            "",
            self.tr("Videos and images") + f" ({VIDEO_EXTENSIONS});;" + self.tr("All files (*)"),
        )
        self.add_paths([Path(f) for f in files])

    def add_audio_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self,
            self.tr("Add speech audio"),
            "",
            self.tr("Audio") + f" ({AUDIO_EXTENSIONS});;" + self.tr("All files (*)"),
        )
        selected = list(dict.fromkeys(job.video for job in self.selected_jobs()))
        self.add_paths([Path(f) for f in files], fallback_videos=selected)

    def add_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Add a folder of videos and audio"))
        if folder:
            self.add_paths([Path(folder)])

    def open_output_folder(self) -> None:
        jobs = self.selected_jobs()
        reveal(self, jobs[0].output if jobs else self.settings.output_folder)

    def open_output_file(self) -> None:
        job = self.current_job()
        if job is not None:
            open_path(self, job.output)

    def copy_output_path(self) -> None:
        job = self.current_job()
        if job is not None:
            copy_path(job.output)
            self.statusBar().showMessage(self.tr("Copied {path}").format(path=job.output), 4000)

    # -- dialogs ------------------------------------------------------------------------

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self)
        dialog.open_models.connect(self._open_models_at)
        dialog.accepted.connect(lambda: self.apply_settings(dialog.values()))
        dialog.open()
        return dialog

    def apply_settings(self, settings: AppSettings) -> None:
        """Save and use new settings: new jobs take them at once, the queue when idle."""
        old = self.settings
        self.settings = settings
        settings.save(self.qsettings)
        self.queue.apply_settings(old, settings)
        if old.language != settings.language:
            self.statusBar().showMessage(
                self.tr("The new language applies the next time Lipsync Studio starts"), 8000
            )

    def open_models(self) -> ModelsDialog:
        if self.models_dialog is None:
            self.models_dialog = ModelsDialog(self.tasks, self)
            self.models_dialog.models_changed.connect(self._selection_changed)
            self.models_dialog.models_changed.connect(self.check_models)
        else:
            self.models_dialog.refresh()
        self.models_dialog.show()
        self.models_dialog.raise_()
        return self.models_dialog

    def check_models(self) -> None:
        """Ask the registry (off the GUI thread) which models the listed jobs lack."""
        wanted = sorted({job.model for job in self.model.jobs()} - {"auto", "draft"})
        self.tasks.start(
            CallWorker(missing_models, wanted),
            on_finished=lambda names: self.model.set_missing_models(frozenset(names)),
        )

    def _open_models_at(self, name: str) -> None:
        dialog = self.open_models()
        if name:
            dialog.select(name)

    def offer_model_download(self, name: str) -> None:
        """New jobs need a model this machine lacks: offer the model manager (once each)."""
        if name in self._offered_models:
            return
        self._offered_models.add(name)
        answer = QMessageBox.question(
            self,
            self.tr("Model not installed"),
            self.tr(
                "The jobs use the model {model}, which is not installed.\n\n"
                "Open Models to download it now?"
            ).format(model=name),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._open_models_at(name)

    def show_about(self) -> AboutDialog:
        models = {job.model for job in self.model.jobs()} | {self.settings.model}
        self.about_dialog = AboutDialog(sorted(models), self)
        self.about_dialog.open()
        return self.about_dialog

    # -- selection -----------------------------------------------------------------------

    def selected_jobs(self) -> list[Job]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [job for row in rows if (job := self.model.job_at(row)) is not None]

    def current_job(self) -> Job | None:
        """The job the preview shows: the current row when it is selected, else the
        first selected one."""
        selection = self.table.selectionModel()
        index = selection.currentIndex()
        if index.isValid() and selection.isRowSelected(index.row()):
            return self.model.job_at(index.row())
        jobs = self.selected_jobs()
        return jobs[0] if jobs else None

    def select_job(self, job_id: int) -> None:
        row = self.model.row_of(job_id)
        if row >= 0:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, COL_VIDEO),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )

    def _selection_changed(self) -> None:
        self.presenter.show_selected()
        self._update_actions()

    def _context_menu(self, pos: object) -> None:
        menu = QMenu(self)
        for action in (
            self.act_start,
            self.act_cancel,
            self.act_retry,
            self.act_remove,
            None,
            self.act_open_file,
            self.act_reveal,
            self.act_copy_path,
        ):
            menu.addSeparator() if action is None else menu.addAction(action)
        job = self.current_job()
        if job is not None:
            if job.state != "running":
                change = menu.addAction(self.tr("Change model or device…"))
                change.triggered.connect(lambda: self.change_job(job.id))
            show_log = menu.addAction(self.tr("Show job {id} in the log").format(id=job.id))
            show_log.triggered.connect(lambda: self.show_job_log(job.id))
        menu.popup(self.table.viewport().mapToGlobal(pos))  # type: ignore[arg-type]

    def _log_shown(self, visible: bool) -> None:
        if visible:
            self.log_panel.set_jobs(self.model.ids())
            self.log_panel.refresh()

    def show_job_log(self, job_id: int | None) -> None:
        self.log_dock.show()
        self.log_panel.set_jobs(self.model.ids())
        self.log_panel.show_job(job_id)

    # -- the queue's signals ---------------------------------------------------------------

    def _on_job_event(self, job_id: int, state: str) -> None:
        self.model.refresh_job(job_id)
        if state in ("queued", "running") and not self._summary_timer.isActive():
            self._summary_timer.start()
        self.presenter.on_job_event(job_id, state)
        if state == "failed":
            self.check_models()
        if self.log_dock.isVisible():
            self.log_panel.schedule_refresh()
        self._update_actions()
        self.update_summary()

    def _on_progress(self, job_id: int, progress: FrameProgress) -> None:
        self.model.set_progress(job_id, progress)
        self.preview.set_live_caption(job_id, self.presenter.live_caption(job_id))

    def _on_jobs_added(self, ids: list[int]) -> None:
        self.model.add_jobs(ids)
        jobs = [job for job_id in ids if (job := self.model.job(job_id)) is not None]
        self._request_thumbnails([job.video for job in jobs])
        if ids and self.current_job() is None:
            self.select_job(ids[0])
        model = self.settings.model
        if ids and model not in ("auto", "draft"):
            self.tasks.start(
                CallWorker(missing_models, [model]),
                on_finished=lambda missing: missing and self.offer_model_download(model),
                on_errored=lambda exc: self.statusBar().showMessage(str(exc)),
            )
        if not self.queue.running:
            self.statusBar().showMessage(
                self.tr("{n} job(s) added: press Start to render").format(n=len(ids)), 8000
            )
        self._update_actions()
        self.update_summary()

    def _on_probed(self, report: ProbeReport) -> None:
        for video, thumb in report.thumbnails.items():
            self._thumbs_requested.add(video)
            self.model.set_thumbnail(video, bgr_to_pixmap(thumb))

    def _request_thumbnails(self, videos: list[Path]) -> None:
        wanted = [
            v
            for v in dict.fromkeys(videos)
            if v not in self._thumbs_requested and not self.model.has_thumbnail(v)
        ]
        if not wanted:
            return
        self._thumbs_requested.update(wanted)
        self.tasks.start(CallWorker(thumbnails, wanted), on_finished=self._thumbs_ready)

    def _thumbs_ready(self, thumbs: dict[Path, np.ndarray]) -> None:
        for video, thumb in thumbs.items():
            self.model.set_thumbnail(video, bgr_to_pixmap(thumb))

    # -- status ------------------------------------------------------------------------------

    def _update_actions(self) -> None:
        jobs = self.selected_jobs()
        states = {job.state for job in jobs}
        running = self.queue.running
        # Start only with something to start: a Start pressed on an empty list would make
        # every later add render at once (item 7).
        self.act_start.setEnabled(not running and self.model.count("queued") > 0)
        self.act_pause.setEnabled(running)
        self.act_cancel.setEnabled(bool(states & {"queued", "running"}))
        self.act_remove.setEnabled(bool(states - {"running"}))
        self.act_retry.setEnabled(bool(states & set(FINISHED_STATES)))
        self.act_choose_face.setEnabled(len(jobs) == 1 and jobs[0].state != "running")
        done = bool(jobs) and jobs[0].state == "done"
        self.act_open_file.setEnabled(done)
        self.act_copy_path.setEnabled(bool(jobs))
        if self.log_dock.isVisible():
            self.log_panel.set_jobs(self.model.ids())

    def update_summary(self) -> None:
        summary = self.model.batch_summary(self._batch_since)
        eta, whole = batch_eta(
            self.model.jobs(), self._running_eta, self._batch_since, self.queue.slots()
        )
        self.summary_label.setText(
            summary_text(
                summary,
                queue_running=self.queue.running,
                owns_queue=self.queue.owns_queue,
                eta=eta,
                whole_batch=whole,
            )
        )
        self.overall.setVisible(summary.active)
        self.overall.setValue(int(summary.batch_fraction * 1000))
        self.setWindowTitle(window_title(summary, APP_TITLE))
        if not summary.running and not (summary.queued and self.queue.running):
            self._summary_timer.stop()
        self.log_panel.job_counts = {
            state: n
            for state, n in (
                ("queued", summary.queued),
                ("running", summary.running),
                ("done", summary.done),
                ("failed", summary.failed),
                ("cancelled", summary.cancelled),
            )
            if n
        }

    def _running_eta(self, job_id: int) -> float | None:
        live = self.model.live(job_id)
        return live.eta_s if live is not None and live.fps > 0 else None

    # -- drag and drop -------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if _local_paths(event):
            event.acceptProposedAction()
            self.drop_highlight.cover()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if _local_paths(event):
            event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:  # noqa: N802
        self.drop_highlight.hide()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        self.drop_highlight.hide()
        items = _local_paths(event)
        if not items:
            event.ignore()
            return
        event.acceptProposedAction()
        self.add_paths(items)

    # -- closing ---------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        running = self.queue.running_jobs()
        if running and not self._closed:
            answer = QMessageBox.question(
                self,
                self.tr("Quit while rendering?"),
                self.tr(
                    "{n} job(s) are rendering. Quit anyway?\n\nThey stop now and start again "
                    "from the beginning the next time you press Start."
                ).format(n=len(running)),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop the queue (running jobs go back to it), cancel the workers and wait for
        them, then drop the dialogs. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._summary_timer.stop()
        self.store_watch.stop()
        self._save_state()
        # Widgets emit bool signals while C++ tears them down (the dock's visibilityChanged,
        # the compare button's toggled); a Python slot reached then, with the interpreter
        # half finalised, is where "bool_dealloc" came from. Cut those links first.
        self.log_dock.visibilityChanged.disconnect(self._log_shown)
        self.preview.shutdown()
        self.setCursor(Qt.CursorShape.WaitCursor)
        self.queue.shutdown()
        if not self.tasks.shutdown(int(SHUTDOWN_WAIT_S * 1000)):
            log.warning("some background tasks did not stop in time")
        QApplication.processEvents()  # deliver the workers' last queued signals now


def _local_paths(event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> list[Path]:
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
