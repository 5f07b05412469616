"""The main window: the batch list, its toolbar, the preview, the log, the status bar.

It owns the Scheduler (the engine's batch queue, running on its own threads) and talks
to it through a SchedulerBridge whose signals arrive here queued. The GUI thread only
paints and makes millisecond store calls; probing, thumbnails, previews, model work and
log reading run in a QThreadPool owned by the window (no global pool, no global state).

One process runs the queue at a time (the lock the CLI's `batch` takes too); a window
that finds the queue taken shows the jobs but does not run them.
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
    QSize,
    Qt,
    QThreadPool,
    QTimer,
    QUrl,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QStyle,
    QTableView,
    QToolBar,
    QWidget,
)

from app.engine import paths
from app.engine.progress import FrameProgress
from app.engine.queue.filelock import RUNNER_LOCK, FileLock
from app.engine.queue.jobstore import FINISHED_STATES, Job, JobSpec, JobStore
from app.engine.queue.scheduler import Runner, Scheduler, render_runner
from app.engine.render.file_probe import ProbeReport, thumbnail, thumbnails
from app.engine.render.one_frame import (
    FramePair,
    decode_frame_at,
    frame_pair_at,
    render_one_frame,
)
from app.engine.workers import CallWorker, SchedulerBridge
from app.ui.app_settings import AppSettings
from app.ui.batch_model import (
    COL_AUDIO,
    COL_MODEL,
    COL_OUTPUT,
    COL_PRIORITY,
    COL_PROGRESS,
    COL_SPEED,
    COL_STATE,
    COL_THUMB,
    COL_VIDEO,
    BatchModel,
    format_duration,
)
from app.ui.delegates import ProgressDelegate
from app.ui.images import bgr_to_pixmap
from app.ui.intake import Intake
from app.ui.log_panel import LogPanel
from app.ui.models_dialog import ModelsDialog
from app.ui.preview import PreviewPanel
from app.ui.settings_dialog import SettingsDialog
from app.ui.tasks import Tasks

log = logging.getLogger(__name__)

APP_TITLE = "Lipsync Studio"
SUMMARY_INTERVAL_MS = 250  # status bar and title: 4 updates a second at most
POSTER_HEIGHT = 480
SHUTDOWN_WAIT_S = 15.0
COLUMN_WIDTHS = {
    COL_THUMB: 68,
    COL_VIDEO: 130,
    COL_AUDIO: 130,
    COL_MODEL: 84,
    COL_PRIORITY: 58,
    COL_STATE: 82,
    COL_PROGRESS: 128,
    COL_SPEED: 136,
    COL_OUTPUT: 150,
}
VIDEO_FILTER = "Videos and images (*.mp4 *.mov *.mkv *.avi *.webm *.m4v *.png *.jpg *.jpeg)"
AUDIO_FILTER = "Audio (*.wav *.mp3 *.flac *.m4a *.aac *.ogg *.opus)"


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
        self._runner = runner or render_runner
        self.pool = pool or QThreadPool(self)
        if pool is None:
            self.pool.setMaxThreadCount(4)
        self.tasks = Tasks(self.pool, self)
        self.bridge = SchedulerBridge(parent=self)
        self.bridge.job_event.connect(self._on_job_event)
        self.bridge.progress.connect(self._on_progress)
        self.bridge.preview.connect(self._on_preview)
        self.scheduler: Scheduler | None = None
        self._queue_lock = FileLock(paths.data_dir() / RUNNER_LOCK)
        self._owns_queue = False
        self._paused = True  # the queue waits for Start
        self._rebuild_when_idle = False
        self._closed = False
        self._batch_since = time.time()
        self._latest: dict[int, np.ndarray] = {}  # newest preview frame per running job
        self._posters: dict[Path, np.ndarray] = {}
        self._thumbs_requested: set[Path] = set()
        self._offered_models: set[str] = set()
        self.models_dialog: ModelsDialog | None = None
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        self.resize(1280, 760)

        self.model = BatchModel(store, self)
        self.model.priority_changed = self._priority_changed  # type: ignore[method-assign]
        self.table = self._make_table()
        self.preview = PreviewPanel()
        self.preview.one_frame_requested.connect(self.preview_one_frame)
        self.preview.compare_requested.connect(self._compare_frame)
        self.preview.scrub_requested.connect(self._scrub)
        self.intake = Intake(store, self.tasks, lambda: self.settings, self._submit, self)
        self.intake.jobs_added.connect(self._on_jobs_added)
        self.intake.probed.connect(self._on_probed)
        self.intake.message.connect(lambda text: self.statusBar().showMessage(text, 8000))

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.preview)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([960, 460])
        self.splitter = splitter
        self.setCentralWidget(splitter)
        self.log_panel = LogPanel(self.tasks)
        self.log_dock = QDockWidget("Log", self)
        self.log_dock.setObjectName("log_dock")
        self.log_dock.setWidget(self.log_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.log_dock.hide()
        self.log_dock.visibilityChanged.connect(self._log_shown)

        self._make_actions()
        self._make_status_bar()
        self._summary_timer = QTimer(self)
        self._summary_timer.setInterval(SUMMARY_INTERVAL_MS)
        self._summary_timer.timeout.connect(self.update_summary)
        self._restore_state()

        self.model.reload()
        self._request_thumbnails([job.video for job in self.model.jobs()])
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_selected())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self._build_scheduler()
        self.preview.show_empty(
            "Drop presenter videos and speech audio here, or use Add videos / Add audio"
        )
        self._update_actions()
        self.update_summary()

    # -- building ------------------------------------------------------------------------

    def _make_table(self) -> QTableView:
        table = QTableView()
        table.setModel(self.model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.setIconSize(QSize(60, 54))
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(60)
        table.setItemDelegateForColumn(COL_PROGRESS, ProgressDelegate(table))
        header = table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        for col, width in COLUMN_WIDTHS.items():
            table.setColumnWidth(col, width)
        header.setSectionResizeMode(COL_THUMB, QHeaderView.ResizeMode.Fixed)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._context_menu)
        return table

    def _action(
        self,
        text: str,
        slot: object,
        icon: QStyle.StandardPixmap | None = None,
        shortcut: QKeySequence | str | None = None,
        tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _make_actions(self) -> None:
        sp = QStyle.StandardPixmap
        self.act_add_videos = self._action(
            "Add videos",
            self.add_videos_dialog,
            sp.SP_FileDialogStart,
            "Ctrl+O",
            "Add presenter videos or stills",
        )
        self.act_add_audio = self._action(
            "Add audio",
            self.add_audio_dialog,
            sp.SP_MediaVolume,
            "Ctrl+Shift+O",
            "Add speech audio files",
        )
        self.act_add_folder = self._action(
            "Add folder",
            self.add_folder_dialog,
            sp.SP_DirIcon,
            None,
            "Add every video and audio in a folder",
        )
        self.act_start = self._action(
            "Start", self.start, sp.SP_MediaPlay, "Ctrl+Return", "Render the queued jobs"
        )
        self.act_pause = self._action(
            "Pause", self.pause, sp.SP_MediaPause, None, "Start no new job; the running ones finish"
        )
        self.act_cancel = self._action(
            "Cancel",
            self.cancel_selected,
            sp.SP_MediaStop,
            None,
            "Cancel the selected jobs (a cancelled job leaves no file)",
        )
        self.act_remove = self._action(
            "Remove",
            self.remove_selected,
            sp.SP_TrashIcon,
            QKeySequence.StandardKey.Delete,
            "Remove the selected jobs from the list",
        )
        self.act_retry = self._action(
            "Retry",
            self.retry_selected,
            sp.SP_BrowserReload,
            None,
            "Queue the selected finished jobs again",
        )
        self.act_clear = self._action(
            "Clear finished",
            self.clear_finished,
            sp.SP_DialogResetButton,
            None,
            "Remove done, failed and cancelled jobs from the list (their files stay)",
        )
        self.act_open_folder = self._action(
            "Open output folder",
            self.open_output_folder,
            sp.SP_DirOpenIcon,
            None,
            "Open the folder of the selected job's output",
        )
        self.act_settings = self._action("Settings…", self.open_settings, None, "Ctrl+,")
        self.act_models = self._action(
            "Models…", self.open_models, None, None, "Download, import and check lip-sync models"
        )
        self.act_log = self.log_dock.toggleViewAction()
        self.act_log.setText("Log")
        self.act_quit = self._action("Quit", self.close, None, QKeySequence.StandardKey.Quit)

        toolbar = QToolBar("Batch")
        toolbar.setObjectName("batch_toolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.setMovable(False)
        for action in (
            self.act_add_videos,
            self.act_add_audio,
            self.act_add_folder,
            None,
            self.act_start,
            self.act_pause,
            self.act_cancel,
            None,
            self.act_remove,
            self.act_retry,
            self.act_clear,
            None,
            self.act_open_folder,
        ):
            toolbar.addSeparator() if action is None else toolbar.addAction(action)
        self.addToolBar(toolbar)
        self.toolbar = toolbar

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        for action in (self.act_add_videos, self.act_add_audio, self.act_add_folder):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        queue_menu = menu.addMenu("&Queue")
        for action in (
            self.act_start,
            self.act_pause,
            self.act_cancel,
            self.act_retry,
            self.act_remove,
            self.act_clear,
        ):
            queue_menu.addAction(action)
        tools_menu = menu.addMenu("&Tools")
        for action in (self.act_settings, self.act_models, self.act_log):
            tools_menu.addAction(action)

    def _make_status_bar(self) -> None:
        bar = self.statusBar()
        self.summary_label = QLabel("")
        self.overall = QProgressBar()
        self.overall.setRange(0, 1000)
        self.overall.setFixedWidth(220)
        self.overall.setTextVisible(True)
        self.overall.setFormat("%p%")
        bar.addPermanentWidget(self.summary_label)
        bar.addPermanentWidget(self.overall)

    def _restore_state(self) -> None:
        geometry = self.qsettings.value("window/geometry")
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(QByteArray(geometry))
        header = self.qsettings.value("window/columns")
        if isinstance(header, QByteArray | bytes):
            self.table.horizontalHeader().restoreState(QByteArray(header))

    def _save_state(self) -> None:
        self.qsettings.setValue("window/geometry", self.saveGeometry())
        self.qsettings.setValue("window/columns", self.table.horizontalHeader().saveState())
        self.qsettings.sync()

    # -- the scheduler -------------------------------------------------------------------

    def _build_scheduler(self) -> None:
        if not self._owns_queue:
            self._owns_queue = self._queue_lock.acquire()
            if not self._owns_queue:
                self.statusBar().showMessage(
                    f"Another lipsync-studio (pid {self._queue_lock.holder()}) is running the "
                    "queue; this window shows the jobs but does not render them"
                )
                return
        scheduler = Scheduler(
            self.store,
            self._runner,
            slots=self.settings.slots(self.devices),
            stall_timeout=self.settings.stall_timeout_s,
            on_job_event=self.bridge.on_job_event,
            on_progress=self.bridge.on_progress,
        )
        if self._paused:
            scheduler.pause()
        scheduler.start()  # puts back jobs a crash left running
        self.scheduler = scheduler

    def _rebuild_scheduler(self) -> None:
        """New slots or timeouts: a scheduler cannot change its slots, so make a new one
        (only when nothing runs: stopping puts running jobs back in the queue)."""
        if self.scheduler is not None and self.scheduler.running_jobs():
            self._rebuild_when_idle = True
            return
        self._rebuild_when_idle = False
        if self.scheduler is not None:
            self.scheduler.stop(wait=True)
            self.scheduler = None
        self._build_scheduler()

    def _submit(self, specs: list[JobSpec]) -> list[int]:
        if self.scheduler is not None:
            return self.scheduler.submit_many(specs)
        return self.store.add_many(specs)

    def _priority_changed(self, _job_id: int) -> None:
        if self.scheduler is not None:
            self.scheduler.wake()

    # -- toolbar actions -----------------------------------------------------------------

    def add_paths(self, items: list[Path], fallback_videos: list[Path] | None = None) -> None:
        """What a drop does: probe, pair, queue (see intake.py)."""
        self.intake.add_paths(items, fallback_videos or [])

    def add_videos_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Add presenter videos", "", f"{VIDEO_FILTER};;All files (*)"
        )
        self.add_paths([Path(f) for f in files])

    def add_audio_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Add speech audio", "", f"{AUDIO_FILTER};;All files (*)"
        )
        selected = list(dict.fromkeys(job.video for job in self.selected_jobs()))
        self.add_paths([Path(f) for f in files], fallback_videos=selected)

    def add_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of videos and audio")
        if folder:
            self.add_paths([Path(folder)])

    def start(self) -> None:
        if self.scheduler is None:
            self._rebuild_scheduler()
            if self.scheduler is None:
                return
        if not self.model.batch_summary(self._batch_since).active:
            self._batch_since = time.time()
        self._paused = False
        self.scheduler.resume()
        self.statusBar().showMessage("Rendering…", 3000)
        self._summary_timer.start()
        self._update_actions()
        self.update_summary()

    def pause(self) -> None:
        self._paused = True
        if self.scheduler is not None:
            self.scheduler.pause()
        self.statusBar().showMessage("Paused: running jobs finish, no new job starts", 5000)
        self._update_actions()

    def cancel_selected(self) -> None:
        for job in self.selected_jobs():
            if job.state in ("queued", "running"):
                self.cancel_job(job.id)

    def cancel_job(self, job_id: int) -> bool:
        if self.scheduler is not None:
            ok = self.scheduler.cancel(job_id)
        else:
            ok = self.store.cancel(job_id)
            self.model.refresh_job(job_id)
        return ok

    def remove_selected(self) -> None:
        running = 0
        for job in self.selected_jobs():
            if job.state == "running":
                running += 1
                continue
            removed = (
                self.scheduler.remove(job.id)
                if self.scheduler is not None
                else self.store.remove(job.id)
            )
            if removed:
                self.model.remove_job(job.id)
        if running:
            self.statusBar().showMessage(
                f"{running} running job(s) not removed: cancel them first", 6000
            )
        self._update_actions()

    def retry_selected(self) -> None:
        for job in self.selected_jobs():
            if job.state in FINISHED_STATES:
                if self.scheduler is not None:
                    self.scheduler.retry(job.id)
                else:
                    self.store.requeue(job.id, reset_attempts=True)
                self.model.refresh_job(job.id)
        self._update_actions()

    def clear_finished(self) -> None:
        removed = self.store.clear_done()
        for state in ("failed", "cancelled"):
            while page := self.store.page(limit=1000, order="created", state=state):  # type: ignore[arg-type]
                for job in page:
                    removed += self.store.remove(job.id)
        self.model.reload()
        self.statusBar().showMessage(f"Removed {removed} finished job(s)", 4000)
        self._show_selected()
        self._update_actions()
        self.update_summary()

    def open_output_folder(self) -> None:
        jobs = self.selected_jobs()
        folder = jobs[0].output.parent if jobs else self.settings.output_folder
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            self.apply_settings(dialog.values())

    def apply_settings(self, settings: AppSettings) -> None:
        """Save and use new settings: new jobs take them at once, the queue when idle."""
        old = self.settings
        self.settings = settings
        settings.save(self.qsettings)
        if (
            old.slots(self.devices) != settings.slots(self.devices)
            or old.stall_timeout_s != settings.stall_timeout_s
        ):
            if self.scheduler is not None and not self.scheduler.running_jobs():
                self._rebuild_scheduler()
            elif self.scheduler is not None:
                self._rebuild_when_idle = True
                self.statusBar().showMessage(
                    "The queue takes the new device settings when the running jobs end", 6000
                )

    def open_models(self) -> ModelsDialog:
        if self.models_dialog is None:
            self.models_dialog = ModelsDialog(self.tasks, self)
        else:
            self.models_dialog.refresh()
        self.models_dialog.show()
        self.models_dialog.raise_()
        return self.models_dialog

    def offer_model_download(self, name: str) -> None:
        """A job needs a model this machine lacks: offer to download it (once per model)."""
        if name in self._offered_models:
            return
        self._offered_models.add(name)
        answer = QMessageBox.question(
            self,
            "Model not installed",
            f"The jobs use the model {name}, which is not installed.\n\nOpen Models to "
            f"download it now?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.open_models().select(name)

    # -- selection and preview -------------------------------------------------------------

    def selected_jobs(self) -> list[Job]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [job for row in rows if (job := self.model.job_at(row)) is not None]

    def current_job(self) -> Job | None:
        index = self.table.selectionModel().currentIndex()
        if index.isValid() and self.table.selectionModel().isRowSelected(index.row()):
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

    def _show_selected(self) -> None:
        job = self.current_job()
        if job is None:
            running = self._followed_running_job()
            if running is not None and running in self._latest:
                self._show_live(running)
            else:
                self.preview.show_empty("Select a job to preview it")
            return
        title = f"{job.video.name} + {job.audio.name}"
        self.preview.set_one_frame_enabled(True)
        if job.state == "running":
            if job.id in self._latest:
                self._show_live(job.id)
            else:
                self._show_poster(job, title, "starting…")
        elif job.state == "done" and job.output.is_file():
            self.preview.show_output(job.output, job.output.name)
            if self.preview.mode == "scrub":
                from app.engine.render.media import probe

                self.tasks.start(
                    CallWorker(probe, job.output),
                    on_finished=lambda info: self.preview.set_duration(info.duration),
                )
        else:
            self._show_poster(
                job,
                title,
                {"queued": "queued", "failed": "failed", "cancelled": "cancelled"}.get(
                    job.state, job.state
                ),
            )

    def _followed_running_job(self) -> int | None:
        running = [job_id for job_id in self._latest]
        return running[0] if running else None

    def _show_live(self, job_id: int) -> None:
        job = self.model.job(job_id)
        frame = self._latest.get(job_id)
        if job is None or frame is None:
            return
        self.preview.show_live(
            job_id,
            frame,
            f"Rendering {job.video.name} + {job.audio.name}",
            self._live_caption(job_id),
        )

    def _live_caption(self, job_id: int) -> str:
        live = self.model.live(job_id)
        if live is None:
            return "live"
        return f"live · frame {live.done} / {live.total}"

    def _show_poster(self, job: Job, title: str, caption: str) -> None:
        poster = self._posters.get(job.video)
        if poster is not None:
            self.preview.show_still(poster, title, caption)
            return
        self.preview.show_empty("Loading…")
        self.preview.title.setText(title)
        self.tasks.start(
            CallWorker(thumbnail, job.video, POSTER_HEIGHT),
            on_finished=lambda frame: self._poster_ready(job, frame, caption),
            on_errored=lambda exc: self.preview.show_empty(str(exc)),
        )

    def _poster_ready(self, job: Job, frame: np.ndarray | None, caption: str) -> None:
        if frame is None:
            return
        self._posters[job.video] = frame
        current = self.current_job()
        if current is not None and current.id == job.id and current.state != "running":
            self.preview.show_still(frame, f"{job.video.name} + {job.audio.name}", caption)

    def preview_one_frame(self, index: int) -> None:
        """Render output frame `index` of the selected job alone, with the current settings."""
        job = self.current_job()
        if job is None:
            self.statusBar().showMessage("Select a job to preview one of its frames", 5000)
            return
        settings = self.settings.render_settings(job.video, job.audio, job.output)
        self.preview.set_one_frame_enabled(True, busy=True)
        title = f"{job.video.name} + {job.audio.name} — one frame, current settings"
        self.tasks.start(
            CallWorker(render_one_frame, settings, index),
            on_finished=lambda pair: self._one_frame_ready(pair, title),
            on_errored=self._one_frame_failed,
        )

    def _one_frame_ready(self, pair: FramePair, title: str) -> None:
        self.preview.set_one_frame_enabled(True)
        caption = f"frame {pair.index}" + ("" if pair.face_found else " · no face found")
        self.preview.show_pair(pair.before, pair.after, title, caption)

    def _one_frame_failed(self, exc: BaseException) -> None:
        self.preview.set_one_frame_enabled(True)
        QMessageBox.warning(self, "Preview failed", str(exc))

    def _compare_frame(self, seconds: float) -> None:
        job = self.current_job()
        if job is None or job.state != "done":
            return
        loop = str(job.settings.get("loop", "pingpong"))
        self.tasks.start(
            CallWorker(frame_pair_at, job.video, job.output, seconds, loop),
            on_finished=lambda pair: self.preview.show_pair(
                pair.before,
                pair.after,
                job.output.name,
                f"frame {pair.index}",
                show_before=True,
                from_player=True,
            ),
            on_errored=lambda exc: self.statusBar().showMessage(str(exc), 6000),
        )

    def _scrub(self, seconds: float) -> None:
        job = self.current_job()
        if job is None:
            return
        self.tasks.start(
            CallWorker(decode_frame_at, job.output, seconds),
            on_finished=lambda found: self.preview.show_scrub_frame(*found),
        )

    def _context_menu(self, pos: object) -> None:
        menu = QMenu(self)
        for action in (
            self.act_start,
            self.act_cancel,
            self.act_retry,
            self.act_remove,
            None,
            self.act_open_folder,
        ):
            menu.addSeparator() if action is None else menu.addAction(action)
        job = self.current_job()
        if job is not None:
            show_log = menu.addAction(f"Show job {job.id} in the log")
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

    # -- the scheduler's signals -------------------------------------------------------------

    def _on_job_event(self, job_id: int, state: str) -> None:
        job = self.model.refresh_job(job_id)
        if state != "running":
            self._latest.pop(job_id, None)
        if state in ("queued", "running") and not self._summary_timer.isActive():
            self._summary_timer.start()
        current = self.current_job()
        if current is not None and current.id == job_id:
            self._show_selected()
        elif current is None and state != "running" and self.preview.live_job == job_id:
            self._show_selected()
        if (
            state == "failed"
            and job is not None
            and job.error
            and "is not installed" in job.error
            and job.model not in ("auto", "draft")
        ):
            self.offer_model_download(job.model)
        if (
            self._rebuild_when_idle
            and self.scheduler is not None
            and not self.scheduler.running_jobs()
        ):
            self._rebuild_scheduler()
        if self.log_dock.isVisible():
            self.log_panel.schedule_refresh()
        self._update_actions()
        self.update_summary()

    def _on_progress(self, job_id: int, progress: FrameProgress) -> None:
        self.model.set_progress(job_id, progress)
        self.preview.set_live_caption(job_id, self._live_caption(job_id))

    def _on_preview(self, job_id: int, frame: np.ndarray) -> None:
        self._latest[job_id] = frame
        current = self.current_job()
        if current is not None and current.id == job_id:
            self._show_live(job_id)
        elif current is None and self.preview.live_job in (None, job_id):
            self._show_live(job_id)

    def _on_jobs_added(self, ids: list[int]) -> None:
        self.model.add_jobs(ids)
        jobs = [job for job_id in ids if (job := self.model.job(job_id)) is not None]
        self._request_thumbnails([job.video for job in jobs])
        if ids and self.current_job() is None:
            self.select_job(ids[0])
        model = self.settings.model
        if ids and model not in ("auto", "draft"):
            from app.engine.models import registry as models

            self.tasks.start(
                CallWorker(models.status, model),
                on_finished=lambda status: (
                    status != "installed" and self.offer_model_download(model)
                ),
                on_errored=lambda exc: self.statusBar().showMessage(str(exc)),
            )
        if not self._paused:
            self._summary_timer.start()
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
        has_queue = self.scheduler is not None
        self.act_start.setEnabled(has_queue and self._paused or self.scheduler is None)
        self.act_pause.setEnabled(has_queue and not self._paused)
        self.act_cancel.setEnabled(bool(states & {"queued", "running"}))
        self.act_remove.setEnabled(bool(states - {"running"}))
        self.act_retry.setEnabled(bool(states & set(FINISHED_STATES)))
        self.act_open_folder.setEnabled(True)
        if self.log_dock.isVisible():
            self.log_panel.set_jobs(self.model.ids())

    def update_summary(self) -> None:
        summary = self.model.batch_summary(self._batch_since)
        percent = int(summary.fraction * 100)
        self.overall.setValue(int(summary.fraction * 1000))
        if summary.total == 0:
            text = "No jobs: drop videos and audio to start"
        else:
            parts = [f"{summary.done} of {summary.total} done"]
            if summary.failed:
                parts.append(f"{summary.failed} failed/cancelled")
            if summary.running:
                parts.append(f"{summary.running} rendering at {summary.fps:.1f} fps")
            eta, whole_batch = self._batch_eta()
            if summary.running and eta is not None:
                parts.append(
                    f"about {format_duration(eta)} left"
                    if whole_batch
                    else f"this job {format_duration(eta)} left"
                )
            if self._paused and summary.active:
                parts.append("paused" if summary.running else "press Start")
            text = " · ".join(parts)
        self.summary_label.setText(text)
        if summary.active and summary.total:
            self.setWindowTitle(f"{APP_TITLE} — {percent}%")
        else:
            self.setWindowTitle(APP_TITLE)
            if not summary.running:
                self._summary_timer.stop()
        self.log_panel.job_counts = {
            state: n
            for state in ("queued", "running", "done", "failed", "cancelled")
            if (n := sum(1 for j in self.model.jobs() if j.state == state))
        }

    def _batch_eta(self) -> tuple[float | None, bool]:
        """(seconds left, whether that covers the whole batch): the running jobs' ETAs plus
        the queued jobs at the average time a finished job of this batch took. Before any
        job has finished, queued jobs are of unknown length: the running jobs' ETA only."""
        running_left = []
        took = []
        queued = 0
        for job in self.model.jobs():
            if job.state == "running":
                live = self.model.live(job.id)
                if live is not None and live.fps > 0:
                    running_left.append(live.eta_s)
            elif job.state == "queued":
                queued += 1
            elif (
                job.state == "done"
                and job.started
                and job.finished
                and job.finished >= self._batch_since
            ):
                took.append(job.finished - job.started)
        if not running_left:
            return None, False
        if queued and not took:
            return max(running_left), False
        slots = max(1, sum(self.settings.slots(self.devices).values()))
        rest = queued * (sum(took) / len(took)) / slots if queued else 0.0
        return max(running_left) + rest, True

    # -- drag and drop -------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if _local_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if _local_paths(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        items = _local_paths(event)
        if not items:
            event.ignore()
            return
        event.acceptProposedAction()
        self.add_paths(items)

    # -- closing ---------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        running = self.scheduler.running_jobs() if self.scheduler is not None else []
        if running and not self._closed:
            answer = QMessageBox.question(
                self,
                "Quit while rendering?",
                f"{len(running)} job(s) are rendering. Quit anyway?\n\nThey stop now and "
                "start again from the beginning the next time you press Start.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop the queue (running jobs are cancelled and go back to the queue), cancel the
        workers and wait for them. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._summary_timer.stop()
        self.preview.shutdown()
        self._save_state()
        if self.scheduler is not None:
            self.setCursor(Qt.CursorShape.WaitCursor)
            self.scheduler.stop(wait=True, timeout=SHUTDOWN_WAIT_S)
            self.scheduler = None
        if not self.tasks.shutdown(int(SHUTDOWN_WAIT_S * 1000)):
            log.warning("some background tasks did not stop in time")
        if self._owns_queue:
            self._queue_lock.release()
            self._owns_queue = False


def _local_paths(event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> list[Path]:
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
