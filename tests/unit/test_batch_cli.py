"""`lipsync-studio batch` and `queue` on real renders: names, pairing, priorities, cancel,
a crash and --resume, a stalled job."""

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

from app.cli import main
from app.engine import outputs
from app.engine.errors import InputError
from app.engine.logs import shutdown_logging
from app.engine.models.lipsync.draft import DraftModel
from app.engine.queue.batch_plan import (
    check_name_template,
    expand_globs,
    pair_by_name,
    plan_outputs,
)
from app.engine.queue.joblog import read_events
from app.engine.queue.jobstore import Job, JobSpec, JobStore
from app.engine.queue.scheduler import Scheduler, result_fields
from app.engine.render.pipeline import render
from app.engine.settings import RenderSettings
from tests.support.leftovers import any_temp
from tests.support.media import (
    load_speech,
    stream_facts,
    talking_head_frames,
    write_clip,
    write_speech,
)

REPO = Path(__file__).resolve().parents[2]
POLL_S = 0.02


@pytest.fixture(scope="module")
def source_frames() -> list[np.ndarray]:
    return talking_head_frames(60, 192)


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return load_speech()


@pytest.fixture(autouse=True)
def detach_json_log():
    """`batch` sets up the JSON-lines log in this test's home: take it down after."""
    yield
    shutdown_logging()


@pytest.fixture
def inputs(tmp_path, source_frames, speech) -> Path:
    """in/alice.mp4, in/bob.mp4 (1 s, real faces) and in/hello.wav, in/bye.wav (0.6 s)."""
    folder = tmp_path / "in"
    write_clip(folder / "alice.mp4", source_frames[:25])
    write_clip(folder / "bob.mp4", source_frames[30:55])
    write_speech(folder / "hello.wav", speech, 1, 0.6)
    write_speech(folder / "bye.wav", speech, 4, 0.6)
    return folder


def cli(capsys, *argv: object) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def batch_args(inputs: Path, out: Path, *extra: object) -> list[object]:
    return [
        "batch",
        "--videos",
        inputs / "*.mp4",
        "--audios",
        inputs / "hello.wav",
        inputs / "bye.wav",
        "--out",
        out,
        "--model",
        "draft",
        *extra,
    ]


def all_jobs() -> list[Job]:
    with JobStore() as store:
        return store.page(limit=1000, order="created")


# -- names and pairing --------------------------------------------------------------------


def test_outputs_never_collide_and_existing_files_are_kept(inputs, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "alice_hello.mp4").write_bytes(b"an earlier render: keep me")

    code, err = cli(capsys, *batch_args(inputs, out))
    assert code == 0, err
    names = {p.name for p in out.iterdir()}
    assert names == {
        "alice_hello.mp4",
        "alice_hello_2.mp4",
        "alice_bye.mp4",
        "bob_hello.mp4",
        "bob_bye.mp4",
    }
    assert (out / "alice_hello.mp4").read_bytes() == b"an earlier render: keep me"
    for job in all_jobs():
        assert job.state == "done" and stream_facts(job.output)["frames"] == 15
    assert err.count("done") >= 4 and "batch: 4 done, 0 failed" in err

    # The default runner renders through the track cache and logs stage timings.
    results = [e["result"] for e in read_events(event="job_finish")]
    assert [r["output"] for r in results] == [str(j.output) for j in all_jobs()]
    assert [r["detections"] > 0 for r in results] == [True, False, True, False]
    assert all(r["stages"]["encode"]["items"] == 15 for r in results)

    # Again: every name is taken now, by a file or by the first job of this very batch.
    code, err = cli(capsys, *batch_args(inputs, out, "--name", "{video}.mp4"))
    assert code == 0, err
    assert {p.name for p in out.iterdir()} - names == {
        "alice.mp4",
        "alice_2.mp4",
        "bob.mp4",
        "bob_2.mp4",
    }


def test_a_job_without_a_face_is_done_with_a_warning(inputs, tmp_path, source_frames, capsys):
    blank = [np.full_like(source_frames[0], 90) for _ in range(25)]
    write_clip(inputs / "wall.mp4", blank)
    code, err = cli(
        capsys,
        *("batch", "--videos", inputs / "alice.mp4", inputs / "wall.mp4"),
        *("--audios", inputs / "hello.wav", "--out", tmp_path / "out", "--model", "draft"),
    )
    assert code == 0, err
    jobs = {job.video.name: job for job in all_jobs()}
    wall, alice = jobs["wall.mp4"], jobs["alice.mp4"]
    assert wall.outcome == "done-with-warning" and wall.coverage is not None
    assert wall.coverage.text == "face in 0 of 15 frames" and "no face" in (wall.warning or "")
    assert alice.outcome == "done" and alice.warning is None
    assert f"warning: wall.mp4: {wall.warning}" in err
    assert "face in 0 of 15 frames" in err
    assert main(["queue", "list"]) == 0
    assert "done-with-warning" in capsys.readouterr().out


def test_overwrite_replaces_an_existing_file_but_never_an_input(inputs, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "alice_hello.mp4").write_bytes(b"stale")
    code, err = cli(
        capsys,
        "batch",
        "--videos",
        inputs / "alice.mp4",
        "--audios",
        inputs / "hello.wav",
        "--out",
        out,
        "--model",
        "draft",
        "--overwrite",
    )
    assert code == 0, err
    assert [p.name for p in out.iterdir()] == ["alice_hello.mp4"]
    assert stream_facts(out / "alice_hello.mp4")["frames"] == 15

    before = (inputs / "alice.mp4").read_bytes()
    code, err = cli(
        capsys,
        "batch",
        "--videos",
        inputs / "alice.mp4",
        "--audios",
        inputs / "hello.wav",
        "--out",
        inputs,
        "--name",
        "{video}.mp4",
        "--overwrite",
        "--queue-only",
    )
    assert code == 0, err
    assert all_jobs()[-1].output == inputs / "alice_2.mp4"
    assert (inputs / "alice.mp4").read_bytes() == before


def test_names_queued_but_not_yet_rendered_are_taken_too(inputs, tmp_path, capsys):
    out = tmp_path / "out"
    for _ in range(2):
        code, err = cli(capsys, *batch_args(inputs, out, "--queue-only"))
        assert code == 0, err
    outputs = [j.output.name for j in all_jobs()]
    assert outputs == [
        "alice_hello.mp4",
        "alice_bye.mp4",
        "bob_hello.mp4",
        "bob_bye.mp4",
        "alice_hello_2.mp4",
        "alice_bye_2.mp4",
        "bob_hello_2.mp4",
        "bob_bye_2.mp4",
    ]
    assert not any(out.iterdir())  # queued only: nothing rendered


def test_plan_outputs_rules(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"")
    outputs.create_temp(tmp_path / "b.mp4")  # being written by someone
    planned = plan_outputs(
        ["a.mp4", "A.mp4", "b.mp4", "c.mp4", "c.mp4", "d.mp4"], tmp_path, taken=[tmp_path / "d.mp4"]
    )
    assert [p.name for p in planned] == [
        "a_2.mp4",
        "A_3.mp4",
        "b_2.mp4",
        "c.mp4",
        "c_2.mp4",
        "d_2.mp4",
    ]
    planned = plan_outputs(["a.mp4", "a.mp4"], tmp_path, overwrite=True)
    assert [p.name for p in planned] == ["a.mp4", "a_2.mp4"]


def test_by_name_pairing(tmp_path, inputs, capsys):
    videos = [Path(f"v/{n}.mp4") for n in ("alice", "al", "bob", "dave")]
    audios = [
        Path(f"a/{n}")
        for n in ("alice.wav", "alice_take2.wav", "Bob-intro.mp3", "carol.wav", "alfred.wav")
    ]
    pairs, lonely_videos, lonely_audios = pair_by_name(videos, audios)
    assert [(v.stem, a.name) for v, a in pairs] == [
        ("alice", "alice.wav"),
        ("alice", "alice_take2.wav"),
        ("al", "alfred.wav"),
        ("bob", "Bob-intro.mp3"),
    ]
    assert lonely_videos == [Path("v/dave.mp4")] and lonely_audios == [Path("a/carol.wav")]

    (inputs / "bye.wav").rename(inputs / "bob_bye.wav")
    (inputs / "hello.wav").rename(inputs / "alice-hello.wav")
    code, err = cli(
        capsys,
        "batch",
        "--videos",
        inputs / "*.mp4",
        "--audios",
        inputs / "*.wav",
        "--pair",
        "by-name",
        "--out",
        tmp_path / "out",
        "--model",
        "draft",
    )
    assert code == 0, err
    assert [(j.video.name, j.audio.name, j.output.name, j.state) for j in all_jobs()] == [
        ("alice.mp4", "alice-hello.wav", "alice_alice-hello.mp4", "done"),
        ("bob.mp4", "bob_bye.wav", "bob_bob_bye.mp4", "done"),
    ]

    (inputs / "zed.wav").write_bytes((inputs / "bob_bye.wav").read_bytes())
    code, err = cli(
        capsys,
        "batch",
        "--videos",
        inputs / "*.mp4",
        "--audios",
        inputs / "zed.wav",
        "--pair",
        "by-name",
        "--out",
        tmp_path / "out",
    )
    assert code == 2 and "by-name" in err and "zed.wav" in err


@pytest.mark.parametrize(
    "argv, named",
    [
        (["--videos", "{in}/*.mov", "--audios", "{in}/*.wav"], "*.mov"),
        (
            ["--videos", "{in}/*.mp4", "--audios", "{in}/hello.wav", "{in}/missing.wav"],
            "missing.wav",
        ),
        (["--videos", "{in}/*.mp4"], "--audios"),
        (
            ["--videos", "{in}/*.mp4", "--audios", "{in}/*.wav", "--name", "{speaker}.mp4"],
            "{speaker}",
        ),
        (["--videos", "{in}/*.mp4", "--audios", "{in}/*.wav", "--name", "{video}.mov"], ".mp4"),
        (["--videos", "{in}/*.mp4", "--audios", "{in}/*.wav", "--name", "x/{video}.mp4"], "x/"),
        (["--videos", "{in}/*.mp4", "--audios", "{in}/*.wav", "--crf", "99"], "--crf"),
        (["--resume", "--videos", "{in}/*.mp4"], "--resume"),
    ],
)
def test_bad_batch_input_exits_2_and_queues_nothing(argv, named, inputs, tmp_path, capsys):
    args = [a.replace("{in}", str(inputs)) for a in argv]
    if "--resume" not in args:
        args += ["--out", str(tmp_path / "out")]
    code, err = cli(capsys, "batch", *args)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and named in lines[0], err
    assert all_jobs() == [] and not (tmp_path / "out").exists()


# -- priorities, cancel and retry through the queue command ------------------------------


def test_priorities_cancel_retry_and_clear_through_the_cli(inputs, tmp_path, capsys):
    out = tmp_path / "out"

    def add(audio: str, priority: int) -> None:
        code, err = cli(
            capsys,
            "batch",
            "--videos",
            inputs / "alice.mp4",
            "--audios",
            inputs / audio,
            "--out",
            out,
            "--model",
            "draft",
            "--priority",
            priority,
            "--queue-only",
        )
        assert code == 0, err

    add("hello.wav", 0)  # job 1
    add("bye.wav", 5)  # job 2: runs first
    add("hello.wav", 0)  # job 3: cancelled before it runs
    assert cli(capsys, "queue", "cancel", 3) == (0, "job 3: cancelled\n")
    code, err = cli(capsys, "queue", "cancel", 99)
    assert code == 2 and "no job 99" in err

    code, err = cli(capsys, "batch", "--resume")
    assert code == 0, err
    jobs = {j.id: j for j in all_jobs()}
    assert [jobs[i].state for i in (1, 2, 3)] == ["done", "done", "cancelled"]
    assert jobs[2].started < jobs[1].started  # priority 5 before priority 0
    assert err.index("job 2: rendering") < err.index("job 1: rendering")
    assert not jobs[3].output.exists() and jobs[3].output.name == "alice_hello_2.mp4"

    code, err = cli(capsys, "queue", "cancel", 1)
    assert code == 1 and "done" in err
    capsys.readouterr()
    assert main(["queue", "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split() == [
        "ID",
        "STATE",
        "PRIORITY",
        "PROGRESS",
        "VIDEO",
        "AUDIO",
        "OUTPUT",
        "ERROR",
    ]
    rows = [line.split() for line in listing[1:]]
    assert [r[:4] for r in rows] == [
        ["2", "done", "5", "15/15"],
        ["1", "done", "0", "15/15"],
        ["3", "cancelled", "0", "-"],
    ]
    assert rows[0][4:7] == ["alice.mp4", "bye.wav", str(out / "alice_bye.mp4")]

    assert cli(capsys, "queue", "retry", 3)[0] == 0
    code, err = cli(capsys, "batch", "--resume")
    assert code == 0 and "job 3: done" in err, err
    assert stream_facts(out / "alice_hello_2.mp4")["frames"] == 15

    assert cli(capsys, "queue", "clear-done") == (0, "removed 3 done job(s) from the queue\n")
    assert all_jobs() == []


def test_queue_cancel_of_a_running_job_stops_it_and_leaves_no_output(
    inputs, speech, tmp_path, capsys
):
    long_audio = write_speech(tmp_path / "long.wav", speech, 0, 8.0)  # 200 frames
    out = tmp_path / "out"
    code, err = cli(
        capsys,
        "batch",
        "--videos",
        inputs / "alice.mp4",
        "--audios",
        long_audio,
        inputs / "hello.wav",
        "--out",
        out,
        "--model",
        "draft",
        "--queue-only",
    )
    assert code == 0, err
    codes: list[int] = []
    runner = threading.Thread(target=lambda: codes.append(main(["batch", "--resume"])))
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while True:
            job = all_jobs()[0]
            if job.state == "running" and 0 < job.done < job.total // 2:
                break
            assert job.state in ("queued", "running") and time.monotonic() < deadline, job
            time.sleep(POLL_S)
        assert main(["queue", "cancel", str(job.id)]) == 0
    finally:
        runner.join(60)
    assert codes == [0]
    first, second = all_jobs()
    assert (first.state, second.state) == ("cancelled", "done")
    assert sorted(p.name for p in out.iterdir()) == [second.output.name]
    assert "job 1: cancelled" in capsys.readouterr().err


# -- a crash, then --resume (the acceptance test) --------------------------------


def test_a_killed_batch_resumes_and_keeps_what_was_finished(tmp_path, source_frames, speech):
    folder = tmp_path / "in"
    write_clip(folder / "presenter.mp4", source_frames[:25])
    for k in range(5):
        write_speech(folder / f"take{k}.wav", speech, 1.5 * k, 2.4)  # 60 frames each
    out = tmp_path / "out"
    stderr = (tmp_path / "batch-stderr.txt").open("w")
    home = os.environ["LIPSYNC_STUDIO_HOME"]  # this test's own (conftest)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app",
            "batch",
            "--videos",
            str(folder / "presenter.mp4"),
            "--audios",
            str(folder / "take*.wav"),
            "--out",
            str(out),
            "--model",
            "draft",
        ],
        cwd=REPO,
        stderr=stderr,
        stdout=subprocess.DEVNULL,
        env=dict(os.environ, LIPSYNC_STUDIO_HOME=home, PYTHONUNBUFFERED="1"),
    )
    store = JobStore()
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "batch-stderr.txt").read_text()
            assert time.monotonic() < deadline, "no job was caught mid-render"
            jobs = store.page(limit=100, order="created")
            finished = [j for j in jobs if j.state == "done"]
            mid_render = [
                j
                for j in jobs
                if j.state == "running" and any_temp(j.output) and j.done < j.total // 2
            ]
            if finished and mid_render:
                break
            time.sleep(POLL_S)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        store.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stderr.close()

    killed_mid = mid_render[0]
    assert any_temp(killed_mid.output)  # the crash left a half-written file …
    assert [j.state for j in all_jobs() if j.id == killed_mid.id] == ["running"]  # … and a job
    kept = {p: p.read_bytes() for p in out.glob("*.mp4")}
    assert {j.output for j in finished} <= set(kept)

    done = subprocess.run(
        [sys.executable, "-m", "app", "batch", "--resume"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "resuming 1 interrupted job(s)" in done.stderr
    jobs = all_jobs()
    assert len(jobs) == 5 and all(j.state == "done" for j in jobs), jobs
    assert not list(out.rglob("*.part"))
    assert {p: p.read_bytes() for p in kept} == kept  # finished before the kill: untouched
    assert sorted(p.name for p in out.iterdir()) == sorted(j.output.name for j in jobs)
    for job in jobs:
        assert stream_facts(job.output)["frames"] == 60


# -- a stalled job --------------------------------------------------------------------------


class BlockingDraft(DraftModel):
    """The draft model, except that infer() hangs until `release` is set (a hung GPU)."""

    def __init__(self, release: threading.Event) -> None:
        super().__init__()
        self.release = release

    def infer(self, crops, mels, indices):
        self.release.wait()
        return super().infer(crops, mels, indices)


def test_a_stalled_job_is_failed_and_the_next_job_still_renders(inputs, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    release = threading.Event()
    let_go = threading.Event()  # the hung runner returned at last
    hung_id: list[int] = []

    def runner(job, on_progress, cancel):
        hung = job.id == hung_id[0]
        model = BlockingDraft(release) if hung else None
        try:
            return result_fields(
                render(job.to_settings(), on_progress=on_progress, cancel=cancel, model=model)
            )
        finally:
            if hung:
                let_go.set()

    def settings(audio: str, name: str) -> RenderSettings:
        return RenderSettings(
            video=inputs / "alice.mp4",
            audio=inputs / audio,
            output=out / name,
            model="draft",
            detector="haar",
        )

    store = JobStore()
    scheduler = Scheduler(
        store,
        runner,
        slots={"cpu": 1},
        stall_timeout=1.5,
        max_retries=0,
        poll_interval=0.05,
        cancel_grace=0.3,
    )
    try:
        hung_id[:] = store.add_many(
            [JobSpec(settings("hello.wav", "hung.mp4")), JobSpec(settings("bye.wav", "next.mp4"))]
        )[:1]
        scheduler.start()
        assert scheduler.run_until_idle(timeout=60)
        hung, nxt = store.get(hung_id[0]), store.get(hung_id[0] + 1)
        assert hung.state == "failed" and "stalled" in hung.error
        assert nxt.state == "done" and stream_facts(nxt.output)["frames"] == 15
        assert scheduler.abandoned_workers == 1  # it ignored its cancel while hung: a fresh worker
        assert [p.name for p in out.iterdir() if p.name != "next.mp4"] == [
            p.name for p in outputs.temps_of(out / "hung.mp4")
        ]
    finally:
        release.set()
        assert let_go.wait(30)
        scheduler.stop()
        store.close()
    assert sorted(p.name for p in out.iterdir()) == ["next.mp4"]  # its temporary went with it


def test_a_job_cancelled_elsewhere_just_as_it_finishes_leaves_no_output(inputs, tmp_path):
    """`queue cancel` landing after the last frame's report: the render completes, but a
    cancelled job keeps no output."""
    store = JobStore()

    def runner(job, on_progress, cancel):
        result = render(job.to_settings(), on_progress=on_progress, cancel=cancel)
        assert job.output.exists()
        with JobStore() as other_process:
            assert other_process.cancel(job.id)
        return result_fields(result)

    events: list[tuple[int, str]] = []
    scheduler = Scheduler(
        store,
        runner,
        slots={"cpu": 1},
        poll_interval=0.05,
        on_job_event=lambda job_id, state: events.append((job_id, state)),
    )
    try:
        (job_id,) = store.add_many(
            [
                RenderSettings(
                    video=inputs / "alice.mp4",
                    audio=inputs / "hello.wav",
                    output=tmp_path / "o.mp4",
                    model="draft",
                    detector="haar",
                )
            ]
        )
        scheduler.start()
        assert scheduler.run_until_idle(timeout=60)
    finally:
        scheduler.stop()
        store.close()
    assert events == [(job_id, "running"), (job_id, "cancelled")]
    assert [p.name for p in tmp_path.iterdir() if p.suffix in (".mp4", ".part")] == []


def test_the_engines_batch_messages_name_the_value_not_a_front_ends_option(tmp_path) -> None:
    """The window shows these too: the CLI adds its option name, the engine never does."""
    with pytest.raises(InputError, match=r"^\{speaker\}\.mp4: unknown field \{speaker\}"):
        check_name_template("{speaker}.mp4")
    with pytest.raises(InputError, match=r"^.*nothing-\*\.wav: matches no file$"):
        expand_globs([str(tmp_path / "nothing-*.wav")])
