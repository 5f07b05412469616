"""The queue as the window sees it: one object between the window and the Scheduler.

It owns the Scheduler (the engine's batch queue), the cross-process lock that says which
process runs the queue, and the SchedulerBridge whose signals reach the GUI thread
queued. The window asks it to start, hold, cancel, retry, remove and submit; it never
touches the scheduler or the store's states itself.

A window that finds the queue taken by another process still gets a Scheduler, never
started: its submit/cancel/retry/remove are plain store calls with the same events, so
the window has one path for every action.

Starting is explicit (issue 13, item 7): jobs render after Start; when the batch runs
dry the queue stops again unless "Start new jobs automatically" is on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThreadPool, Signal

from app.engine import paths
from app.engine.progress import FrameProgress
from app.engine.queue.filelock import RUNNER_LOCK, FileLock
from app.engine.queue.jobstore import FINISHED_STATES, Job, JobSpec, JobStore
from app.engine.queue.scheduler import RenderRunner, Runner, Scheduler
from app.engine.workers import PoolExecutor, SchedulerBridge
from app.ui.app_settings import AppSettings
from app.ui.farm_link import RAY, FarmLink, describe_local

log = logging.getLogger(__name__)
translate = QCoreApplication.translate

SHUTDOWN_WAIT_S = 15.0


class QueueController(QObject):
    state_changed = Signal()  # running / held / auto-start changed
    message = Signal(str)  # a line for the status bar
    target_changed = Signal(str)  # where jobs render, in words (this computer / a cluster)

    def __init__(
        self,
        store: JobStore,
        settings: Callable[[], AppSettings],
        devices: list[str],
        runner: Runner | None = None,
        parent: QObject | None = None,
        pool: QThreadPool | None = None,
    ) -> None:
        super().__init__(parent)
        self.pool = pool  # jobs run here as QRunnables (None: a thread per job)
        self.store = store
        self._settings = settings
        self.devices = devices
        self._runner = runner or RenderRunner()
        self.bridge = SchedulerBridge(parent=self)
        self.bridge.job_event.connect(self._on_job_event)
        self._lock = FileLock(paths.data_dir() / RUNNER_LOCK)
        self._owns_queue = False
        self._running = False  # Start pressed and the batch not run dry since
        self.auto_start = False
        self._rebuild_when_idle = False
        self._closed = False
        self.farm: FarmLink | None = None  # set while Settings say "Render on: Ray cluster"
        self._active_runner: Runner = self._runner
        self.scheduler = self._make_scheduler()

    # -- what the window reads ------------------------------------------------------------

    @property
    def owns_queue(self) -> bool:
        return self._owns_queue

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def running(self) -> bool:
        """Start was pressed and the queue takes jobs (False: held)."""
        return self._running and self._owns_queue

    def running_jobs(self) -> list[int]:
        return self.scheduler.running_jobs()

    def slots(self) -> int:
        if self.farm is not None and self.farm.slots:
            return max(1, sum(self.farm.slots.values()))
        return max(1, sum(self._settings().slots(self.devices).values()))

    def target_text(self) -> str:
        """Where jobs render, for the status bar."""
        return self.farm.describe() if self.farm is not None else describe_local()

    def target_problem(self) -> str:
        """Why the chosen render target cannot take jobs, in full ("" when it can)."""
        return self.farm.problem if self.farm is not None else ""

    # -- building -------------------------------------------------------------------------

    def _make_scheduler(self) -> Scheduler:
        settings = self._settings()
        slots = self._target_slots(settings) or settings.slots(self.devices)
        scheduler = Scheduler(
            self.store,
            self._run,
            slots=slots,
            stall_timeout=settings.stall_timeout_s,
            on_job_event=self.bridge.on_job_event,
            on_progress=self.bridge.on_progress,
            executor=PoolExecutor(self.pool, sum(slots.values())) if self.pool else None,
        )
        if not self._owns_queue:
            self._owns_queue = self._lock.acquire()
        if not self._owns_queue:
            self.message.emit(
                translate(
                    "QueueController",
                    "Another Lipsync Studio (pid {pid}) is running the queue; this window "
                    "shows the jobs but does not render them",
                ).format(pid=self._lock.holder())
            )
            return scheduler  # never started: its calls are store calls
        if slots is None:
            return scheduler  # the cluster is not joined (yet): a store-only scheduler
        if not self._running:
            scheduler.pause()
        scheduler.start()  # puts back jobs a crash left running
        return scheduler

    def _target_slots(self, settings: AppSettings) -> dict[str, int] | None:
        """The slots of where jobs render: {} for this computer (the devices' slots), the
        cluster's once joined, None while it is being joined or cannot be."""
        if settings.render_on != RAY:
            self.farm = None
            self._active_runner = self._runner
            self.target_changed.emit(self.target_text())
            return {}
        if self.farm is None or self.farm.address != settings.ray_address:
            self.farm = FarmLink(settings.ray_address, parent=self)
            self.farm.ready.connect(self._on_farm_ready)
            self.farm.failed.connect(self._on_farm_failed)
            self.farm.connect_cluster()
        self.target_changed.emit(self.target_text())
        if self.farm.slots is None:
            return None
        self._active_runner = self.farm.runner()
        return dict(self.farm.slots)

    def _on_farm_ready(self, _slots: object) -> None:
        self.target_changed.emit(self.target_text())
        if not self._closed:
            self._rebuild()  # now with the cluster's slots and the Ray runner

    def _on_farm_failed(self, error: str) -> None:
        self.target_changed.emit(self.target_text())
        log.warning("cannot render on the Ray cluster: %s", error)
        self.message.emit(  # short: the status bar's "Render on" label has the why
            translate(
                "QueueController", "Cannot render on the Ray cluster; the jobs wait in the queue"
            )
        )

    def _run(self, job: Job, on_progress: Callable[[FrameProgress], None], cancel: Any) -> Any:
        """The scheduler's runner: local or Ray, whichever the settings chose last."""
        return self._active_runner(job, on_progress, cancel)

    def apply_settings(self, old: AppSettings, new: AppSettings) -> None:
        """New slots or stall timeout need a new Scheduler: now if idle, else when idle."""
        if (
            old.slots(self.devices) == new.slots(self.devices)
            and old.stall_timeout_s == new.stall_timeout_s
            and (old.render_on, old.ray_address) == (new.render_on, new.ray_address)
        ):
            return
        if self.scheduler.running_jobs():
            self._rebuild_when_idle = True
            self.message.emit(
                translate(
                    "QueueController",
                    "The queue takes the new device settings when the running jobs end",
                )
            )
            return
        self._rebuild()

    def _rebuild(self) -> None:
        self._rebuild_when_idle = False
        self.scheduler.stop(wait=True)
        self.scheduler = self._make_scheduler()

    # -- actions --------------------------------------------------------------------------

    def start(self) -> bool:
        """Run the queue; False when another process runs it."""
        if not self._owns_queue:
            self._rebuild()  # the other process may have quit since
            if not self._owns_queue:
                return False
        self._running = True
        self.scheduler.resume()
        self.state_changed.emit()
        return True

    def hold(self) -> None:
        """Start no new job; the running ones finish."""
        self._running = False
        self.scheduler.pause()
        self.state_changed.emit()

    def set_auto_start(self, on: bool) -> None:
        self.auto_start = on
        if on and self._owns_queue and not self._running and self._has_queued():
            self.start()
        self.state_changed.emit()

    def submit(self, specs: list[JobSpec]) -> list[int]:
        ids = self.scheduler.submit_many(specs)
        if self.auto_start and not self._running:
            self.start()
        return ids

    def cancel(self, job_id: int) -> bool:
        return self.scheduler.cancel(job_id)

    def retry(self, job: Job) -> bool:
        return job.state in FINISHED_STATES and self.scheduler.retry(job.id)

    def remove(self, job_id: int) -> bool:
        return self.scheduler.remove(job_id)

    def wake(self) -> None:
        self.scheduler.wake()

    def clear_finished(self) -> int:
        removed = self.store.clear_done()
        for state in ("failed", "cancelled"):
            while page := self.store.page(limit=1000, order="created", state=state):  # type: ignore[arg-type]
                removed += sum(self.scheduler.remove(job.id) for job in page)
        return removed

    def remove_many(self, job_ids: Iterable[int]) -> int:
        return sum(self.scheduler.remove(job_id) for job_id in job_ids)

    # -- events ---------------------------------------------------------------------------

    def _has_queued(self) -> bool:
        return self.store.count("queued") > 0

    def _on_job_event(self, _job_id: int, state: str) -> None:
        if state == "running":
            return
        idle = not self.scheduler.running_jobs()
        if idle and self._rebuild_when_idle:
            self._rebuild()
        if self._running and idle and not self.auto_start and not self._has_queued():
            # The batch ran dry: what is added next waits for Start (item 7).
            self._running = False
            self.scheduler.pause()
            self.state_changed.emit()

    def shutdown(self) -> None:
        """Stop the queue (running jobs go back to the queue) and let go of the lock."""
        if self._closed:
            return
        self._closed = True
        self.scheduler.stop(wait=True, timeout=SHUTDOWN_WAIT_S)
        if self._owns_queue:
            self._lock.release()
            self._owns_queue = False
