"""How long the batch has left: plain arithmetic over the listed jobs, no Qt."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from app.engine.queue.jobstore import Job


def batch_eta(
    jobs: Iterable[Job],
    running_eta: Callable[[int], float | None],
    since: float,
    slots: int,
) -> tuple[float | None, bool]:
    """(seconds left, whether that covers the whole batch).

    The running jobs' ETAs (`running_eta(job_id)`, None while unknown) plus the queued
    jobs at the average time a job finished since `since` took, spread over `slots`.
    Before any job of the batch has finished, queued jobs are of unknown length: the
    running jobs' ETA only, and the flag says so.
    """
    running_left: list[float] = []
    took: list[float] = []
    queued = 0
    for job in jobs:
        if job.state == "running":
            eta = running_eta(job.id)
            if eta is not None:
                running_left.append(eta)
        elif job.state == "queued":
            queued += 1
        elif job.state == "done" and job.started and job.finished and job.finished >= since:
            took.append(job.finished - job.started)
    if not running_left:
        return None, False
    if queued and not took:
        return max(running_left), False
    rest = queued * (sum(took) / len(took)) / max(1, slots) if queued else 0.0
    return max(running_left) + rest, True
