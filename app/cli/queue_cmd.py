"""`lipsync-studio queue list|cancel ID|retry ID|clear-done`: look at and steer the job
queue that `batch` (or the desktop app) runs.

Changes go to the JobStore; a `batch` process running the queue picks them up: a
retried job within a second, a cancelled running job is stopped within a second and
leaves no output.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from app.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, arg_types

if TYPE_CHECKING:
    from app.engine.queue.jobstore import Job, JobStore

COLUMNS = ("ID", "STATE", "PRIORITY", "PROGRESS", "VIDEO", "AUDIO", "OUTPUT", "ERROR")
PAGE = 1000


def register(subparsers: argparse._SubParsersAction) -> None:
    from app.engine.queue.jobstore import STATES

    queue = subparsers.add_parser("queue", help="list, cancel or retry queued jobs")
    actions = queue.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every job: id, state, priority, progress …")
    listing.add_argument("--state", choices=STATES, help="only jobs in this state")
    listing.set_defaults(handler=run_list)
    cancel = actions.add_parser("cancel", help="cancel queued or running jobs")
    cancel.add_argument("ids", nargs="+", type=arg_types.job_id, metavar="ID")
    cancel.set_defaults(handler=run_cancel)
    retry = actions.add_parser("retry", help="queue finished, failed or cancelled jobs again")
    retry.add_argument("ids", nargs="+", type=arg_types.job_id, metavar="ID")
    retry.set_defaults(handler=run_retry)
    clear = actions.add_parser("clear-done", help="remove the done jobs from the list")
    clear.set_defaults(handler=run_clear_done)


def open_store() -> JobStore:
    """The job queue; if its file was damaged, say that it was set aside."""
    from app.engine.queue.jobstore import JobStore

    store = JobStore()
    if store.set_aside is not None:
        print(
            f"lipsync-studio: warning: {store.path} was damaged; moved it to "
            f"{store.set_aside} and started an empty queue",
            file=sys.stderr,
        )
    return store


def _progress(job: Job) -> str:
    if job.state == "done":
        return f"{job.total}/{job.total}" if job.total else "100%"
    if not job.total:
        return "-"
    return f"{job.done}/{job.total} {job.fraction:.0%}"


def format_table(jobs: Sequence[Job]) -> str:
    rows = [COLUMNS] + [
        (
            str(j.id),
            j.outcome,
            str(j.priority),
            _progress(j),
            j.video.name,
            j.audio.name,
            str(j.output),
            (j.error or j.warning or "").replace("\n", " "),
        )
        for j in jobs
    ]
    widths = [max(len(r[c]) for r in rows) for c in range(len(COLUMNS))]
    return "".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() + "\n" for r in rows
    )


def run_list(args: argparse.Namespace) -> int:
    with open_store() as store:
        jobs: list[Job] = []
        while page := store.page(offset=len(jobs), limit=PAGE, state=args.state):
            jobs += page
    if not jobs:
        print(
            "the queue is empty" if args.state is None else f"no {args.state} jobs", file=sys.stderr
        )
        return EXIT_OK
    sys.stdout.write(format_table(jobs))
    return EXIT_OK


def run_cancel(args: argparse.Namespace) -> int:
    return _for_each_job(args.ids, _cancel)


def run_retry(args: argparse.Namespace) -> int:
    return _for_each_job(args.ids, _retry)


def _cancel(store: JobStore, job: Job) -> int:
    if not store.cancel(job.id):
        print(f"job {job.id}: is {job.state}, nothing to cancel", file=sys.stderr)
        return EXIT_FAILED
    note = "; the batch running it stops it" if job.state == "running" else ""
    print(f"job {job.id}: cancelled{note}", file=sys.stderr)
    return EXIT_OK


def _retry(store: JobStore, job: Job) -> int:
    if not store.requeue(job.id, reset_attempts=True):
        print(f"job {job.id}: is {job.state}, only finished jobs can be retried", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"job {job.id}: queued again (a running batch takes it; else "
        "`lipsync-studio batch --resume`)",
        file=sys.stderr,
    )
    return EXIT_OK


def _for_each_job(ids: Sequence[int], act: Callable[[JobStore, Job], int]) -> int:
    """`act` on each job; the exit status is the worst: an unknown id is bad input."""
    code = EXIT_OK
    with open_store() as store:
        for job_id in ids:
            job = store.get(job_id)
            if job is None:
                print(f"queue: no job {job_id}", file=sys.stderr)
                code = max(code, EXIT_BAD_INPUT)
            else:
                code = max(code, act(store, job))
    return code


def run_clear_done(args: argparse.Namespace) -> int:
    with open_store() as store:
        removed = store.clear_done()
    print(f"removed {removed} done job(s) from the queue", file=sys.stderr)
    return EXIT_OK
