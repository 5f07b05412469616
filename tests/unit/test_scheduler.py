"""Scheduler over a real JobStore, with a runner that writes real output files; joblog.

The runner stands in for pipeline.render (wired in by the default runner): it writes
a temporary file frame by frame, reports a FrameProgress per frame, checks its cancel Event
between frames and renames the temporary at the end. Timeouts are ~0.2 s.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.engine import outputs
from app.engine.errors import InputError, RenderCancelled
from app.engine.logs import JsonFormatter, setup_logging, shutdown_logging
from app.engine.progress import FrameProgress
from app.engine.queue.joblog import read_events
from app.engine.queue.jobstore import Job, JobSpec, JobStore
from app.engine.queue.scheduler import RenderRunner, Scheduler, accepted_devices, render_runner
from app.engine.settings import RenderSettings
from tests.support.leftovers import any_temp, crashed_temp
from tests.support.mediagen import make_audio, make_video

POLL = 0.02
FRAMES = 4


class FakeRender:
    """A runner whose behaviour per job is picked by the video's name (see __call__)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[str] = []
        self.seen_on: dict[str, str] = {}  # job name -> slot
        self.devices: dict[str, str] = {}  # job name -> the device the runner was given
        self.active: Counter[str] = Counter()
        self.max_active: Counter[str] = Counter()
        self.started: dict[str, threading.Event] = {}
        self.gates: dict[str, threading.Event] = {}  # name -> set to let it finish
        self.meet = threading.Barrier(2, timeout=5)
        self.release_stuck = threading.Event()  # set at teardown: stuck runners return

    def started_event(self, name: str) -> threading.Event:
        with self.lock:
            return self.started.setdefault(name, threading.Event())

    def gate(self, name: str) -> threading.Event:
        with self.lock:
            return self.gates.setdefault(name, threading.Event())

    def __call__(
        self, job: Job, on_progress: Callable[[FrameProgress], None], cancel: threading.Event
    ) -> dict[str, object]:
        name = job.video.stem
        with self.lock:
            self.seen.append(name)
            self.seen_on[name] = job.slot or "?"
            self.devices[name] = job.to_settings().device
            self.active[job.slot or "?"] += 1
            self.max_active[job.slot or "?"] = max(
                self.max_active[job.slot or "?"], self.active[job.slot or "?"]
            )
        try:
            return self._render(name, job, on_progress, cancel)
        finally:
            with self.lock:
                self.active[job.slot or "?"] -= 1

    def _render(
        self,
        name: str,
        job: Job,
        on_progress: Callable[[FrameProgress], None],
        cancel: threading.Event,
    ) -> dict[str, object]:
        if name.startswith("stuck"):  # no progress, deaf to cancel
            self.started_event(name).set()
            self.release_stuck.wait()
            raise RuntimeError("released at teardown")
        if name.startswith("quiet"):  # no progress, but it honours its cancel Event
            if not cancel.wait(5):
                raise AssertionError("never cancelled")
            raise RenderCancelled(f"{job.output.name}: render cancelled")
        if name.startswith("bad"):
            raise ValueError("boom")
        if name.startswith("input"):
            raise InputError(f"{job.video.name}: not a video")
        if name.startswith("meet"):
            self.meet.wait()  # both slots must be running at the same moment
        job.output.parent.mkdir(parents=True, exist_ok=True)
        temp = outputs.create_temp(job.output)
        with open(temp, "wb") as part:
            frame = 0
            while frame < FRAMES or (name.startswith("hold") and not self.gate(name).is_set()):
                if cancel.is_set():
                    raise RenderCancelled(f"{job.output.name}: render cancelled")  # temp stays
                part.write(f"frame {frame}\n".encode())
                frame = min(frame + 1, FRAMES)
                on_progress(FrameProgress(frame, FRAMES, fps=100.0, eta_s=0.0))
                self.started_event(name).set()
                if name.startswith("hold"):
                    cancel.wait(0.005)
        outputs.publish(temp, job.output, "replace")
        return {"stages": {"fake": {"wall_s": 0.001}}}


@pytest.fixture
def store() -> Iterator[JobStore]:
    s = JobStore()
    yield s
    s.close()


@pytest.fixture
def runner() -> Iterator[FakeRender]:
    r = FakeRender()
    yield r
    r.release_stuck.set()
    for gate in r.gates.values():
        gate.set()


@pytest.fixture
def make_scheduler(store: JobStore) -> Iterator[Callable[..., Scheduler]]:
    made: list[Scheduler] = []

    def make(runner: FakeRender, **kw: object) -> Scheduler:
        kw.setdefault("poll_interval", POLL)
        kw.setdefault("stall_timeout", 5.0)
        kw.setdefault("cancel_grace", 0.2)
        scheduler = Scheduler(store, runner, **kw)  # type: ignore[arg-type]
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:  # before the store closes (fixture order)
        scheduler.stop(wait=True, timeout=2)


@pytest.fixture
def jsonlog() -> Iterator[Path]:
    path = setup_logging()
    yield path
    shutdown_logging()


def spec(tmp_path: Path, name: str, priority: int = 0, device: str = "auto") -> JobSpec:
    return JobSpec(
        RenderSettings(
            tmp_path / "in" / f"{name}.mp4",
            tmp_path / "in" / f"{name}.wav",
            tmp_path / "out" / f"{name}.mp4",
            device=device,
        ),
        priority,
    )


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def state(store: JobStore, job_id: int) -> str:
    job = store.get(job_id)
    assert job is not None
    return job.state


def test_runs_every_job_with_events_progress_and_outputs(
    store: JobStore, runner: FakeRender, make_scheduler: Callable[..., Scheduler], tmp_path: Path
) -> None:
    events: list[tuple[int, str]] = []
    progress: dict[int, FrameProgress] = {}
    sched = make_scheduler(
        runner,
        slots={"cpu": 2},
        on_job_event=lambda j, s: events.append((j, s)),
        on_progress=lambda j, p: progress.__setitem__(j, p),
    )
    ids = store.add_many(spec(tmp_path, f"job{i}") for i in range(6))
    sched.start()
    assert sched.run_until_idle(timeout=10)
    for job_id in ids:
        job = store.get(job_id)
        assert job is not None
        assert (job.state, job.done, job.total, job.attempts, job.error) == ("done", 4, 4, 1, None)
        assert job.output.read_text().splitlines() == [f"frame {k}" for k in range(FRAMES)]
        assert not any_temp(job.output)
        assert [s for j, s in events if j == job_id] == ["running", "done"]
        assert progress[job_id].done == FRAMES
    assert sorted(runner.seen) == sorted(f"job{i}" for i in range(6))
    assert sched.running_jobs() == []


def test_priority_order_is_observed_fifo_within_a_priority(
    store: JobStore, runner: FakeRender, make_scheduler: Callable[..., Scheduler], tmp_path: Path
) -> None:
    sched = make_scheduler(runner)
    sched.pause()
    sched.start()
    prios = [0, 5, 1, 5, 0, 9, 1]
    sched.submit_many(spec(tmp_path, f"p{i}", p) for i, p in enumerate(prios))
    assert not sched.run_until_idle(timeout=0.1)  # paused: nothing starts
    assert runner.seen == []
    sched.resume()
    assert sched.run_until_idle(timeout=10)
    assert runner.seen == [f"p{i}" for i in sorted(range(len(prios)), key=lambda i: (-prios[i], i))]


def test_cancel_a_queued_and_a_running_job(
    store: JobStore, runner: FakeRender, make_scheduler: Callable[..., Scheduler], tmp_path: Path
) -> None:
    events: list[tuple[int, str]] = []
    sched = make_scheduler(runner, on_job_event=lambda j, s: events.append((j, s)))
    hold, queued, after = store.add_many(spec(tmp_path, n) for n in ("hold", "queued", "after"))
    sched.start()
    assert runner.started_event("hold").wait(5)
    assert sched.cancel(queued)
    assert state(store, queued) == "cancelled"
    assert sched.cancel(hold)  # the runner loops until it sees its cancel Event
    assert not sched.cancel(hold)
    assert sched.run_until_idle(timeout=10)
    assert state(store, hold) == "cancelled"
    held = store.get(hold)
    assert held is not None and not held.output.exists() and not any_temp(held.output)
    assert runner.seen == ["hold", "after"]  # the cancelled queued job never ran
    assert state(store, after) == "done"
    assert [s for j, s in events if j == hold] == ["running", "cancelled"]
    assert not sched.cancel(after)  # done jobs cannot be cancelled


def test_stalled_runner_is_failed_retried_and_the_queue_moves_on(
    store: JobStore,
    runner: FakeRender,
    make_scheduler: Callable[..., Scheduler],
    tmp_path: Path,
    jsonlog: Path,
) -> None:
    events: list[tuple[int, str]] = []
    sched = make_scheduler(
        runner,
        stall_timeout=0.2,
        cancel_grace=0.1,
        max_retries=2,
        on_job_event=lambda j, s: events.append((j, s)),
    )
    stuck, nxt = store.add_many([spec(tmp_path, "stuck"), spec(tmp_path, "next")])
    started = time.monotonic()
    sched.start()
    assert sched.run_until_idle(timeout=10)
    elapsed = time.monotonic() - started
    job = store.get(stuck)
    assert job is not None
    assert (job.state, job.error, job.attempts) == ("failed", "stalled: no progress for 0.2 s", 3)
    assert job.error_kind == "stalled"
    assert state(store, nxt) == "done"
    assert runner.seen == ["stuck", "next", "stuck", "stuck"]  # retries go to the back
    assert sched.abandoned_workers == 3  # each stuck thread was left behind, never reused
    assert [s for j, s in events if j == stuck] == ["running", "failed", "queued"] * 2 + [
        "running",
        "failed",
    ]
    assert elapsed < 5
    abandoned = read_events(job_id=stuck, event="runner_abandoned")
    assert len(abandoned) == 3 and all(e["level"] == "WARNING" for e in abandoned)
    failures = read_events(job_id=stuck, event="job_failed")
    assert [e["attempt"] for e in failures] == [1, 2, 3] and all(e["stalled"] for e in failures)


def test_stalled_runner_that_honours_cancel_keeps_its_worker(
    store: JobStore, runner: FakeRender, make_scheduler: Callable[..., Scheduler], tmp_path: Path
) -> None:
    sched = make_scheduler(runner, stall_timeout=0.2, cancel_grace=5.0, max_retries=0)
    quiet, second = store.add_many([spec(tmp_path, "quiet"), spec(tmp_path, "second")])
    sched.start()
    assert sched.run_until_idle(timeout=5)
    job = store.get(quiet)
    assert job is not None and (job.state, job.attempts) == ("failed", 1)  # max_retries=0
    assert job.error == "stalled: no progress for 0.2 s"
    assert sched.abandoned_workers == 0  # it returned within the grace: same worker goes on
    assert state(store, second) == "done" and runner.seen == ["quiet", "second"]


def test_pause_stops_new_jobs_and_lets_the_running_one_finish(
    store: JobStore, runner: FakeRender, make_scheduler: Callable[..., Scheduler], tmp_path: Path
) -> None:
    sched = make_scheduler(runner)
    hold, second = store.add_many([spec(tmp_path, "hold"), spec(tmp_path, "second")])
    sched.start()
    assert runner.started_event("hold").wait(5)
    sched.pause()
    runner.gate("hold").set()
    wait_for(lambda: state(store, hold) == "done")
    assert not sched.run_until_idle(timeout=10 * POLL)  # ten idle polls while paused
    assert state(store, second) == "queued" and runner.seen == ["hold"]
    sched.resume()
    assert sched.run_until_idle(timeout=5)
    assert state(store, second) == "done"


def test_one_job_per_slot_and_auto_jobs_go_to_the_gpu(
    store: JobStore, runner: FakeRender, make_scheduler: Callable[..., Scheduler], tmp_path: Path
) -> None:
    sched = make_scheduler(runner, slots={"cuda:0": 1, "cpu": 1})
    specs = [spec(tmp_path, "meet_cpu", 9, "cpu"), spec(tmp_path, "meet_gpu", 9, "cuda:0")]
    specs += [spec(tmp_path, f"auto{i}") for i in range(5)]
    specs += [spec(tmp_path, f"cpu{i}", device="cpu") for i in range(4)]
    specs += [spec(tmp_path, f"cuda{i}", device="cuda") for i in range(3)]
    specs.append(spec(tmp_path, "other_gpu", device="cuda:1"))  # no slot for it
    ids = store.add_many(specs)
    sched.start()
    assert sched.run_until_idle(timeout=10)  # the cuda:1 job does not keep it busy
    assert runner.max_active == Counter({"cuda:0": 1, "cpu": 1})  # the two "meet" jobs overlapped
    on_gpu = {n for n, slot in runner.seen_on.items() if slot == "cuda:0"}
    assert on_gpu == {"meet_gpu"} | {f"auto{i}" for i in range(5)} | {f"cuda{i}" for i in range(3)}
    assert all(runner.devices[n] == "cuda:0" for n in on_gpu)  # never "auto" to the pipeline
    assert {n for n, slot in runner.seen_on.items() if slot == "cpu"} == {"meet_cpu"} | {
        f"cpu{i}" for i in range(4)
    }
    assert [state(store, i) for i in ids[:-1]] == ["done"] * (len(ids) - 1)
    assert state(store, ids[-1]) == "queued" and "other_gpu" not in runner.seen


def test_auto_rule() -> None:
    assert accepted_devices("cpu", ["cpu"]) == ("cpu", "auto")
    assert accepted_devices("cpu", ["cuda:0", "cpu"]) == ("cpu",)
    assert accepted_devices("cuda:0", ["cuda:0", "cpu"]) == ("cuda:0", "cuda", "auto")
    assert accepted_devices("dml:1", ["dml:1"]) == ("dml:1", "dml", "auto")
    with pytest.raises(ValueError):
        Scheduler(None, slots={"auto": 1})  # type: ignore[arg-type]


def test_failures_retry_except_bad_input_and_the_json_log_records_them(
    store: JobStore,
    runner: FakeRender,
    make_scheduler: Callable[..., Scheduler],
    tmp_path: Path,
    jsonlog: Path,
) -> None:
    sched = make_scheduler(runner, max_retries=1)
    ok, bad, bad_input = store.add_many(spec(tmp_path, n) for n in ("ok", "bad", "input"))
    sched.start()
    assert sched.run_until_idle(timeout=10)
    assert (store.get(ok).state, store.get(ok).attempts) == ("done", 1)  # type: ignore[union-attr]
    failed = store.get(bad)
    assert failed is not None and (failed.state, failed.attempts) == ("failed", 2)
    assert (failed.error, failed.error_kind) == ("ValueError: boom", "error")
    rejected = store.get(bad_input)
    assert rejected is not None and (rejected.state, rejected.attempts) == ("failed", 1)
    assert (rejected.error, rejected.error_kind) == ("input.mp4: not a video", "bad_input")
    assert store.get(ok).error_kind is None  # type: ignore[union-attr]

    lines = jsonlog.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)

    def job_events(job_id: int) -> list[str]:
        return [r["event"] for r in records if r.get("job_id") == job_id and "event" in r]

    assert job_events(ok) == ["job_start", "job_finish"]
    assert job_events(bad) == ["job_start", "runner_error", "job_failed"] * 2
    assert job_events(bad_input) == ["job_start", "job_failed"]
    finish = next(r for r in records if r.get("event") == "job_finish")
    assert finish["logger"] == "app.engine.queue.scheduler" and finish["slot"] == "cpu"
    assert isinstance(finish["elapsed_s"], float) and finish["result"]["stages"]["fake"]
    start = next(r for r in records if r.get("event") == "job_start")
    assert start["output"] == str(tmp_path / "out" / "ok.mp4")
    bad_failures = [r for r in records if r.get("event") == "job_failed" and r["job_id"] == bad]
    assert [r["retry"] for r in bad_failures] == [True, False]
    assert "ValueError: boom" in next(r["exc"] for r in records if r.get("event") == "runner_error")
    assert [e["event"] for e in read_events(job_id=ok)] == ["job_start", "job_finish"]


def test_start_recovers_jobs_a_crash_left_running(
    store: JobStore, runner: FakeRender, make_scheduler: Callable[..., Scheduler], tmp_path: Path
) -> None:
    job_id = store.add(spec(tmp_path, "crashed"))
    claimed = store.claim_next("cpu")
    assert claimed is not None
    claimed.output.parent.mkdir(parents=True)
    crashed_temp(claimed.output)
    events: list[tuple[int, str]] = []
    sched = make_scheduler(runner, on_job_event=lambda j, s: events.append((j, s)))
    sched.start()
    assert sched.run_until_idle(timeout=5)
    job = store.get(job_id)
    assert job is not None and job.state == "done" and job.attempts == 2
    assert job.output.exists() and not any_temp(job.output)
    assert events == [(job_id, "queued"), (job_id, "running"), (job_id, "done")]


def test_a_recovered_job_waits_for_its_earlier_attempt_to_wind_down(
    store: JobStore, runner: FakeRender, make_scheduler: Callable[..., Scheduler], tmp_path: Path
) -> None:
    """A dead farm driver's task may still hold the output's temporary file for a moment
    (then it is killed, leaving the file): the job keeps its name, and no file stays."""
    job_id = store.add(spec(tmp_path, "orphaned"))
    claimed = store.claim_next("cpu")
    assert claimed is not None
    claimed.output.parent.mkdir(parents=True)
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.5)"])
    threading.Thread(target=orphan.wait, daemon=True).start()  # reaped: no zombie stays
    try:
        crashed_temp(claimed.output, pid=orphan.pid)  # its file while it still runs
        sched = make_scheduler(runner)
        sched.start()
        assert sched.run_until_idle(timeout=30)
    finally:
        orphan.kill()
        orphan.wait()
    job = store.get(job_id)
    assert job is not None and job.state == "done"
    assert job.output == claimed.output  # not NAME_2.mp4 for a file about to be garbage
    assert job.output.exists() and not any_temp(job.output)


def test_stop_puts_the_running_job_back_in_the_queue(
    store: JobStore, runner: FakeRender, make_scheduler: Callable[..., Scheduler], tmp_path: Path
) -> None:
    hold, later = store.add_many([spec(tmp_path, "hold"), spec(tmp_path, "later")])
    sched = make_scheduler(runner)
    sched.start()
    assert runner.started_event("hold").wait(5)
    sched.stop(wait=True, timeout=5)
    job = store.get(hold)
    assert job is not None and (job.state, job.attempts) == ("queued", 0)
    assert not any_temp(job.output) and not job.output.exists()
    assert [j.id for j in store.page(0, 10, state="queued")] == [hold, later]  # same place
    assert store.count("running") == 0
    t = time.monotonic()
    assert not sched.run_until_idle(timeout=5)  # stopped with jobs left: no waiting
    assert time.monotonic() - t < 1


def test_cancel_all(
    store: JobStore, runner: FakeRender, make_scheduler: Callable[..., Scheduler], tmp_path: Path
) -> None:
    sched = make_scheduler(runner)
    ids = store.add_many(spec(tmp_path, n) for n in ("hold", "b", "c"))
    sched.start()
    assert runner.started_event("hold").wait(5)
    assert sched.cancel_all() == 3
    assert sched.run_until_idle(timeout=5)
    assert [state(store, i) for i in ids] == ["cancelled"] * 3
    assert runner.seen == ["hold"]


def test_engine_imports_neither_qt_nor_the_pipeline() -> None:
    code = (
        "import sys\n"
        "import app.engine.queue.scheduler, app.engine.queue.jobstore, app.engine.queue.joblog\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'av', 'onnxruntime')\n"
        "       or m == 'app.engine.render.pipeline']\n"
        "assert not bad, bad\n"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )


# -- joblog -----------------------------------------------------------------------------


def test_setup_logging_is_idempotent_and_follows_the_log_dir(jsonlog: Path, tmp_path: Path) -> None:
    def file_handlers() -> list[logging.Handler]:
        return [
            h
            for h in logging.getLogger().handlers
            if str(getattr(h, "baseFilename", "")).endswith(".jsonl")
        ]

    handlers = file_handlers()
    assert len(handlers) == 1
    assert setup_logging() == jsonlog
    assert file_handlers() == handlers
    assert jsonlog.name == "lipsync-studio.jsonl" and jsonlog.parent.name == "logs"
    other = setup_logging(tmp_path / "other.jsonl")
    logging.getLogger("app.test").info("hello %s", "there", extra={"job_id": 7})
    assert not jsonlog.exists()
    assert [(e["message"], e["job_id"]) for e in read_events(path=other)] == [("hello there", 7)]


def test_json_formatter_fields_and_exceptions() -> None:
    record = logging.LogRecord("app.x", logging.ERROR, __file__, 1, "two\nlines", (), None)
    record.job_id = 3
    record.level = "clash"  # an extra named like a base key does not overwrite it
    try:
        raise KeyError("k")
    except KeyError:
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    obj = json.loads(line)
    assert (obj["level"], obj["field_level"], obj["job_id"]) == ("ERROR", "clash", 3)
    assert obj["message"] == "two\nlines" and "KeyError" in obj["exc"]


def test_read_events_spans_rotated_files_newest_last(tmp_path: Path) -> None:
    path = setup_logging(tmp_path / "small.jsonl", max_bytes=2000, backup_count=3)
    try:
        log = logging.getLogger("app.test")
        for i in range(40):
            log.info("event %d", i, extra={"job_id": i % 2, "event": "tick", "i": i})
    finally:
        shutdown_logging()
    assert path.with_name("small.jsonl.1").exists()  # it rotated
    with path.with_name("small.jsonl.1").open("a") as backup:
        backup.write("not json\n")
    got = read_events(job_id=1, limit=5, path=path)
    assert [e["i"] for e in got] == [31, 33, 35, 37, 39]
    assert [e["i"] for e in read_events(limit=3, path=path)] == [37, 38, 39]


def test_a_job_whose_model_is_not_installed_fails_as_model_missing_without_retries(
    store: JobStore, make_scheduler: Callable[..., Scheduler], tmp_path: Path
) -> None:
    """The real runner (pipeline.render): a front end can offer the download by the
    job's error_kind, never by reading its message."""
    video = make_video(tmp_path / "presenter.mp4", 64, 64, 25, 1.0, audio=False)
    audio = make_audio(tmp_path / "speech.wav", 1.0, kind="speechlike")
    settings = RenderSettings(video, audio, tmp_path / "out.mp4", model="wav2lip_96")
    (job_id,) = store.add_many([JobSpec(settings)])
    sched = make_scheduler(render_runner, max_retries=2)
    sched.start()
    assert sched.run_until_idle(timeout=30)
    job = store.get(job_id)
    assert job is not None and (job.state, job.attempts) == ("failed", 1)
    assert job.error_kind == "model_missing" and "wav2lip_96" in (job.error or "")
    assert not (tmp_path / "out.mp4").exists()


def test_the_jobs_of_one_presenter_reuse_its_decoded_frames(
    store: JobStore, make_scheduler: Callable[..., Scheduler], tmp_path: Path
) -> None:
    """The scheduler tells the runner when queued jobs of the same video follow; the
    default runner then keeps the frames for them, and the last job lets them go."""
    videos = [make_video(tmp_path / f"{n}.mp4", 64, 64, 25, 1.0, audio=False) for n in "ab"]
    audio = make_audio(tmp_path / "speech.wav", 1.0, kind="speechlike")
    names = ["a", "a", "a", "b"]
    store.add_many(
        [
            JobSpec(
                RenderSettings(
                    videos[n == "b"],
                    audio,
                    tmp_path / f"out{k}.mp4",
                    model="draft",
                    detector="haar",
                    track_cache=False,
                )
            )
            for k, n in enumerate(names)
        ]
    )
    real = RenderRunner()
    seen: list[tuple[str, bool, bool]] = []

    def runner(
        job: Job, on_progress: Callable[[FrameProgress], None], cancel: threading.Event
    ) -> object:
        seen.append((job.video.stem, job.presenter_follows, real.frames.used_bytes > 0))
        return real(job, on_progress, cancel)

    sched = make_scheduler(runner)
    sched.start()
    assert sched.run_until_idle(timeout=60)
    assert [job.state for job in store.page()] == ["done"] * 4
    # (video, more of it queued, frames kept when it started)
    assert seen == [("a", True, False), ("a", True, True), ("a", False, True), ("b", False, False)]
    assert real.frames.used_bytes == 0
