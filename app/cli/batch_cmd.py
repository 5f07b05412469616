"""`lipsync-studio batch`: many renders through the persistent job queue.

    lipsync-studio batch --videos 'talks/*.mp4' --audios 'voice/*.wav' --out renders/
    lipsync-studio batch --resume        # finish what a crash or Ctrl-C left

Jobs go into the JobStore (data_dir()/jobs.sqlite3), then the Scheduler runs the queue
until it is idle: these jobs and any others already queued. A crash loses nothing:
the jobs are on disk, finished outputs stay, and `--resume` renders the rest.

Outputs: `--name` is a template with {video}, {audio} (file stems) and {index}; pairing,
naming and queueing are the engine's (app/engine/queue/batch_plan.py, which the window's
drops use too): nothing is overwritten unless --overwrite.

One process runs the queue at a time (data_dir()/queue.lock): a second `batch` only adds
its jobs, which the running one picks up. Without the lock, its crash recovery would
take the other process's running jobs for crashed ones.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeVar

from app.cli import arg_types
from app.cli.render_cmd import add_render_options, settings_from_args
from app.engine.errors import InputError
from app.engine.queue import batch_plan
from app.engine.queue.batch_plan import DEFAULT_NAME
from app.engine.queue.filelock import RUNNER_LOCK, FileLock
from app.engine.throttle import Throttle

if TYPE_CHECKING:
    from app.engine.progress import FrameProgress
    from app.engine.queue.jobstore import JobStore
    from app.engine.queue.scheduler import Runner

T = TypeVar("T")

PAIR_MODES = ("each-video-each-audio", "by-name")
PROGRESS_EVERY_S = 1.0  # a progress line per job at most this often (0.1 s on a terminal)


def register(subparsers: argparse._SubParsersAction) -> None:
    batch = subparsers.add_parser(
        "batch",
        help="render many videos x audios through the job queue",
        description="Queue renders of videos x audios and run the queue until it is idle.",
    )
    batch.add_argument(
        "--videos",
        nargs="+",
        metavar="GLOB",
        help="presenter videos or stills (quote globs: '*.mp4')",
    )
    batch.add_argument("--audios", nargs="+", metavar="GLOB", help="speech audio files")
    batch.add_argument(
        "--pair",
        choices=PAIR_MODES,
        default=PAIR_MODES[0],
        help="every video with every audio (default), or by-name: "
        "alice.mp4 with alice.wav, alice_take2.wav …",
    )
    batch.add_argument("--out", type=arg_types.path, metavar="DIR", help="folder for the outputs")
    batch.add_argument(
        "--name",
        default=DEFAULT_NAME,
        metavar="TEMPLATE",
        help=f"output file name; fields {{video}} {{audio}} {{index}} "
        f"(default: {DEFAULT_NAME.replace('%', '%%')})",
    )
    batch.add_argument(
        "--priority", type=arg_types.priority, default=0, help="higher runs first (default 0)"
    )
    batch.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing files instead of adding _2, _3 … to the name",
    )
    batch.add_argument(
        "--queue-only",
        action="store_true",
        help="add the jobs and exit; `batch --resume` renders them",
    )
    batch.add_argument(
        "--resume",
        action="store_true",
        help="render what is queued, including jobs a crash left half done",
    )
    batch.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="render on this computer (default) or on a Ray cluster (the `farm` extra)",
    )
    batch.add_argument(
        "--ray-address",
        default="auto",
        metavar="auto|HOST:PORT",
        help="with --engine ray: the cluster to join (default auto: the one `ray start` "
        "made on this machine)",
    )
    batch.add_argument(
        "--ray-cpus-per-job",
        type=int,
        default=2,
        metavar="N",
        help="with --engine ray: CPUs a CPU render takes on a node (default 2)",
    )
    add_render_options(batch)
    batch.set_defaults(handler=run_batch)


# -- the command ---------------------------------------------------------------------------


def run_batch(args: argparse.Namespace) -> int:
    from app.cli.queue_cmd import open_store
    from app.engine import paths

    if args.resume:
        given = [
            o
            for o, v in (("--videos", args.videos), ("--audios", args.audios), ("--out", args.out))
            if v
        ]
        if given:
            raise InputError(
                f"--resume takes no {', '.join(given)}: it finishes the jobs already queued"
            )
    elif not (args.videos and args.audios and args.out):
        raise InputError("batch needs --videos, --audios and --out (or --resume)")

    with open_store() as store:
        if not args.resume:
            ids = _enqueue(args, store)
            span = f"id {ids[0]}" if len(ids) == 1 else f"ids {ids[0]}-{ids[-1]}"
            print(f"batch: queued {len(ids)} job(s) ({span})", file=sys.stderr)
            if args.queue_only:
                return 0
        lock = FileLock(paths.data_dir() / RUNNER_LOCK)
        if not lock.acquire():
            print(
                f"batch: another lipsync-studio (pid {lock.holder()}) is running the queue; "
                "it will render these jobs",
                file=sys.stderr,
            )
            return 0
        try:
            return _run_queue(store, args)
        finally:
            lock.release()


def _enqueue(args: argparse.Namespace, store: JobStore) -> list[int]:

    videos = _option("--videos", batch_plan.expand_globs, args.videos)
    audios = _option("--audios", batch_plan.expand_globs, args.audios)
    if args.pair == "by-name":
        pairs, lonely_videos, lonely_audios = batch_plan.pair_by_name(videos, audios)
        for path in lonely_videos:
            print(f"batch: warning: no audio named like {path.name}", file=sys.stderr)
        for path in lonely_audios:
            print(f"batch: warning: no video for {path.name}", file=sys.stderr)
        if not pairs:
            raise InputError(
                "--pair by-name: no audio file name starts with a video's name "
                f"(videos: {', '.join(v.name for v in videos)})"
            )
    else:
        pairs = batch_plan.pair_each(videos, audios)
    _option("--name", batch_plan.check_name_template, args.name)
    out = Path(os.path.abspath(args.out))
    # Check the options once (crf, detect interval …) before anything is queued.
    first = _option("--name", batch_plan.format_name, args.name, *pairs[0], 1)
    # (a device this machine lacks included: say so now, not 100 times)
    settings_from_args(_with_output(args, out / first), *pairs[0])
    return _option(
        "--out",
        batch_plan.queue_pairs,
        store,
        pairs,
        out,
        args.name,
        lambda video, audio, output: settings_from_args(_with_output(args, output), video, audio),
        priority=args.priority,
        overwrite=args.overwrite,
    )


def _option(option: str, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """fn(...), its InputError told as a problem with the command-line `option`."""
    try:
        return fn(*args, **kwargs)
    except InputError as exc:
        raise InputError(f"{option} {exc}") from None


def _with_output(args: argparse.Namespace, output: Path) -> argparse.Namespace:
    return argparse.Namespace(**{**vars(args), "output": output})


def _run_queue(store: JobStore, args: argparse.Namespace) -> int:
    from app.engine.logs import log_to_file
    from app.engine.queue.scheduler import Scheduler

    log_to_file()  # job events with stage timings; the console keeps the level main() gave it
    interrupted = store.count("running")  # a crash left them: start() requeues them
    queued = store.count("queued")
    if not interrupted and not queued:
        print("batch: nothing queued", file=sys.stderr)
        return 0
    if interrupted:
        print(f"batch: resuming {interrupted} interrupted job(s)", file=sys.stderr)
    reporter = _Reporter(store, sys.stderr)
    runner, slots = _engine(args)
    scheduler = Scheduler(
        store,
        runner,
        slots=slots,
        on_job_event=reporter.on_job_event,
        on_progress=reporter.on_progress,
    )
    scheduler.start()
    try:
        scheduler.run_until_idle()
    except KeyboardInterrupt:
        print("\nbatch: interrupted; `lipsync-studio batch --resume` continues", file=sys.stderr)
        raise
    finally:
        scheduler.stop(wait=True)
    return reporter.summary(store)


def _engine(args: argparse.Namespace) -> tuple[Runner, dict[str, int]]:
    """The runner and slots: this machine's devices, or a Ray cluster's (imported only
    when asked for, so a plain install never needs Ray)."""
    from app.engine.queue.scheduler import RenderRunner

    if args.engine != "ray":
        from app.engine.models.providers import list_devices

        return RenderRunner(), {d.device: 1 for d in list_devices()}
    if args.ray_cpus_per_job < 1:
        raise InputError(f"--ray-cpus-per-job {args.ray_cpus_per_job}: must be at least 1")
    try:
        from app.engine.farm import cluster
        from app.engine.farm.runner import RayRunner
    except ImportError:
        raise InputError("--engine ray needs Ray: pip install 'lipsync-studio[farm]'") from None
    cluster.connect(args.ray_address)
    slots = cluster.slots(args.ray_cpus_per_job)
    print(
        f"batch: rendering on the Ray cluster at {args.ray_address}: slots {slots}", file=sys.stderr
    )
    return RayRunner(args.ray_cpus_per_job), slots


class _Reporter:
    """A line per job event and a throttled progress line per job, on stderr."""

    def __init__(self, store: JobStore, stream: TextIO) -> None:
        self.store = store
        self.stream = stream
        self.tty = stream.isatty()
        self.every_s = 0.1 if self.tty else PROGRESS_EVERY_S
        self._lock = threading.Lock()
        self._gates: dict[int, Throttle] = {}
        self.final: dict[int, str] = {}  # job id -> the last state it reached here

    def _line(self, text: str, transient: bool = False) -> None:
        with self._lock:
            if self.tty:
                self.stream.write(f"\r{text}\x1b[K" + ("" if transient else "\n"))
            else:
                self.stream.write(text + "\n")
            self.stream.flush()

    def on_job_event(self, job_id: int, state: str) -> None:
        self.final[job_id] = state
        job = self.store.get(job_id)
        if job is None:
            return
        if state == "running":
            text = f"rendering {job.video.name} + {job.audio.name} -> {job.output}"
            if job.attempts > 1:
                text += f" (attempt {job.attempts})"
        elif state == "done":
            took = (job.finished or 0) - (job.started or 0)
            coverage = job.coverage
            faces = f", {coverage.text}" if coverage is not None else ""
            text = f"done {job.output} ({job.total} frames{faces}, {took:.1f} s)"
            if job.warning is not None:
                text += f"\n  warning: {job.video.name}: {job.warning}"
        elif state == "failed":
            text = f"failed: {job.error}"
        else:
            text = state
        self._line(f"job {job_id}: {text}")

    def on_progress(self, job_id: int, progress: FrameProgress) -> None:
        with self._lock:
            gate = self._gates.setdefault(job_id, Throttle(self.every_s))
        if not gate.ready(force=progress.done >= progress.total):
            return
        eta = f"{progress.eta_s:.0f} s" if progress.eta_s != float("inf") else "?"
        self._line(
            f"job {job_id}: {progress.done}/{progress.total} frames "
            f"({progress.fraction:.0%})  {progress.fps:.1f} fps  ETA {eta}",
            transient=True,
        )

    def summary(self, store: JobStore) -> int:
        counts = {
            s: sum(1 for v in self.final.values() if v == s)
            for s in ("done", "failed", "cancelled")
        }
        left = store.count("queued")
        text = ", ".join(f"{n} {s}" for s, n in counts.items())
        if left:
            text += f"; {left} still queued (for a device with no slot here)"
        self._line(f"batch: {text}")
        return 1 if counts["failed"] else 0
