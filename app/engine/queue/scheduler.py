"""The batch queue: per-device slots over the persistent JobStore.

Slots. `slots={"cuda:0": 1, "cpu": 1}` gives one unit per job that may run at once: a
unit runs one job at a time, so a GPU never has two renders fighting for its memory. A
dispatcher thread claims the next job for each idle unit and starts it on the
`executor` (executor.py): a daemon thread per job by default (CLI, API); the desktop app
passes a QThreadPool, so each job runs there as a QRunnable.

Which jobs a slot takes (the "auto" rule). A job's `device` is a constraint:
- "cuda:1" runs only on slot "cuda:1"; "cuda" (no index) on any "cuda:N" slot;
- "auto" runs on any accelerator slot (cuda/dml); it runs on a "cpu" slot only when the
  scheduler has no accelerator slot at all. A CPU render is many times slower than a GPU
  one, and its model threads would starve the decode/encode threads of the GPU job, so
  on a GPU machine the CPU slot is for jobs that asked for "cpu". The runner gets the
  concrete device: `job.to_settings().device` is the slot ("cuda:0"), never "auto".
Jobs no slot may run are left queued (and reported when the scheduler starts).

Order: highest priority first, FIFO within a priority. A retried job goes to the back of
its priority band; a job interrupted by stop() keeps its place.

Failures. An InputError fails the job for good (bad input does not fix itself). Any other
exception and a stall are retried up to `max_retries` times. A stall is a running job
whose runner reports no progress for `stall_timeout` seconds: its cancel Event is set,
it is marked failed ("stalled: no progress for N s"), and the worker gets
`cancel_grace` seconds to return. If the runner ignores the cancel, it is abandoned
(logged; the executor makes room for one more thread) and a fresh unit takes its place in
the slot, so the queue moves on.
The retry is queued when the old runner has let go of the job (returned or abandoned).

Batch reuse. When a job starts, the runner is told whether queued jobs of the same
presenter video follow it (`Job.presenter_follows`); the default runner (RenderRunner)
then keeps the video's decoded frames in memory, within a byte budget, for them
(render/frame_cache.py). The face track is reused through its on-disk cache
(render/track_cache.py) whatever the order.

Hooks for a GUI, plain callables run on the jobs' threads (keep them quick; the Qt
adapter turns them into signals): `on_job_event(job_id, state)` and
`on_progress(job_id, FrameProgress)`. Every start, finish, failure, cancel and
abandoned runner is logged with timings through joblog.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from app.engine import outputs
from app.engine.errors import InputError, ModelNotInstalled, RenderCancelled
from app.engine.progress import FrameProgress
from app.engine.queue.executor import Executor, ThreadExecutor
from app.engine.queue.joblog import log_event
from app.engine.queue.jobstore import (
    PENDING_STATES,
    FailureKind,
    Job,
    JobSpec,
    JobStore,
    device_family,
)
from app.engine.render.coverage import FaceCoverage
from app.engine.render.frame_cache import FrameCache
from app.engine.settings import RenderSettings
from app.engine.throttle import Throttle

log = logging.getLogger(__name__)

ProgressCallback = Callable[[FrameProgress], None]
# runner(job, on_progress, cancel) renders the job; what it returns (a mapping, or a
# dataclass such as RenderResult) becomes the "result" field of the "job_finish" log line.
Runner = Callable[[Job, ProgressCallback, threading.Event], object]
JobEventHook = Callable[[int, str], None]
ProgressHook = Callable[[int, FrameProgress], None]

DEFAULT_STALL_TIMEOUT_S = 300.0  # loading a model on a cold GPU can take a minute or two
DEFAULT_MAX_RETRIES = 2
DEFAULT_POLL_INTERVAL_S = 0.5  # idle workers re-check the store; the watchdog's tick
DEFAULT_CANCEL_GRACE_S = 10.0
DEFAULT_PROGRESS_INTERVAL_S = 0.1  # store writes of progress: ~10 per second per job
CRASH_LIMIT = 3  # attempts after which a job found running at start-up is failed
# A job claimed again may still have its earlier attempt winding down elsewhere (a dead
# render-farm driver's task stops within a second or two): its output waits this long.
EARLIER_ATTEMPT_GRACE_S = 15.0
ACCELERATORS = ("cuda", "dml")


def render_runner(
    job: Job, on_progress: ProgressCallback, cancel: threading.Event
) -> dict[str, Any]:
    """Render the job with the pipeline, nothing kept between jobs (RenderRunner keeps
    a presenter's frames for the jobs that follow)."""
    from app.engine.render import pipeline  # lazy: PyAV/ONNX Runtime load only when a job runs

    result = pipeline.render(job.to_settings(), on_progress=on_progress, cancel=cancel)
    return result_fields(result)


class RenderRunner:
    """The production runner: render the job with the pipeline, and when the scheduler
    says more jobs of the same presenter video follow (`Job.presenter_follows`), keep the
    video's decoded frames in memory for them, `frame_bytes` at most (frame_cache.py).
    A job with none following reads what is kept and drops it when it ends."""

    def __init__(self, frame_bytes: int | None = None) -> None:
        self.frames = FrameCache(frame_bytes)

    def __call__(
        self, job: Job, on_progress: ProgressCallback, cancel: threading.Event
    ) -> dict[str, Any]:
        from app.engine.render import pipeline  # lazy: PyAV/ONNX Runtime load at the 1st job

        settings = job.to_settings()
        frames = self.frames.job(
            settings.video, settings.hw_decode, settings.max_still_side, keep=job.presenter_follows
        )
        try:
            result = pipeline.render(
                settings, on_progress=on_progress, cancel=cancel, frames=frames
            )
        finally:
            if frames is not None:
                frames.close()
        return result_fields(result)


def result_fields(result: object) -> dict[str, Any]:
    """A render result as log fields: its dataclass fields minus arrays and tracks."""
    if not dataclasses.is_dataclass(result) or isinstance(result, type):
        return {}
    return {
        f.name: getattr(result, f.name)
        for f in dataclasses.fields(result)
        if f.repr  # repr=False marks the bulky ones (the face track)
    }


def _coverage_of(result: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """(frames with a face, coverage warning) of a render result's fields; (None, None)
    for a runner that reports no faces."""
    face_frames, frames = result.get("frames_with_face"), result.get("frames")
    if not isinstance(face_frames, int) or not isinstance(frames, int):
        return None, None
    return face_frames, FaceCoverage(face_frames, frames).warning


def accepted_devices(slot: str, all_slots: Iterable[str]) -> tuple[str, ...]:
    """The job `device` values a slot takes (see the module docstring)."""
    family = device_family(slot)
    accept = [slot]
    if family != slot:
        accept.append(family)
    has_accelerator = any(device_family(s) in ACCELERATORS for s in all_slots)
    if family in ACCELERATORS or not has_accelerator:
        accept.append("auto")
    return tuple(accept)


@dataclass(frozen=True)
class _Outcome:
    """How a runner ended: done (with its result), cancelled, or failed (why, and whether
    another attempt may help)."""

    state: Literal["done", "cancelled", "failed"]
    error: str | None = None
    kind: FailureKind = "error"
    retry: bool = False
    result: Mapping[str, Any] = field(default_factory=dict)

    def written(self, job: Job) -> Path:
        """Where the render wrote (a file that appeared at the output path moves it on)."""
        return Path(self.result.get("output", job.output))


@dataclass(eq=False)
class _Worker:
    """One unit of a slot: runs at most one job at a time, each on a thread the executor
    gives it."""

    slot: str
    name: str
    accept: tuple[str, ...]
    run: _RunningJob | None = None  # the job it runs now
    abandoned: bool = False  # the watchdog gave up on its runner; a fresh unit took its place


@dataclass(eq=False)
class _RunningJob:
    """One running job, as the scheduler sees it."""

    job: Job
    worker: _Worker
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)
    last_report: float = field(default_factory=time.monotonic)
    store_writes: Throttle = field(default_factory=lambda: Throttle(0.0))
    stop_reason: str | None = None  # "cancelled" | "stalled" | "shutdown"
    stop_time: float = 0.0
    ended: bool = False  # the runner returned
    settled: bool = False  # a stalled job's retry decision is made
    no_retry: bool = False  # the user cancelled a stalled job: do not retry it


class Scheduler:
    def __init__(
        self,
        store: JobStore,
        runner: Runner | None = None,
        *,
        slots: Mapping[str, int] | None = None,
        stall_timeout: float = DEFAULT_STALL_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        poll_interval: float = DEFAULT_POLL_INTERVAL_S,
        cancel_grace: float = DEFAULT_CANCEL_GRACE_S,
        progress_interval: float = DEFAULT_PROGRESS_INTERVAL_S,
        on_job_event: JobEventHook | None = None,
        on_progress: ProgressHook | None = None,
        executor: Executor | None = None,
    ) -> None:
        slots = dict(slots) if slots is not None else {"cpu": 1}
        if not slots:
            raise ValueError("a scheduler needs at least one slot")
        for slot, n in slots.items():
            if slot == "auto" or device_family(slot) == "auto":
                raise ValueError("a slot is a concrete device ('cpu', 'cuda:0'), not 'auto'")
            if n < 1:
                raise ValueError(f"slot {slot!r}: {n} workers; at least 1")
        if stall_timeout <= 0 or poll_interval <= 0 or cancel_grace < 0 or max_retries < 0:
            raise ValueError("timeouts and intervals must be positive, max_retries >= 0")
        self.store = store
        self.slots = slots
        self._runner: Runner = runner if runner is not None else RenderRunner()
        self.executor: Executor = executor or ThreadExecutor()
        self.stall_timeout = stall_timeout
        self.max_retries = max_retries
        self.poll_interval = poll_interval
        self.cancel_grace = cancel_grace
        self.progress_interval = progress_interval
        self.on_job_event = on_job_event
        self.on_progress = on_progress
        self._accept = {slot: accepted_devices(slot, slots) for slot in slots}
        self._all_accepted = tuple(dict.fromkeys(d for a in self._accept.values() for d in a))
        # One lock for the scheduler's state; store calls happen under it (they are short)
        # so that claim + register, pause and cancel cannot interleave.
        self._cv = threading.Condition(threading.Lock())
        self._active: dict[int, _RunningJob] = {}
        self._workers: list[_Worker] = []
        self._abandoned: list[_Worker] = []
        self._paused = False
        self._started = False
        self._stopping = False
        self._stop_event = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._dispatcher: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        """Recover jobs a crash left running, then start one worker per slot unit."""
        with self._cv:
            if self._started:
                raise RuntimeError("scheduler already started (a stopped one cannot restart)")
            self._started = True
        # A job that was running at each of several crashes may be what crashes the app:
        # fail it then. At least CRASH_LIMIT, so one power cut never fails a job.
        recovered = self.store.recover_after_crash(
            max_attempts=max(self.max_retries + 1, CRASH_LIMIT)
        )
        for job in recovered:
            log_event(
                "job_recovered", logger=log, job_id=job.id, state=job.state, attempts=job.attempts
            )
            self._emit([(job.id, job.state)])
        unservable = self.store.count("queued") - self.store.count(
            "queued", devices=self._all_accepted
        )
        if unservable:
            log.warning(
                "%d queued job(s) ask for a device with no slot here (slots: %s)",
                unservable,
                ", ".join(self.slots),
            )
        with self._cv:
            for slot, n in self.slots.items():
                for i in range(n):
                    self._workers.append(_Worker(slot, f"{slot}#{i}", self._accept[slot]))
        self._dispatcher = threading.Thread(
            target=self._dispatch, name="lipsync-scheduler-dispatch", daemon=True
        )
        self._watchdog = threading.Thread(
            target=self._watch, name="lipsync-scheduler-watchdog", daemon=True
        )
        self._dispatcher.start()
        self._watchdog.start()
        log.info(
            "scheduler started: slots %s, %d job(s) queued", self.slots, self.store.count("queued")
        )

    def stop(self, wait: bool = True, timeout: float | None = None) -> None:
        """Stop taking jobs and cancel the running ones; they go back to the queue.

        wait: wait for the running jobs for up to `timeout` (default: cancel_grace)
        seconds; a runner that is still running then is abandoned and its job released.
        Close the store only after stop(wait=True).
        """
        with self._cv:
            if not self._started or self._stopping:
                return
            self._stopping = True
            now = time.monotonic()
            for run in self._active.values():
                if run.stop_reason is None:
                    run.stop_reason, run.stop_time = "shutdown", now
                run.cancel.set()
            self._cv.notify_all()
        self._stop_event.set()
        if not wait:
            return
        deadline = time.monotonic() + (self.cancel_grace if timeout is None else timeout)
        for thread in (self._dispatcher, self._watchdog):
            if thread is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        events: list[tuple[int, str]] = []
        with self._cv:
            while self._active and (left := deadline - time.monotonic()) > 0:
                self._cv.wait(left)
            for run in list(self._active.values()):
                events += self._abandon(run, replace=False)
        self._emit(events)
        self.executor.close()
        log.info("scheduler stopped")

    @property
    def abandoned_workers(self) -> int:
        """How many worker threads were given up on because their runner would not return."""
        with self._cv:
            return len(self._abandoned)

    # -- queue control ----------------------------------------------------------------

    def submit(self, spec: JobSpec | RenderSettings) -> int:
        return self.submit_many([spec])[0]

    def submit_many(self, specs: Iterable[JobSpec | RenderSettings]) -> list[int]:
        """Add jobs to the store and wake the idle workers (adding to the store directly
        works too; the workers then find the jobs within poll_interval)."""
        ids = self.store.add_many(specs)
        self.wake()
        return ids

    def wake(self) -> None:
        with self._cv:
            self._cv.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        """Start nothing new; running jobs finish."""
        with self._cv:
            self._paused = True
        log_event("queue_paused", logger=log)

    def resume(self) -> None:
        with self._cv:
            self._paused = False
            self._cv.notify_all()
        log_event("queue_resumed", logger=log)

    def set_priority(self, job_id: int, priority: int) -> bool:
        changed = self.store.set_priority(job_id, priority)
        self.wake()
        return changed

    def retry(self, job_id: int) -> bool:
        """Queue a done/failed/cancelled job again, with a fresh retry budget."""
        ok = self.store.requeue(job_id, reset_attempts=True)
        if ok:
            self._emit([(job_id, "queued")])
            self.wake()
        return ok

    def cancel(self, job_id: int) -> bool:
        """queued -> cancelled; running -> its cancel Event is set and it is cancelled
        (its runner's partial output is removed when it returns). False if neither."""
        with self._cv:
            run = self._active.get(job_id)
            if run is not None and run.stop_reason is not None:
                run.no_retry = True  # stalled/stopping already; at least do not retry it
                return False
            if run is not None:
                run.stop_reason, run.stop_time = "cancelled", time.monotonic()
                run.cancel.set()
            ok = self.store.cancel(job_id)
            self._cv.notify_all()
        if ok:
            log_event("job_cancel", logger=log, job_id=job_id, was_running=run is not None)
            self._emit([(job_id, "cancelled")])
        return ok

    def cancel_all(self) -> int:
        """Cancel every queued and running job; returns how many."""
        with self._cv:  # one critical section: no worker claims a job halfway through
            now = time.monotonic()
            running = []
            for job_id, run in self._active.items():
                if run.stop_reason is None:
                    run.stop_reason, run.stop_time = "cancelled", now
                    run.cancel.set()
                    if self.store.cancel(job_id):
                        running.append(job_id)
            queued = self.store.cancel_queued()
            self._cv.notify_all()
        log_event("queue_cancelled", logger=log, running=len(running), queued=len(queued))
        self._emit([(job_id, "cancelled") for job_id in running + queued])
        return len(running) + len(queued)

    def remove(self, job_id: int) -> bool:
        """Delete a job that is not running."""
        with self._cv:
            return job_id not in self._active and self.store.remove(job_id)

    def running_jobs(self) -> list[int]:
        with self._cv:
            return list(self._active)

    def run_until_idle(self, timeout: float | None = None) -> bool:
        """Block until no job runs and none that a slot here may run is queued.

        Returns False on timeout (a paused queue never gets idle), or at once once
        stop() was called with jobs left.
        """
        if not self._started:
            raise RuntimeError("start() the scheduler first")
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cv:
            while True:
                if not self._active and not self.store.count("queued", devices=self._all_accepted):
                    return True
                if self._stopping:
                    return False
                wait = self.poll_interval
                if deadline is not None:
                    wait = min(wait, deadline - time.monotonic())
                    if wait <= 0:
                        return False
                self._cv.wait(wait)

    # -- workers ----------------------------------------------------------------------

    def _dispatch(self) -> None:
        """Claim a job for each idle slot unit and start it on the executor."""
        with self._cv:
            while not self._stopping:
                if not self._paused and self._start_jobs():
                    continue  # a slot may have more to take, or another slot
                # Holding the lock since the claims: a submit()'s notify cannot be missed.
                self._cv.wait(self.poll_interval)

    def _start_jobs(self) -> bool:
        """One claim per idle unit (lock held); True if any job started."""
        started = False
        for worker in self._workers:
            if worker.run is not None:
                continue
            try:
                job = self.store.claim_next(worker.slot, accept=worker.accept)
            except Exception:  # a locked or broken database: log, keep the slot alive
                log.exception("worker %s: claiming a job failed", worker.name)
                continue
            if job is None:
                continue
            run = worker.run = _RunningJob(
                job, worker, store_writes=Throttle(self.progress_interval)
            )
            self._active[job.id] = run
            self.executor.start(
                functools.partial(self._run_job, run), f"lipsync-job-{job.id}-{worker.name}"
            )
            started = True
        return started

    def _run_job(self, run: _RunningJob) -> None:
        """A job on the executor's thread: render, settle, free the slot unit."""
        try:
            self._execute(run)
        except Exception:  # e.g. the store closed under us: keep the slot alive
            log.exception("worker %s: job %d could not be settled", run.worker.name, run.job.id)
            with self._cv:
                if self._active.get(run.job.id) is run:
                    del self._active[run.job.id]
        with self._cv:
            run.ended = True
            if run.worker.run is run:
                run.worker.run = None
            self._cv.notify_all()

    def _execute(self, run: _RunningJob) -> None:
        job = run.job = self._claim_output(run.job)
        self._emit([(job.id, "running")])
        log_event(
            "job_start",
            logger=log,
            job_id=job.id,
            slot=run.worker.slot,
            attempt=job.attempts,
            priority=job.priority,
            video=str(job.video),
            audio=str(job.audio),
            output=str(job.output),
            model=job.model,
            device=job.device,
        )
        self._complete(run, self._run_runner(run))

    def _run_runner(self, run: _RunningJob) -> _Outcome:
        """The runner's return or exception, as an outcome (on the job's thread)."""
        job = run.job
        try:
            follows = self.store.queued_with_video(job.video) > 0
        except Exception:  # only a hint: a locked store must not fail the job
            log.warning("job %d: could not look for jobs of the same video", job.id)
            follows = False
        job = dataclasses.replace(job, presenter_follows=follows)
        try:
            returned = self._runner(job, lambda p: self._report(run, p), run.cancel)
        except RenderCancelled:
            return _Outcome("cancelled")
        except ModelNotInstalled as exc:
            return _Outcome("failed", str(exc), "model_missing")
        except InputError as exc:  # bad input does not fix itself: no retry
            return _Outcome("failed", str(exc), "bad_input")
        except Exception as exc:
            log.error(
                "job %d: runner raised",
                job.id,
                exc_info=True,
                extra={"job_id": job.id, "event": "runner_error"},
            )
            return _Outcome("failed", f"{type(exc).__name__}: {exc}", "error", retry=True)
        result = returned if isinstance(returned, Mapping) else result_fields(returned)
        return _Outcome("done", result=result)

    def _claim_output(self, job: Job) -> Job:
        """A file that took the job's output name since it was queued (a retried done job,
        a copy) is kept: the job moves to the next free NAME_N.mp4, as at queue time."""
        if job.attempts > 1:
            outputs.wait_for_writers(job.output, EARLIER_ATTEMPT_GRACE_S)
        outputs.remove_temps(job.output)  # a dead attempt's leftovers take no name
        if job.to_settings().if_exists != "rename":
            return job
        taken = [Path(o) for state in PENDING_STATES for o in self.store.outputs(state)]
        if job.output in taken:  # its own entry (unless cancelled since the claim)
            taken.remove(job.output)
        free = outputs.next_free(job.output, taken=taken)
        if free == job.output or not self.store.set_output(job.id, free):
            return job
        log.info("job %d: %s is taken; rendering to %s", job.id, job.output, free)
        return self.store.get(job.id) or job

    def _report(self, run: _RunningJob, progress: FrameProgress) -> None:
        """The runner's progress callback, on the runner's thread."""
        if run.stop_reason is not None or run.worker.abandoned:
            return  # late frames of a cancelled or stalled run
        run.last_report = time.monotonic()  # any report is a sign of life for the watchdog
        last_frame = progress.total > 0 and progress.done >= progress.total
        if run.store_writes.ready(force=last_frame):
            if not self.store.update_progress(
                run.job.id, progress.done, progress.total, progress.fps
            ):
                self._cancelled_in_store(run)
        if self.on_progress is not None:
            try:
                self.on_progress(run.job.id, progress)
            except Exception:
                log.exception("on_progress hook raised")

    def _cancelled_in_store(self, run: _RunningJob) -> None:
        """The store no longer has the job running: another process cancelled it there
        (`lipsync-studio queue cancel`). Stop the runner as cancel() would."""
        with self._cv:
            if run.stop_reason is not None:
                return
            run.stop_reason, run.stop_time = "cancelled", time.monotonic()
            run.cancel.set()
        log_event("job_cancel", logger=log, job_id=run.job.id, was_running=True, elsewhere=True)
        self._emit([(run.job.id, "cancelled")])

    def _complete(self, run: _RunningJob, outcome: _Outcome) -> None:
        """Settle a job whose runner returned: store, output files, log, events."""
        job = run.job
        with self._cv:
            run.ended = True
            elapsed = round(time.monotonic() - run.started, 3)
            if run.worker.abandoned:
                # The watchdog settled this job when it gave up on the thread.
                log_event(
                    "abandoned_runner_returned",
                    level=logging.WARNING,
                    logger=log,
                    job_id=job.id,
                    slot=run.worker.slot,
                    elapsed_s=elapsed,
                    outcome=outcome.state,
                )
                return
            self._active.pop(job.id, None)
            fields: dict[str, Any] = {
                "job_id": job.id,
                "slot": run.worker.slot,
                "attempt": job.attempts,
                "elapsed_s": elapsed,
            }
            if run.stop_reason is not None and not (
                run.stop_reason == "shutdown" and outcome.state == "done"
            ):
                events = self._settle_stopped(run, outcome, fields)
            elif outcome.state == "done":
                events = self._settle_done(job, outcome, fields)
            elif outcome.state == "cancelled":  # the runner cancelled itself
                _remove_outputs(job, None)
                events = [(job.id, "cancelled")] if self.store.cancel(job.id) else []
                log_event("job_cancelled", logger=log, **fields)
            else:
                events = self._settle_failed(job, outcome, fields)
            self._cv.notify_all()
        self._emit(events)

    def _settle_stopped(
        self, run: _RunningJob, outcome: _Outcome, fields: dict[str, Any]
    ) -> list[tuple[int, str]]:
        """A job the scheduler stopped (stalled, cancelled, shut down); lock held."""
        job = run.job
        # A runner that finished anyway wrote the output: a stopped job has none.
        _remove_outputs(job, outcome.written(job) if outcome.state == "done" else None)
        if run.stop_reason == "stalled":
            # Failed by the watchdog already; the runner let go, so a retry is safe now.
            return self._settle_stalled(run)
        if run.stop_reason == "cancelled":
            log_event("job_cancelled", logger=log, **fields)
            return []
        log_event("job_interrupted", logger=log, **fields)  # shutdown: back in the queue
        return [(job.id, "queued")] if self.store.release(job.id) else []

    def _settle_done(
        self, job: Job, outcome: _Outcome, fields: dict[str, Any]
    ) -> list[tuple[int, str]]:
        written = outcome.written(job)
        model_used = outcome.result.get("model")
        if not self.store.finish(
            job.id,
            *_coverage_of(outcome.result),
            model_used=model_used if isinstance(model_used, str) else None,
        ):
            # Cancelled in the store after its last progress report: no output.
            _remove_outputs(job, written)
            log_event("job_cancelled", logger=log, **fields)
            return [(job.id, "cancelled")]
        if written != job.output:  # a file appeared there while rendering
            self.store.set_output(job.id, written)
        log_event("job_finish", logger=log, **fields, result=dict(outcome.result))
        return [(job.id, "done")]

    def _settle_failed(
        self, job: Job, outcome: _Outcome, fields: dict[str, Any]
    ) -> list[tuple[int, str]]:
        _remove_outputs(job, None)
        events = []
        if self.store.fail(job.id, outcome.error or "failed", outcome.kind):
            events.append((job.id, "failed"))
        will_retry = outcome.retry and job.attempts <= self.max_retries
        log_event(
            "job_failed",
            level=logging.WARNING if will_retry else logging.ERROR,  # failed for good
            logger=log,
            **fields,
            error=outcome.error,
            retry=will_retry,
        )
        if will_retry and self.store.requeue(job.id):
            events.append((job.id, "queued"))
        return events

    # -- watchdog ---------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stop_event.wait(self.poll_interval):
            try:
                self._check_runs()
            except Exception:  # the watchdog must outlive a bad tick
                log.exception("watchdog tick failed")

    def _check_runs(self) -> None:
        events: list[tuple[int, str]] = []
        with self._cv:
            now = time.monotonic()
            for run in list(self._active.values()):
                if run.stop_reason is None and now - run.last_report > self.stall_timeout:
                    run.stop_reason, run.stop_time = "stalled", now
                    run.cancel.set()
                    error = f"stalled: no progress for {self.stall_timeout:g} s"
                    if self.store.fail(run.job.id, error, "stalled"):
                        events.append((run.job.id, "failed"))
                    log_event(
                        "job_failed",
                        level=logging.WARNING,
                        logger=log,
                        job_id=run.job.id,
                        slot=run.worker.slot,
                        attempt=run.job.attempts,
                        elapsed_s=round(now - run.started, 3),
                        error=error,
                        stalled=True,
                    )
                elif (
                    run.stop_reason is not None
                    and not run.ended
                    and now - run.stop_time > self.cancel_grace
                ):
                    events += self._abandon(run, replace=not self._stopping)
            self._cv.notify_all()
        self._emit(events)

    def _abandon(self, run: _RunningJob, replace: bool) -> list[tuple[int, str]]:
        """Give up on a runner that ignores its cancel Event (lock held)."""
        worker = run.worker
        worker.abandoned = True
        self._abandoned.append(worker)
        self._active.pop(run.job.id, None)
        if worker in self._workers:
            self._workers.remove(worker)
        self.executor.abandoned()
        log_event(
            "runner_abandoned",
            level=logging.WARNING,
            logger=log,
            job_id=run.job.id,
            slot=worker.slot,
            reason=run.stop_reason,
            waited_s=round(time.monotonic() - run.stop_time, 3),
            message=f"job {run.job.id}: runner on {worker.name} ignored its cancel; thread "
            f"abandoned" + ("; the slot gets a fresh worker" if replace else ""),
        )
        events: list[tuple[int, str]] = []
        if run.stop_reason == "stalled":
            events += self._settle_stalled(run)
        elif run.stop_reason == "shutdown" and self.store.release(run.job.id):
            events.append((run.job.id, "queued"))
        if replace:
            self._workers.append(_Worker(worker.slot, worker.name, worker.accept))
        return events

    def _settle_stalled(self, run: _RunningJob) -> list[tuple[int, str]]:
        """Retry a stalled job if its budget allows; once per run (lock held)."""
        if run.settled:
            return []
        run.settled = True
        if not run.no_retry and run.job.attempts <= self.max_retries:
            if self.store.requeue(run.job.id):
                log_event(
                    "job_retry",
                    logger=log,
                    job_id=run.job.id,
                    attempt=run.job.attempts,
                    reason="stalled",
                )
                return [(run.job.id, "queued")]
        return []

    def _emit(self, events: list[tuple[int, str]]) -> None:
        """Call on_job_event outside the lock: a hook may call back into the scheduler."""
        if self.on_job_event is None:
            return
        for job_id, state in events:
            try:
                self.on_job_event(job_id, state)
            except Exception:
                log.exception("on_job_event hook raised")


def _remove_outputs(job: Job, written: Path | None) -> None:
    """A job that did not finish leaves no temporary file, and no output: `written` is
    the file a runner that finished anyway wrote."""
    outputs.remove_temps(job.output, own=True)
    if written is not None:
        try:
            written.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("job %d: cannot delete %s: %s", job.id, written, exc)
