"""`lipsync-studio batch`: many renders through the persistent job queue.

    lipsync-studio batch --videos 'talks/*.mp4' --audios 'voice/*.wav' --out renders/
    lipsync-studio batch --resume        # finish what a crash or Ctrl-C left

Jobs go into the JobStore (data_dir()/jobs.sqlite3), then the Scheduler runs the queue
until it is idle: these jobs and any others already queued. A crash loses nothing:
the jobs are on disk, finished outputs stay, and `--resume` renders the rest.

Outputs: `--name` is a template with {video}, {audio} (file stems) and {index}; a name
that an existing file, an input or another queued job already has gets "_2", "_3" …,
so nothing is overwritten unless --overwrite (which still never lets two jobs of the
queue write one file).

One process runs the queue at a time (data_dir()/queue.lock): a second `batch` only adds
its jobs, which the running one picks up. Without the lock, its crash recovery would
take the other process's running jobs for crashed ones.
"""

from __future__ import annotations

import argparse
import glob
import os
import string
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from app.cli.render_cmd import add_render_options, settings_from_args
from app.engine.errors import InputError
from app.engine.queue.filelock import RUNNER_LOCK, FileLock

if TYPE_CHECKING:
    from app.engine.progress import FrameProgress
    from app.engine.queue.jobstore import JobStore

PAIR_MODES = ("each-video-each-audio", "by-name")
DEFAULT_NAME = "{video}_{audio}.mp4"
NAME_FIELDS = ("video", "audio", "index")
ADD_LOCK = "queue-add.lock"  # held while output names are chosen and the jobs added
PROGRESS_EVERY_S = 1.0  # a progress line per job at most this often (0.1 s on a terminal)
PENDING_STATES = ("queued", "running")


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
    batch.add_argument("--out", type=Path, metavar="DIR", help="folder for the outputs")
    batch.add_argument(
        "--name",
        default=DEFAULT_NAME,
        metavar="TEMPLATE",
        help=f"output file name; fields {{video}} {{audio}} {{index}} "
        f"(default: {DEFAULT_NAME.replace('%', '%%')})",
    )
    batch.add_argument("--priority", type=int, default=0, help="higher runs first (default 0)")
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
    add_render_options(batch)
    batch.set_defaults(handler=run_batch)


# -- inputs and names --------------------------------------------------------------------


def expand_globs(patterns: Sequence[str], option: str) -> list[Path]:
    """Files matching each pattern, in order, without repeats; a pattern that matches no
    file is an InputError (a typo must not silently drop half a batch)."""
    found: dict[Path, Path] = {}
    for pattern in patterns:
        expanded = os.path.expanduser(pattern)
        if os.path.isfile(expanded):  # a plain name, maybe with [ ] in it: not a pattern
            matches = [expanded]
        else:
            matches = sorted(m for m in glob.glob(expanded, recursive=True) if os.path.isfile(m))
        if not matches:
            raise InputError(f"{option} {pattern}: matches no file")
        for match in matches:
            path = Path(os.path.abspath(match))  # jobs may run from another folder (--resume)
            found.setdefault(path.resolve(), path)
    return list(found.values())


def pair_each(videos: Sequence[Path], audios: Sequence[Path]) -> list[tuple[Path, Path]]:
    return [(video, audio) for video in videos for audio in audios]


def pair_by_name(
    videos: Sequence[Path], audios: Sequence[Path]
) -> tuple[list[tuple[Path, Path]], list[Path], list[Path]]:
    """Each audio goes with the video whose stem its stem starts with (case-insensitive;
    the longest such stem wins, so alice2.wav goes with alice2.mp4, not alice.mp4).
    Returns (pairs in video order, videos without audio, audios without video)."""
    by_video: dict[int, list[Path]] = {i: [] for i in range(len(videos))}
    lonely_audios: list[Path] = []
    stems = [v.stem.casefold() for v in videos]
    for audio in audios:
        stem = audio.stem.casefold()
        candidates = [i for i, s in enumerate(stems) if s and stem.startswith(s)]
        if not candidates:
            lonely_audios.append(audio)
            continue
        best = max(candidates, key=lambda i: len(stems[i]))
        by_video[best].append(audio)
    pairs = [(videos[i], audio) for i in range(len(videos)) for audio in by_video[i]]
    lonely_videos = [videos[i] for i in range(len(videos)) if not by_video[i]]
    return pairs, lonely_videos, lonely_audios


def check_name_template(template: str) -> None:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise InputError(f"--name {template}: {exc}") from None
    unknown = [f for f in fields if f not in NAME_FIELDS]
    if unknown:
        raise InputError(
            f"--name {template}: unknown field {{{unknown[0]}}}; "
            f"use {', '.join('{' + f + '}' for f in NAME_FIELDS)}"
        )
    example = format_name(template, Path("v.mp4"), Path("a.wav"), 1)
    if not example.lower().endswith(".mp4"):
        raise InputError(f"--name {template}: the output must be an .mp4 file")


def format_name(template: str, video: Path, audio: Path, index: int) -> str:
    name = template.format(video=video.stem, audio=audio.stem, index=index)
    if (
        not name
        or name in (".", "..")
        or "/" in name
        or os.sep in name
        or (os.altsep and os.altsep in name)
    ):
        raise InputError(f"--name {template}: gives {name!r}, not a file name")
    return name


def plan_outputs(
    names: Sequence[str],
    folder: Path,
    overwrite: bool = False,
    taken: Iterable[Path] = (),
) -> list[Path]:
    """An output path per name in `folder`: never one in `taken` (inputs, outputs of queued
    jobs) or another of these; never an existing file (or its .part) unless `overwrite`.
    A clash adds "_2", "_3" … before the suffix. Names compare case-insensitively (as
    Windows and macOS file systems do)."""
    used = {_name_key(p) for p in taken}
    on_disk = (
        set()
        if overwrite or not folder.is_dir()
        else {_name_key(folder / name.removesuffix(".part")) for name in os.listdir(folder)}
    )
    planned: list[Path] = []
    for name in names:
        stem, suffix = os.path.splitext(name)
        candidate, n = folder / name, 1
        while _name_key(candidate) in used or _name_key(candidate) in on_disk:
            n += 1
            candidate = folder / f"{stem}_{n}{suffix}"
        used.add(_name_key(candidate))
        planned.append(candidate)
    return planned


def _name_key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path)).casefold()


def _pending_outputs(store: JobStore) -> list[Path]:
    outputs: list[Path] = []
    for state in PENDING_STATES:
        offset = 0
        while page := store.page(offset=offset, limit=1000, order="created", state=state):
            outputs += [job.output for job in page]
            offset += len(page)
    return outputs


# -- the command ---------------------------------------------------------------------------


def run_batch(args: argparse.Namespace) -> int:
    from app.engine import paths
    from app.engine.queue.jobstore import JobStore

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

    with JobStore() as store:
        if not args.resume:
            ids = _enqueue(args, store, paths.data_dir() / ADD_LOCK)
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
            return _run_queue(store)
        finally:
            lock.release()


def _enqueue(args: argparse.Namespace, store: JobStore, add_lock: Path) -> list[int]:
    from app.engine.models.providers import resolve_device
    from app.engine.queue.jobstore import JobSpec

    videos = expand_globs(args.videos, "--videos")
    audios = expand_globs(args.audios, "--audios")
    if args.pair == "by-name":
        pairs, lonely_videos, lonely_audios = pair_by_name(videos, audios)
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
        pairs = pair_each(videos, audios)
    check_name_template(args.name)
    names = [format_name(args.name, v, a, i) for i, (v, a) in enumerate(pairs, 1)]
    out = Path(os.path.abspath(args.out))
    # Check the options once (crf, detect interval …) before anything is queued.
    settings_from_args(_with_output(args, out / names[0]), *pairs[0])
    resolve_device(args.device)  # a device this machine lacks: say so now, not 100 times
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot create the folder ({exc.strerror})") from None

    lock = FileLock(add_lock)
    lock.acquire(blocking=True)  # two `batch` runs adding at once must not pick one name
    try:
        inputs = [p for pair in pairs for p in pair]
        outputs = plan_outputs(names, out, args.overwrite, [*inputs, *_pending_outputs(store)])
        specs = [
            JobSpec(settings_from_args(_with_output(args, output), video, audio), args.priority)
            for (video, audio), output in zip(pairs, outputs)
        ]
        return store.add_many(specs)
    finally:
        lock.release()


def _with_output(args: argparse.Namespace, output: Path) -> argparse.Namespace:
    return argparse.Namespace(**{**vars(args), "output": output})


def _run_queue(store: JobStore) -> int:
    from app.engine.models.providers import list_devices
    from app.engine.queue.scheduler import Scheduler

    _log_to_file()
    interrupted = store.count("running")  # a crash left them: start() requeues them
    queued = store.count("queued")
    if not interrupted and not queued:
        print("batch: nothing queued", file=sys.stderr)
        return 0
    if interrupted:
        print(f"batch: resuming {interrupted} interrupted job(s)", file=sys.stderr)
    reporter = _Reporter(store, sys.stderr)
    scheduler = Scheduler(
        store,
        slots={d.device: 1 for d in list_devices()},
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


def _log_to_file() -> None:
    """Job events (with stage timings) to the JSON-lines log; the console keeps the level
    main() gave it (setup_logging lowers the root logger's level to INFO)."""
    import logging

    from app.engine.queue.joblog import setup_logging

    root = logging.getLogger()
    for handler in root.handlers:
        if type(handler) is logging.StreamHandler and handler.level == logging.NOTSET:
            handler.setLevel(root.level)
    setup_logging()


class _Reporter:
    """A line per job event and a throttled progress line per job, on stderr."""

    def __init__(self, store: JobStore, stream: TextIO) -> None:
        self.store = store
        self.stream = stream
        self.tty = stream.isatty()
        self.every_s = 0.1 if self.tty else PROGRESS_EVERY_S
        self._lock = threading.Lock()
        self._last: dict[int, float] = {}
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
        now = time.monotonic()
        last_frame = progress.done >= progress.total
        if not last_frame and now - self._last.get(job_id, 0.0) < self.every_s:
            return
        self._last[job_id] = now
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
