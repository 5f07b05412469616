"""`batch --engine ray` on a local Ray instance (started here, no network): the same
renders as the local scheduler, a worker killed mid-job, a driver killed mid-batch, an
input a node cannot see."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray")

from app.cli import main  # noqa: E402
from app.engine.farm import cluster  # noqa: E402
from app.engine.farm.runner import RayRunner  # noqa: E402
from app.engine.queue.jobstore import Job, JobSpec, JobStore  # noqa: E402
from app.engine.queue.scheduler import Scheduler, render_runner  # noqa: E402
from app.engine.render import media  # noqa: E402
from app.engine.settings import RenderSettings  # noqa: E402
from tests.support.farm import start_local_ray  # noqa: E402
from tests.support.media import (  # noqa: E402
    load_speech,
    stream_facts,  # noqa: E402
    talking_head_frames,
    write_clip,
    write_speech,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    """One local 2-CPU Ray instance for the module."""
    yield start_local_ray(tmp_path_factory.mktemp("ray-node-home"))
    ray.shutdown()


@pytest.fixture(scope="module")
def source_frames():
    return talking_head_frames(60, 192)


@pytest.fixture(scope="module")
def speech():
    return load_speech()


@pytest.fixture
def inputs(tmp_path, source_frames, speech) -> Path:
    """2 presenter clips (1 s, real faces) x 3 speech clips (0.6 s)."""
    folder = tmp_path / "in"
    write_clip(folder / "alice.mp4", source_frames[:25])
    write_clip(folder / "bob.mp4", source_frames[30:55])
    for name, start in (("hello", 1.0), ("bye", 4.0), ("thanks", 6.0)):
        write_speech(folder / f"{name}.wav", speech, start, 0.6)
    return folder


def batch(inputs: Path, out: Path, *extra: object) -> list[str]:
    argv = ["batch", "--videos", inputs / "*.mp4", "--audios", inputs / "*.wav"]
    return [str(a) for a in [*argv, "--out", out, "--model", "draft", *extra]]


def jobs() -> list[Job]:
    with JobStore() as store:
        return store.page(limit=1000, order="created")


def frames_of(path: Path) -> list[np.ndarray]:
    with media.open_video(path) as reader:
        return list(reader.frames())


def leftovers(folder: Path) -> list[str]:
    """Anything in an output folder that is not a finished .mp4 (temporary files)."""
    return sorted(p.name for p in folder.iterdir() if p.suffix != ".mp4" or p.name[0] == ".")


def render_queue(runner, slots: dict[str, int], specs: list[JobSpec]) -> list[Job]:
    with JobStore() as store:
        ids = store.add_many(specs)
        scheduler = Scheduler(store, runner, slots=slots, stall_timeout=120)
        scheduler.start()
        try:
            assert scheduler.run_until_idle(timeout=300)
        finally:
            scheduler.stop()
        return [store.get(job_id) for job_id in ids]


def test_six_jobs_render_on_ray_like_local_renders(ray_cluster, inputs, tmp_path, yunet_path):
    """Through the same Scheduler, once with the Ray runner (two jobs in flight), once
    with the local one. YuNet tracks the faces (what a fresh install uses)."""
    videos = sorted(inputs.glob("*.mp4"))
    audios = sorted(inputs.glob("*.wav"))

    def specs(out: Path) -> list[JobSpec]:
        out.mkdir()
        return [
            JobSpec(
                RenderSettings(
                    video,
                    audio,
                    out / f"{video.stem}_{audio.stem}.mp4",
                    model="draft",
                    detector="yunet",
                    detector_model=yunet_path,
                    track_cache=False,
                    reproducible=True,  # the same bytes wherever it renders
                )
            )
            for video in videos
            for audio in audios
        ]

    ray_jobs = render_queue(RayRunner(cpus_per_job=1), cluster.slots(1), specs(tmp_path / "ray"))
    local_jobs = render_queue(render_runner, {"cpu": 1}, specs(tmp_path / "local"))
    assert cluster.slots(1) == {"cpu": 2}  # two Ray jobs ran at once
    assert [j.state for j in ray_jobs + local_jobs] == ["done"] * 12
    for ours, theirs in zip(ray_jobs, local_jobs):
        assert ours.output.name == theirs.output.name
        mine, reference = frames_of(ours.output), frames_of(theirs.output)
        assert len(mine) == len(reference) == 15
        for a, b in zip(mine, reference):  # frame for frame: a reproducible render
            np.testing.assert_array_equal(a, b)
    assert leftovers(tmp_path / "ray") == []


def test_a_worker_killed_mid_job_is_retried_and_leaves_no_half_file(
    ray_cluster, inputs, tmp_path, speech
):
    long_audio = write_speech(inputs / "long.wav", speech, 0.0, 9.0)  # 225 frames
    out = tmp_path / "out"
    out.mkdir()
    store = JobStore()
    runner = RayRunner(cpus_per_job=1)
    settings = RenderSettings(inputs / "alice.mp4", long_audio, out / "long.mp4", model="draft")
    job_id = store.add_many([JobSpec(settings)])[0]
    scheduler = Scheduler(store, runner, slots=cluster.slots(1), stall_timeout=120)
    attempts: list[int] = []

    def kill_first_attempt() -> None:
        deadline = time.monotonic() + 120
        killed = False
        while time.monotonic() < deadline:
            seen = ray.get(runner.board.progress.remote(job_id))
            if seen is not None:
                if seen.attempt not in attempts:
                    attempts.append(seen.attempt)
                if not killed and 0 < seen.done < seen.total:
                    os.kill(seen.pid, signal.SIGKILL)  # the node's worker process dies
                    killed = True
                if seen.attempt > 1:
                    return
            time.sleep(0.2)

    killer = threading.Thread(target=kill_first_attempt)
    killer.start()
    scheduler.start()
    try:
        assert scheduler.run_until_idle(timeout=240)
    finally:
        scheduler.stop()
        killer.join()
        store.close()
    assert attempts[:2] == [1, 2], attempts
    (job,) = jobs()
    assert job.state == "done", job.error
    assert stream_facts(out / "long.mp4")["frames"] == 225
    assert leftovers(out) == []


def test_a_killed_driver_is_resumed_with_ray(ray_cluster, inputs, tmp_path, capsys):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    argv = batch(
        inputs, out, "--engine", "ray", "--ray-address", ray_cluster, "--ray-cpus-per-job", "1"
    )
    driver = subprocess.Popen(
        [sys.executable, "-m", "app", *argv],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and driver.poll() is None:
            if any(job.state == "done" for job in jobs()):
                break
            time.sleep(0.2)
        assert driver.poll() is None, driver.stderr.read() if driver.stderr else ""
        driver.send_signal(signal.SIGKILL)  # a crash: no cleanup at all
        driver.wait(30)
    finally:
        if driver.poll() is None:
            driver.kill()
        if driver.stderr:
            driver.stderr.close()
    assert any(job.state != "done" for job in jobs())  # it really died mid-batch

    code = main(["batch", "--resume", "--engine", "ray", "--ray-cpus-per-job", "1"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert [job.state for job in jobs()] == ["done"] * 6
    for job in jobs():
        assert stream_facts(job.output)["frames"] == 15
    assert leftovers(out) == []


def test_an_input_a_node_cannot_see_fails_only_that_job(ray_cluster, inputs, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(batch(inputs, out, "--queue-only")) == 0
    (inputs / "bye.wav").unlink()  # gone from the shared folder after queueing

    code = main(["batch", "--resume", "--engine", "ray", "--ray-cpus-per-job", "1"])
    err = capsys.readouterr().err
    assert code == 1, err
    states = {(job.video.name, job.audio.name): job for job in jobs()}
    failed = [key for key, job in states.items() if job.state == "failed"]
    assert sorted(failed) == [("alice.mp4", "bye.wav"), ("bob.mp4", "bye.wav")]
    for key in failed:
        error = states[key].error or ""
        assert "bye.wav" in error and "not visible on node" in error, error
        assert states[key].attempts == 1  # bad input: not retried
    assert sum(job.state == "done" for job in jobs()) == 4
    assert "Traceback" not in err


def test_without_engine_ray_ray_is_never_imported(inputs, tmp_path):
    code = (
        "import sys\n"
        "from app.cli import main\n"
        f"code = main(['batch', '--videos', {str(inputs / 'alice.mp4')!r}, '--audios',"
        f" {str(inputs / 'hello.wav')!r}, '--out', {str(tmp_path / 'o')!r}, '--model', 'draft'])\n"
        "assert code == 0, code\n"
        "assert not any(m.split('.')[0] == 'ray' for m in sys.modules), 'ray imported'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_task_stops_once_its_driver_is_gone(ray_cluster):
    """The board dies with its driver; a task watching it cancels its render (and so
    cleans up) instead of finishing or being killed mid-write by Ray later."""
    from app.engine.farm.board import ProgressBoard
    from app.engine.farm.task import watch_driver

    board = ProgressBoard.remote()
    cancel, stop = threading.Event(), threading.Event()
    watcher = threading.Thread(target=watch_driver, args=(board, cancel, stop), daemon=True)
    watcher.start()
    try:
        assert not cancel.wait(2.0)  # a live driver: the render goes on
        ray.kill(board)
        assert cancel.wait(30.0)
    finally:
        stop.set()
        watcher.join(30)
