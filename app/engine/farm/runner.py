"""The driver's side: a Scheduler runner that renders each job as a Ray task.

The Scheduler claims jobs, applies the retry policy, watches for stalls and records
results exactly as for local renders; this runner only moves the render to the cluster
and brings progress (coarse), cancels and outcomes back. Ray itself retries a task whose
node or worker process died (`render_job`'s max_retries); the job stays "running" in the
store meanwhile, so no job runs twice at the same time.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import Any

import ray
from ray.exceptions import RayTaskError, TaskCancelledError, WorkerCrashedError

from app.engine import outputs
from app.engine.errors import InputError, RenderCancelled
from app.engine.farm.board import ProgressBoard, TaskProgress
from app.engine.farm.task import render_job
from app.engine.progress import FrameProgress
from app.engine.queue.jobstore import Job, device_family
from app.engine.queue.scheduler import ProgressCallback

log = logging.getLogger(__name__)

POLL_S = 1.0  # how often the driver looks at a task's progress and the cancel flag
CANCEL_GRACE_S = 10.0  # a task that ignores its cancel flag this long is killed


class RayRunner:
    """`Scheduler(store, RayRunner(), slots=cluster.slots())`."""

    def __init__(self, cpus_per_job: int = 2) -> None:
        self.cpus_per_job = cpus_per_job
        self.board = ProgressBoard.remote()  # type: ignore[attr-defined]

    def __call__(
        self, job: Job, on_progress: ProgressCallback, cancel: threading.Event
    ) -> dict[str, Any]:
        settings = job.to_settings()
        settings = dataclasses.replace(settings, model=_concrete_model(settings.model))
        if device_family(settings.device) == "cuda":
            resources: dict[str, Any] = {"num_gpus": 1, "num_cpus": 1}
        else:
            resources = {"num_cpus": self.cpus_per_job}
        ref = render_job.options(**resources).remote(job.id, settings, self.board)
        try:
            return self._follow(job, ref, on_progress, cancel)
        finally:
            self.board.forget.remote(job.id)
            # A worker killed mid-render (Ray then retried it) left its temporary file;
            # its process is gone, so it counts as stray. Live renders' files are kept.
            outputs.remove_temps(job.output)

    def _follow(
        self, job: Job, ref: Any, on_progress: ProgressCallback, cancel: threading.Event
    ) -> dict[str, Any]:
        seen: TaskProgress | None = None
        cancel_sent: float | None = None
        while True:
            ready, _ = ray.wait([ref], timeout=POLL_S)
            progress: TaskProgress | None = ray.get(self.board.progress.remote(job.id))
            if progress is not None and progress != seen:
                seen = progress
                if progress.total:
                    on_progress(
                        FrameProgress(progress.done, progress.total, progress.fps, progress.eta_s)
                    )
            if ready:
                return self._outcome(job, ref)
            if cancel.is_set() and cancel_sent is None:
                cancel_sent = time.monotonic()
                ray.get(self.board.cancel.remote(job.id))
            elif cancel_sent is not None and time.monotonic() - cancel_sent > CANCEL_GRACE_S:
                log.warning(
                    "job %d: the task ignored its cancel for %g s: killing it",
                    job.id,
                    CANCEL_GRACE_S,
                )
                ray.cancel(ref, force=True)
                raise RenderCancelled(f"job {job.id} cancelled")

    def _outcome(self, job: Job, ref: Any) -> dict[str, Any]:
        try:
            outcome: dict[str, Any] = ray.get(ref)
        except RayTaskError as exc:
            cause = exc.cause
            if isinstance(cause, RenderCancelled):
                raise RenderCancelled(str(cause)) from None
            if isinstance(cause, InputError):
                raise InputError(str(cause)) from None
            raise RuntimeError(f"render task failed on the cluster: {cause!r}") from None
        except (TaskCancelledError, WorkerCrashedError) as exc:
            raise RuntimeError(f"render task lost: {type(exc).__name__}") from None
        if outcome["status"] == "input_error":
            raise InputError(outcome["message"])
        return dict(outcome["result"])


def _concrete_model(name: str) -> str:
    """'auto' means the best model installed on the DRIVER: every node then renders the
    same model (or fails the job when it lacks it) instead of each picking its own."""
    if name != "auto":
        return name
    from app.engine.models.lipsync.loader import best_installed

    return best_installed()
