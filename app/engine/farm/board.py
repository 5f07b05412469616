"""The progress board: a small Ray actor between the driver and the render tasks.

Tasks post coarse progress (every few seconds) and read their cancel flag from it; the
driver reads progress and raises cancel flags. It lives as long as the driver: a driver
that dies takes the board and its tasks with it (Ray's owner rule), so a crashed batch
never leaves renders running that `--resume` would start again.
"""

from __future__ import annotations

from dataclasses import dataclass

import ray


@dataclass(frozen=True)
class TaskProgress:
    done: int
    total: int
    fps: float
    eta_s: float
    pid: int  # the worker process rendering the job (tests end it to simulate a crash)
    node: str
    attempt: int  # how many times a task of this job has started under this driver


@ray.remote(num_cpus=0)
class ProgressBoard:
    def __init__(self) -> None:
        self._progress: dict[int, TaskProgress] = {}
        self._cancelled: set[int] = set()

    def started(self, job_id: int, pid: int, node: str) -> int:
        """A task of `job_id` started (again, after a lost node): its attempt number."""
        previous = self._progress.get(job_id)
        attempt = previous.attempt + 1 if previous else 1
        self._progress[job_id] = TaskProgress(0, 0, 0.0, 0.0, pid, node, attempt)
        return attempt

    def report(self, job_id: int, done: int, total: int, fps: float, eta_s: float) -> bool:
        """Post progress; True when the driver asked this job to stop."""
        old = self._progress.get(job_id)
        if old is not None:
            self._progress[job_id] = TaskProgress(
                done, total, fps, eta_s, old.pid, old.node, old.attempt
            )
        return job_id in self._cancelled

    def ping(self) -> bool:
        """Tasks call it to learn that the driver (the board's owner) is still there."""
        return True

    def progress(self, job_id: int) -> TaskProgress | None:
        return self._progress.get(job_id)

    def cancel(self, job_id: int) -> None:
        self._cancelled.add(job_id)

    def forget(self, job_id: int) -> None:
        self._progress.pop(job_id, None)
        self._cancelled.discard(job_id)
