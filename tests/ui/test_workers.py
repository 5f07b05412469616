"""app.engine.workers: real renders through QRunnables, throttled signals, the bridge."""

from __future__ import annotations

import threading
from pathlib import Path

import av
import numpy as np
import pytest
from PySide6.QtCore import QThreadPool

from app.engine.progress import FrameProgress
from app.engine.render.one_frame import render_one_frame
from app.engine.settings import RenderSettings
from app.engine.workers import (
    CallWorker,
    RenderWorker,
    SchedulerBridge,
    Throttle,
)
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


def test_throttle_lets_one_event_through_per_interval_and_forced_ones() -> None:
    now = [0.0]
    gate = Throttle(0.1, clock=lambda: now[0])
    passed = []
    for step in range(100):  # 1 s of events every 10 ms
        now[0] = step * 0.01
        passed.append(gate.ready(force=step == 99))
    assert passed[0] is True
    assert 9 <= sum(passed) <= 12
    assert passed[-1] is True  # the forced last one


def test_render_worker_emits_started_throttled_progress_previews_then_finished(
    qtbot, pool, face_clip, speech, tmp_path
) -> None:
    out = tmp_path / "out.mp4"
    settings = RenderSettings(
        face_clip,
        speech("a.wav", 4.0),
        out,
        model="draft",
        detector="haar",
        preset="ultrafast",
        track_cache=False,
    )
    worker = RenderWorker(settings)
    progress: list[FrameProgress] = []
    previews: list[np.ndarray] = []
    worker.signals.progress.connect(progress.append)
    worker.signals.preview.connect(previews.append)
    results: list = []
    worker.signals.finished.connect(results.append)
    with qtbot.waitSignals(
        [worker.signals.started, worker.signals.finished], order="strict", timeout=60_000
    ):
        pool.start(worker)
    (result,) = results
    assert result.output == out and result.frames == 100
    dones = [p.done for p in progress]
    assert dones == sorted(dones) and dones[-1] == 100 == progress[-1].total
    # ~10 a second: never one per frame (the render takes well under 10 s here).
    assert len(progress) < result.elapsed_s * 10 + 3 < 100
    assert all(p.preview is None for p in progress)  # frames travel on `preview` only
    assert previews and previews[0].ndim == 3 and previews[0].dtype == np.uint8
    frames, fps, has_audio = decoded_frames(out)
    assert (frames, fps, has_audio) == (100, 25.0, True)
    assert result.frames_with_face > 0  # a real face: the draft model did its work


def test_render_worker_cancel_leaves_no_file(qtbot, pool, pattern_clip, speech, tmp_path) -> None:
    out = tmp_path / "cancelled.mp4"
    settings = RenderSettings(
        pattern_clip,
        speech("long.wav", 20.0),
        out,
        model="draft",
        detector="haar",
        preset="ultrafast",
        track_cache=False,
    )
    worker = RenderWorker(settings)
    worker.signals.progress.connect(lambda _p: worker.cancel())
    finished: list[object] = []
    worker.signals.finished.connect(finished.append)
    with qtbot.waitSignals(
        [worker.signals.started, worker.signals.cancelled], order="strict", timeout=60_000
    ):
        pool.start(worker)
    assert not finished
    assert not out.exists() and not any_temp(out)


def test_render_worker_reports_bad_input_as_errored(qtbot, pool, tmp_path, speech) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 1000)
    worker = RenderWorker(RenderSettings(bad, speech("a.wav"), tmp_path / "o.mp4", model="draft"))
    with qtbot.waitSignal(worker.signals.errored, timeout=30_000) as blocker:
        pool.start(worker)
    assert "broken.mp4" in str(blocker.args[0])


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
