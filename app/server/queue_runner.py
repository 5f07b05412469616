"""Runs the job queue in the server process, unless the GUI or a `batch` already does.

One process runs the queue at a time (the runner lock in the data folder, as the GUI and
`batch` take it). If another holds it, the server only adds jobs to the store and steers
them there (that process picks them up, and notices a cancel within a second); it tries
the lock again every few seconds, so it takes over when the other one exits.

stop() stops the scheduler: a running job goes back to the queue, keeping its place.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from app.engine import paths
from app.engine.queue.filelock import RUNNER_LOCK, FileLock
from app.engine.queue.jobstore import JobSpec, JobStore
from app.engine.queue.scheduler import Scheduler

log = logging.getLogger(__name__)

TAKE_OVER_EVERY_S = 2.0


def machine_slots() -> dict[str, int]:
    """One job at a time per device this machine offers (as `batch` runs the queue)."""
    from app.engine.models.providers import list_devices

    return {device.device: 1 for device in list_devices()}


class QueueRunner:
    def __init__(
        self,
        store: JobStore,
        make_scheduler: Callable[[JobStore], Scheduler] | None = None,
        take_over_every_s: float = TAKE_OVER_EVERY_S,
    ) -> None:
        self.store = store
        self._make_scheduler = make_scheduler or (lambda s: Scheduler(s, slots=machine_slots()))
        self._lock = FileLock(paths.data_dir() / RUNNER_LOCK)
        self._take_over_every_s = take_over_every_s
        self._guard = threading.Lock()
        self._scheduler: Scheduler | None = None
        self._stop = threading.Event()
        self._waiter: threading.Thread | None = None

    @property
    def runs_queue(self) -> bool:
        return self._scheduler is not None

    def start(self) -> None:
        if self._try_take():
            return
        log.warning(
            "another lipsync-studio (pid %s) runs the queue; jobs are added for it to render",
            self._lock.holder(),
        )
        self._waiter = threading.Thread(
            target=self._wait_for_lock, name="lipsync-server-lock", daemon=True
        )
        self._waiter.start()

    def _try_take(self) -> bool:
        with self._guard:
            if self._stop.is_set() or self._scheduler is not None:
                return self._scheduler is not None
            if not self._lock.acquire():
                return False
            scheduler = self._make_scheduler(self.store)
            scheduler.start()  # puts back jobs a crash left running
            self._scheduler = scheduler
        log.info("the server runs the queue")
        return True

    def _wait_for_lock(self) -> None:
        while not self._stop.wait(self._take_over_every_s):
            if self._try_take():
                return

    def stop(self) -> None:
        """Stop rendering: a running job is put back in the queue. Safe to call twice."""
        self._stop.set()
        if self._waiter is not None:
            self._waiter.join()
        with self._guard:
            scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.stop(wait=True)
            self._lock.release()

    # -- steering: through the scheduler when it runs here, else through the store ------

    def cancel(self, job_id: int) -> bool:
        scheduler = self._scheduler
        return scheduler.cancel(job_id) if scheduler else self.store.cancel(job_id)

    def retry(self, job_id: int) -> bool:
        scheduler = self._scheduler
        if scheduler:
            return scheduler.retry(job_id)
        return self.store.requeue(job_id, reset_attempts=True)

    def set_priority(self, job_id: int, priority: int) -> bool:
        scheduler = self._scheduler
        if scheduler:
            return scheduler.set_priority(job_id, priority)
        return self.store.set_priority(job_id, priority)

    def remove(self, job_id: int) -> bool:
        scheduler = self._scheduler
        return scheduler.remove(job_id) if scheduler else self.store.remove(job_id)

    def submit_many(self, specs: list[JobSpec]) -> list[int]:
        scheduler = self._scheduler
        return scheduler.submit_many(specs) if scheduler else self.store.add_many(specs)
