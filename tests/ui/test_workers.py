"""app.engine.workers: the scheduler's jobs as QRunnables on a pool, throttled signals, the
bridge, CallWorker."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PySide6.QtCore import QThread, QThreadPool

from app.engine.progress import FrameProgress
from app.engine.queue.jobstore import Job, JobStore
from app.engine.queue.scheduler import Runner, Scheduler, render_runner
from app.engine.render.one_frame import render_one_frame
from app.engine.settings import RenderSettings
from app.engine.workers import CallWorker, PoolExecutor, SchedulerBridge
from tests.support.leftovers import any_temp


def decoded_frames(path: Path) -> tuple[int, float, bool]:
    """(video frames, fps, has audio) of a file, decoded with PyAV."""
    with av.open(str(path)) as container:
        fps = float(container.streams.video[0].average_rate)
        has_audio = bool(container.streams.audio)
        frames = sum(1 for _ in container.decode(video=0))
    return frames, fps, has_audio


@pytest.fixture
def pool() -> QThreadPool:
    pool = QThreadPool()
    yield pool
    pool.waitForDone(30_000)


@pytest.fixture
def queue_on_pool(
    pool: QThreadPool, tmp_path: Path
) -> Iterator[Callable[..., tuple[Scheduler, SchedulerBridge]]]:
    """A Scheduler whose jobs run as QRunnables on `pool`, its hooks through a bridge: the
    desktop app's wiring (ui/queue_controller.py)."""
    made: list[Scheduler] = []
    store = JobStore(tmp_path / "jobs.sqlite3")

    def make(runner: Runner = render_runner, **kw: Any) -> tuple[Scheduler, SchedulerBridge]:
        bridge = SchedulerBridge()
        scheduler = Scheduler(
            store,
            runner,
            slots={"cpu": 1},
            poll_interval=0.02,
            executor=PoolExecutor(pool, 1),
            on_job_event=bridge.on_job_event,
            on_progress=bridge.on_progress,
            **kw,
        )
        made.append(scheduler)
        scheduler.start()
        return scheduler, bridge

    yield make
    for scheduler in made:
        scheduler.stop(wait=True, timeout=5)
    store.close()


def render_settings(video: Path, audio: Path, out: Path) -> RenderSettings:
    return RenderSettings(
        video, audio, out, model="draft", detector="haar", preset="ultrafast", track_cache=False
    )


def test_a_job_runs_as_a_qrunnable_on_the_pool_with_throttled_signals(
    qtbot, pool, queue_on_pool, face_clip, speech, tmp_path
) -> None:
    threads: list[str] = []

    def runner(job: Job, on_progress: Callable[[FrameProgress], None], cancel: Any) -> object:
        threads.append(QThread.currentThread().objectName())
        return render_runner(job, on_progress, cancel)

    before = pool.maxThreadCount()
    scheduler, bridge = queue_on_pool(runner)
    progress: list[FrameProgress] = []
    previews: list[np.ndarray] = []
    bridge.progress.connect(lambda _job, p: progress.append(p))
    bridge.preview.connect(lambda _job, frame: previews.append(frame))
    out = tmp_path / "out.mp4"
    with qtbot.waitSignal(
        bridge.job_event, timeout=60_000, check_params_cb=lambda _j, state: state == "done"
    ):
        (job_id,) = scheduler.submit_many([render_settings(face_clip, speech("a.wav", 4.0), out)])
    assert threads == ["Thread (pooled)"]  # a QThreadPool thread, not one of the scheduler's
    assert pool.maxThreadCount() == before + 1  # the pool grew by the slot: tasks never wait
    dones = [p.done for p in progress]
    assert dones == sorted(dones) and dones[-1] == 100 == progress[-1].total
    assert len(progress) < 60  # ~10 a second, never one per frame
    assert all(p.preview is None for p in progress)  # frames travel on `preview` only
    assert previews and previews[0].ndim == 3 and previews[0].dtype == np.uint8
    assert decoded_frames(out) == (100, 25.0, True)
    job = scheduler.store.get(job_id)
    assert job is not None and job.face_frames is not None and job.face_frames > 0
    scheduler.stop(wait=True)
    assert pool.maxThreadCount() == before  # given back when the scheduler stops


def test_cancelling_a_job_on_the_pool_leaves_no_file(
    qtbot, queue_on_pool, pattern_clip, speech, tmp_path
) -> None:
    scheduler, bridge = queue_on_pool()
    bridge.progress.connect(lambda job_id, _p: scheduler.cancel(job_id))
    out = tmp_path / "cancelled.mp4"
    with qtbot.waitSignal(
        bridge.job_event, timeout=60_000, check_params_cb=lambda _j, s: s == "cancelled"
    ):
        scheduler.submit_many([render_settings(pattern_clip, speech("long.wav", 20.0), out)])
    assert scheduler.run_until_idle(timeout=30)
    assert not out.exists() and not any_temp(out)


def test_bad_input_on_the_pool_fails_the_job_as_bad_input(
    qtbot, queue_on_pool, tmp_path, speech
) -> None:
    scheduler, bridge = queue_on_pool()
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 1000)
    with qtbot.waitSignal(
        bridge.job_event, timeout=30_000, check_params_cb=lambda _j, s: s == "failed"
    ):
        (job_id,) = scheduler.submit_many(
            [render_settings(bad, speech("a.wav"), tmp_path / "o.mp4")]
        )
    job = scheduler.store.get(job_id)
    assert job is not None and job.error_kind == "bad_input" and "broken.mp4" in (job.error or "")


def test_a_stuck_runnable_is_abandoned_and_the_pool_grows_so_the_queue_moves_on(
    qtbot, pool, queue_on_pool, tmp_path
) -> None:
    release = threading.Event()
    ran: list[str] = []

    def runner(job: Job, on_progress: Callable[[FrameProgress], None], cancel: Any) -> object:
        ran.append(job.video.stem)
        if job.video.stem == "stuck":
            release.wait(30)  # deaf to its cancel Event, no progress
            return {}
        on_progress(FrameProgress(1, 1, 1.0, 0.0))
        return {}

    before = pool.maxThreadCount()
    scheduler, bridge = queue_on_pool(runner, stall_timeout=0.3, cancel_grace=0.1, max_retries=0)
    stuck, nxt = (
        RenderSettings(tmp_path / f"{n}.mp4", tmp_path / "a.wav", tmp_path / f"o{n}.mp4")
        for n in ("stuck", "next")
    )
    try:
        with qtbot.waitSignal(
            bridge.job_event, timeout=20_000, check_params_cb=lambda _j, s: s == "done"
        ):
            stuck_id, _ = scheduler.submit_many([stuck, nxt])
        assert ran == ["stuck", "next"]
        assert scheduler.abandoned_workers == 1
        assert pool.maxThreadCount() == before + 2  # the slot, and room for the stuck one
        job = scheduler.store.get(stuck_id)
        assert job is not None and job.error_kind == "stalled"
    finally:
        release.set()


def test_bridge_throttles_a_flood_per_job_and_keeps_the_last_frame(qtbot) -> None:
    bridge = SchedulerBridge()
    got: list[tuple[int, int]] = []
    frames: list[int] = []
    bridge.progress.connect(lambda job_id, p: got.append((job_id, p.done)))
    bridge.preview.connect(lambda job_id, frame: frames.append(job_id))
    picture = np.zeros((8, 8, 3), np.uint8)

    def flood(job_id: int) -> None:  # as a scheduler worker thread would call the hook
        for done in range(1, 2001):
            bridge.on_progress(job_id, FrameProgress(done, 2000, 500.0, 1.0, picture))

    threads = [threading.Thread(target=flood, args=(job_id,)) for job_id in (7, 2**40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    qtbot.waitUntil(lambda: (7, 2000) in got and (2**40, 2000) in got, timeout=5000)
    for job_id in (7, 2**40):  # a 64-bit id arrives intact
        dones = [d for j, d in got if j == job_id]
        assert dones == sorted(dones) and dones[-1] == 2000
        assert len(dones) < 50  # throttled: 2000 reports in a fraction of a second
        assert 1 <= frames.count(job_id) < 20


def test_render_one_frame_changes_only_the_face(qtbot, pool, face_clip, speech, tmp_path) -> None:
    out = tmp_path / "never_written.mp4"
    settings = RenderSettings(face_clip, speech("a.wav", 1.0), out, model="draft", detector="haar")
    worker = CallWorker(render_one_frame, settings, 12)
    with qtbot.waitSignal(worker.signals.finished, timeout=30_000) as blocker:
        pool.start(worker)
    pair = blocker.args[0]
    assert pair.index == 12 and pair.face_found
    assert pair.before.shape == pair.after.shape == (160, 160, 3)
    changed = np.argwhere(np.abs(pair.after.astype(int) - pair.before.astype(int)).sum(2) > 8)
    assert len(changed) > 20  # the mouth moved …
    assert changed[:, 0].min() > 40  # … and nothing in the top quarter of the frame did
    assert not out.exists()
