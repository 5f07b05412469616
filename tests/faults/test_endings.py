"""How a render or a batch ends when something outside it happens (issue 11, items 2-6, 13):
another render to the same output, a file appearing at a job's output, SIGTERM/SIGHUP,
a full disk, a writer that cannot open. Real renders of tiny PyAV-made media; the CLI
in a subprocess where a signal or a resource limit is the point.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.cli import main
from app.engine import outputs
from app.engine.errors import InputError
from app.engine.queue.jobstore import JobStore
from app.engine.render.pipeline import iter_render, render
from app.engine.settings import RenderSettings
from tests.support.leftovers import any_temp
from tests.support.media import stream_facts
from tests.support.mediagen import make_audio, make_video

REPO = Path(__file__).resolve().parents[2]


def settings(folder: Path, **kw: object) -> RenderSettings:
    base: dict = dict(
        video=folder / "talk.mp4",
        audio=folder / "voice.wav",
        output=folder / "out.mp4",
        model="draft",
        detector="haar",
        track_cache=False,
    )
    return RenderSettings(**{**base, **kw})


@pytest.fixture
def talk(tmp_path: Path) -> Path:
    """talk.mp4 (1 s, 64x48) and voice.wav (2 s) in tmp_path."""
    make_video(tmp_path / "talk.mp4", 64, 48, 25, 1.0, audio=False)
    make_audio(tmp_path / "voice.wav", 2.0)
    return tmp_path


def cli(folder: Path, *argv: str, **popen: object) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.Popen(
        [sys.executable, "-B", "-m", "app", *argv],
        cwd=folder,
        env={**env, "PYTHONPATH": str(REPO)},
        stderr=subprocess.PIPE,
        text=True,
        **popen,  # type: ignore[arg-type]
    )


def wait_for_temp(proc: subprocess.Popen, output: Path, timeout: float = 120) -> None:
    """Until the render has written into its temporary file (it is mid-render then)."""
    deadline = time.monotonic() + timeout
    while not any(_size(p) > 0 for p in outputs.temps_of(output)):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the render never started writing"
        time.sleep(0.02)


def _size(path: Path) -> int:
    """0 for a temporary that went meanwhile (check_output_path's writability probe is
    made and removed at once)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


# -- item 2: a file appears at the output while rendering -----------------------------------


def test_a_file_that_appears_at_the_output_is_kept_and_the_render_takes_the_next_name(talk):
    job = iter_render(settings(talk))
    next(job)  # mid-render: its frames go to its own temporary file
    (talk / "out.mp4").write_bytes(b"another render finished first")
    while True:
        try:
            next(job)
        except StopIteration as done:
            result = done.value
            break
    assert (talk / "out.mp4").read_bytes() == b"another render finished first"
    assert result.output == talk / "out_2.mp4" and stream_facts(result.output)["frames"] == 50
    assert any("out.mp4: a file is there" in w and "out_2.mp4" in w for w in result.warnings)
    assert not any_temp(talk / "out.mp4")


def test_overwrite_asked_replaces_atomically_what_appeared(talk):
    job = iter_render(settings(talk, if_exists="replace"))
    next(job)
    (talk / "out.mp4").write_bytes(b"replaced on purpose")
    for _ in job:
        pass
    assert stream_facts(talk / "out.mp4")["frames"] == 50
    assert sorted(p.name for p in talk.iterdir()) == ["out.mp4", "talk.mp4", "voice.wav"]


def test_two_renders_to_one_output_at_once_both_finish_and_both_files_play(talk):
    """Two terminals, one -o: each has its own temporary file; nothing crashes, every
    file left is a whole video (the second keeps the first's as out_2 or replaces it,
    depending on whether it was already there when it started)."""
    argv = ("render", "--video", "talk.mp4", "--audio", "voice.wav", "-o", "out.mp4")
    argv += ("--model", "draft", "--detector", "haar", "--no-track-cache")
    first, second = cli(talk, *argv), cli(talk, *argv)
    errors = [p.communicate(timeout=120)[1] for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], errors
    assert not any("Traceback" in e for e in errors), errors
    videos = sorted(talk.glob("out*.mp4"))
    assert videos and all(stream_facts(v)["frames"] == 50 for v in videos)
    assert not any_temp(talk / "out.mp4")


# -- item 3: batch never overwrites a file that took a job's name after queueing --------------


def test_batch_resume_keeps_a_file_copied_to_a_queued_jobs_output(talk, capsys):
    base = ("batch", "--videos", str(talk / "talk.mp4"), "--audios", str(talk / "voice.wav"))
    assert main([*base, "--out", str(talk / "renders"), "--queue-only", "--detector", "haar"]) == 0
    with JobStore() as store:
        (job,) = store.page()
    job.output.write_bytes(b"copied here before --resume")
    assert main(["batch", "--resume"]) == 0, capsys.readouterr().err
    with JobStore() as store:
        done = store.get(job.id)
    assert done is not None and done.state == "done"
    assert job.output.read_bytes() == b"copied here before --resume"
    assert done.output == job.output.with_name("talk_voice_2.mp4")
    assert stream_facts(done.output)["frames"] == 50


def test_queue_retry_of_a_done_job_keeps_its_first_output(talk, capsys):
    base = ("batch", "--videos", str(talk / "talk.mp4"), "--audios", str(talk / "voice.wav"))
    assert main([*base, "--out", str(talk / "renders"), "--detector", "haar"]) == 0
    with JobStore() as store:
        (job,) = store.page()
    first = job.output.read_bytes()
    assert main(["queue", "retry", str(job.id)]) == 0
    assert main(["batch", "--resume"]) == 0, capsys.readouterr().err
    with JobStore() as store:
        again = store.get(job.id)
    assert again is not None and again.state == "done" and again.output != job.output
    assert job.output.read_bytes() == first  # the earlier render is untouched
    assert stream_facts(again.output)["frames"] == 50


# -- item 4: SIGTERM and SIGHUP end a render as Ctrl-C does ---------------------------------


@pytest.fixture
def long_talk(tmp_path: Path) -> Path:
    """A render of a few seconds: 320x240 video, 60 s of audio."""
    make_video(tmp_path / "talk.mp4", 320, 240, 25, 2.0, audio=False)
    make_audio(tmp_path / "voice.wav", 60.0)
    return tmp_path


@pytest.mark.parametrize(
    "sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]
)
def test_a_stop_signal_ends_a_render_with_128_plus_its_number(long_talk, sig, code):
    out = long_talk / "out.mp4"
    proc = cli(long_talk, "render", "--video", "talk.mp4", "--audio", "voice.wav", "-o", "out.mp4")
    wait_for_temp(proc, out)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err and f"interrupted ({sig.name})" in err
    assert sorted(p.name for p in long_talk.iterdir()) == ["talk.mp4", "voice.wav"]


def test_sigterm_puts_a_running_batch_job_back_in_the_queue(long_talk):
    out = long_talk / "renders"
    proc = cli(
        long_talk,
        "batch",
        "--videos",
        "talk.mp4",
        "--audios",
        "voice.wav",
        "--out",
        "renders",
    )
    wait_for_temp(proc, out / "talk_voice.mp4")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "batch --resume" in err
    with JobStore() as store:
        (job,) = store.page()
    assert job.state == "queued"
    assert list(out.iterdir()) == []


# -- item 5: an output path that is a folder -------------------------------------------------


def test_an_output_folder_is_refused_before_any_decoding(talk):
    (talk / "out.mp4").mkdir()
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"out\.mp4: is a folder"):
        render(settings(talk))
    assert time.perf_counter() - started < 5
    assert list((talk / "out.mp4").iterdir()) == []


# -- item 6: a full disk ------------------------------------------------------------------------


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))


def test_a_file_size_limit_is_one_line_and_leaves_nothing(long_talk):
    """RLIMIT_FSIZE: the kernel refuses writes past 20 kB (EFBIG), as a full disk does."""
    (long_talk / "voice.wav").unlink()
    make_audio(long_talk / "voice.wav", 4.0)
    proc = cli(
        long_talk,
        *("render", "--video", "talk.mp4", "--audio", "voice.wav", "-o", "out.mp4"),
        *("--model", "draft", "--detector", "haar", "--no-track-cache"),
        preexec_fn=_limit_file_size,
    )
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    lines = [line for line in err.replace("\r", "\n").splitlines() if "error" in line]
    assert lines == [
        "lipsync-studio: error: out.mp4: file too large for this disk or the process's size limit"
    ]
    assert sorted(p.name for p in long_talk.iterdir()) == ["talk.mp4", "voice.wav"]


def _can_mount_tmpfs(folder: Path) -> bool:
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)])
    return done.returncode == 0


def test_a_full_disk_is_one_line_naming_the_output(long_talk):
    talk = long_talk
    full = talk / "full"
    if os.geteuid() != 0 or not _can_mount_tmpfs(full):
        pytest.skip("needs root to mount a 64 kB tmpfs (the size-limit test covers the rest)")
    try:
        proc = cli(
            talk,
            *("render", "--video", "talk.mp4", "--audio", "voice.wav", "-o", "full/out.mp4"),
            *("--model", "draft", "--detector", "haar", "--no-track-cache"),
        )
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, err
        assert "full/out.mp4: no space left on the device" in err and "Traceback" not in err
        assert list(full.iterdir()) == []
    finally:
        subprocess.run(["umount", str(full)], check=True)


# -- item 13: a writer that fails to open starts no thread ---------------------------------------


def test_a_writer_that_cannot_open_leaves_no_thread_and_no_file(talk):
    before = {t.ident for t in threading.enumerate()}
    with pytest.raises(InputError, match="preset"):
        render(settings(talk, preset="warp-speed"))
    leftover = [t.name for t in threading.enumerate() if t.ident not in before]
    assert leftover == []
    assert sorted(p.name for p in talk.iterdir()) == ["talk.mp4", "voice.wav"]


# -- item 14: a reader that leaves early --------------------------------------------------------


@pytest.mark.parametrize("argv", [("models", "list"), ("queue", "list")])
def test_a_closed_pipe_ends_quietly(tmp_path, argv):
    """`lipsync-studio models list | head -2`: the reader leaves before the first line."""
    if argv[0] == "queue":  # a queue with jobs, so there is a table to print
        make_video(tmp_path / "talk.mp4", 64, 48, 25, 1.0, audio=False)
        make_audio(tmp_path / "voice.wav", 1.0)
        base = ("batch", "--videos", str(tmp_path / "talk.mp4"), "--audios")
        assert (
            main([*base, str(tmp_path / "voice.wav"), "--out", str(tmp_path), "--queue-only"]) == 0
        )
    read_end, write_end = os.pipe()
    os.close(read_end)  # `head` has already exited
    proc = cli(tmp_path, *argv, stdout=write_end)
    os.close(write_end)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 141, err  # 128 + SIGPIPE, as a process killed by it
    assert err == ""


def test_a_damaged_video_prints_no_ffmpeg_log_lines(tmp_path):
    """FFmpeg's own warnings ("error while decoding MB 3 2", "corrupted macroblock …", one
    per damaged frame) would go to stderr: checked in a subprocess, where they would show.
    Every line must be one of ours."""
    from tests.faults.makers import bit_rot

    bit_rot(tmp_path)
    make_audio(tmp_path / "voice.wav", 2.0)  # long enough to decode every damaged frame
    proc = cli(
        tmp_path,
        *("render", "--video", "talk.mkv", "--audio", "voice.wav", "-o", "out.mp4"),
        *("--model", "draft", "--detector", "haar", "--no-track-cache"),
    )
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 2), err
    ours = ("out.mp4 [", "out.mp4: ", "warning: ", "WARNING app.", "lipsync-studio: error: ")
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    assert all(line.startswith(ours) for line in lines), err
