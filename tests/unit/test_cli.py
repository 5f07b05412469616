"""The command line as a user meets it: bad input, exit codes, Ctrl-C, probe JSON."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from app.cli import main
from app.engine import outputs
from app.engine.render import media
from tests.unit.test_pipeline import PORTRAIT_VIDEO, SPEECH, stream_facts, write_wav

REPO = Path(__file__).resolve().parents[2]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def clip(shared_media, tmp_path) -> Path:
    """A 1 s, 25 fps copy of a real talking-head clip (own copy: inputs can be checked)."""
    path = tmp_path / "in" / "clip.mp4"
    path.parent.mkdir()
    with media.open_video(shared_media / PORTRAIT_VIDEO) as reader:
        frames = [f for _, f in zip(range(25), reader.frames())]
    with media.VideoWriter(
        path, 512, 512, 25.0, preset="ultrafast", audio_path=shared_media / SPEECH
    ) as w:
        for f in frames:
            w.write(f)
    return path


@pytest.fixture
def speech(shared_media, tmp_path) -> Path:
    (tmp_path / "in").mkdir(exist_ok=True)
    return write_wav(
        tmp_path / "in" / "speech.wav", media.load_audio(shared_media / SPEECH)[16000:32000]
    )


def run_cli(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def render_args(video, audio, out):
    return ["render", "--video", video, "--audio", audio, "-o", out, "--model", "draft"]


def bad_inputs(tmp: Path, clip: Path, speech: Path, shared: Path) -> dict[str, tuple]:
    """name -> (video, audio, output, the file the message must name)."""
    bad = tmp / "bad"
    bad.mkdir()
    (bad / "empty.mp4").write_bytes(b"")
    (bad / "notes.mp4").write_text("these are my notes, not a video\n" * 20)
    data = clip.read_bytes()
    (bad / "truncated.mp4").write_bytes(data[: len(data) * 6 // 10])
    short = write_wav(bad / "short.wav", np.full(3200, 0.1, np.float32))  # 0.2 s
    noaudio = shared / "video/v08_liveportrait_d13_man_selfie_720x1280_noaudio.mp4"
    out = tmp / "out" / "result.mp4"
    readonly = Path("/proc/lipsync-out.mp4") if os.geteuid() == 0 else tmp / "ro" / "r.mp4"
    if os.geteuid() != 0:
        readonly.parent.mkdir()
        readonly.parent.chmod(0o555)
    return {
        "missing video": (bad / "nope.mp4", speech, out, "nope.mp4"),
        "missing audio": (clip, bad / "nope.wav", out, "nope.wav"),
        "empty video": (bad / "empty.mp4", speech, out, "empty.mp4"),
        "text named mp4": (bad / "notes.mp4", speech, out, "notes.mp4"),
        "truncated mp4": (bad / "truncated.mp4", speech, out, "truncated.mp4"),
        "video with no video stream": (speech, speech, out, "speech.wav"),
        "audio with no audio stream": (clip, noaudio, out, noaudio.name),
        "audio of 0.2 s": (clip, short, out, "short.wav"),
        "output folder missing": (clip, speech, tmp / "nowhere" / "o.mp4", "nowhere"),
        "output folder read-only": (clip, speech, readonly, readonly.name),
        "output is the input": (clip, speech, clip, "clip.mp4"),
    }


CASES = [
    "missing video",
    "missing audio",
    "empty video",
    "text named mp4",
    "truncated mp4",
    "video with no video stream",
    "audio with no audio stream",
    "audio of 0.2 s",
    "output folder missing",
    "output folder read-only",
    "output is the input",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_exits_2_with_one_line_naming_the_file(
    case, clip, speech, shared_media, tmp_path, capsys
):
    (tmp_path / "out").mkdir()
    video, audio, out, named = bad_inputs(tmp_path, clip, speech, shared_media)[case]
    before = {p: digest(p) for p in tmp_path.rglob("*") if p.is_file()}
    code, err = run_cli(capsys, *render_args(video, audio, out))
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and named in lines[0], err
    assert "Traceback" not in err
    after = {p: digest(p) for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before  # nothing written, nothing modified


def test_silent_audio_renders_with_the_mouth_closed(clip, tmp_path, capsys):
    silent = write_wav(tmp_path / "silent.wav", np.zeros(16000, np.float32))
    out = tmp_path / "silent_out.mp4"
    code, err = run_cli(capsys, *render_args(clip, silent, out), "--crf", "10")
    assert code == 0, err
    rendered = media.open_video(out)
    source = media.open_video(clip)
    from tests.mediagen import luma_psnr

    with rendered, source:
        psnrs = [luma_psnr(a, b) for a, b in zip(rendered.frames(), source.frames())]
    assert len(psnrs) == 25 and min(psnrs) > 38  # only the encoder touched the frames


def test_render_writes_a_playable_file_and_reports(clip, speech, tmp_path, capsys):
    out = tmp_path / "ok.mp4"
    code, err = run_cli(capsys, *render_args(clip, speech, out))
    assert code == 0, err
    assert "ok.mp4" in err and "draft" in err
    assert "face in 25 of 25 frames" in err and "warning" not in err
    facts = stream_facts(out)
    assert facts["frames"] == 25 and facts["size"] == (512, 512)


def test_a_render_without_a_face_is_done_with_a_warning(speech, tmp_path, capsys):
    blank = tmp_path / "in" / "blank.mp4"
    with media.VideoWriter(blank, 160, 120, 25.0) as w:
        for _ in range(25):
            w.write(np.full((120, 160, 3), 90, np.uint8))
    code, err = run_cli(capsys, *render_args(blank, speech, tmp_path / "blank_out.mp4"))
    assert code == 0, err  # the output is written: done, but with a warning
    assert f"warning: {blank}: no face found in any frame" in err  # the path as given
    assert "face in 0 of 25 frames" in err


def test_probe_prints_json(shared_media, capsys):
    hevc = shared_media / "video/v05_latentsync_demo1_woman_outdoor_1080x1920_hevc.mp4"
    code = main(["probe", str(hevc)])
    info = json.loads(capsys.readouterr().out)
    assert code == 0
    assert info["video"]["codec"] == "hevc"
    assert (info["video"]["width"], info["video"]["height"]) == (1080, 1920)


def test_probe_of_a_missing_file_is_exit_2(tmp_path, capsys):
    code, err = run_cli(capsys, "probe", tmp_path / "gone.mp4")
    assert code == 2 and "gone.mp4" in err


def test_ctrl_c_exits_130_and_leaves_no_output(shared_media, tmp_path):
    out = tmp_path / "interrupted.mp4"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app",
            "render",
            "--video",
            str(shared_media / PORTRAIT_VIDEO),
            "--audio",
            str(shared_media / "audio/a01_en_musetalk_eng_60s.wav"),
            "-o",
            str(out),
            "--model",
            "draft",
        ],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not any(p.stat().st_size > 0 for p in outputs.temps_of(out)):
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_python_dash_m_app_runs_the_cli():
    done = subprocess.run(
        [sys.executable, "-m", "app", "--version"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "lipsync-studio" in done.stdout


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (("--feather", "1.5"), "--feather 1.5"),
        (("--enhancer-blend", "-0.1"), "--enhancer-blend -0.1"),
        (("--enhancer", "nosuch_enhancer"), "nosuch_enhancer"),
    ],
)
def test_bad_look_options_exit_2_with_one_line(flags, named, clip, speech, tmp_path, capsys):
    out = tmp_path / "o.mp4"
    code, err = run_cli(capsys, *render_args(clip, speech, out), *flags)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and named in lines[0], err
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_probe_faces_writes_the_track_per_frame(clip, tmp_path, capsys):
    out = tmp_path / "track.json"
    code, err = run_cli(capsys, "probe", "--faces", clip, "-o", out, "--detector", "haar")
    assert code == 0, err
    faces = json.loads(out.read_text())["faces"]
    frames = faces["frames"]
    assert [f["frame"] for f in frames] == list(range(25)) and faces["shots"] == 1
    assert frames[0]["detected"] and not all(f["detected"] for f in frames)  # keys + between
    first = frames[0]["face"]
    assert len(first["box"]) == 4 and len(first["landmarks"]) == 5
    assert faces["frames_with_face"] == sum(f["face"] is not None for f in frames) > 20


def test_a_bad_face_choice_is_exit_2_before_any_work(clip, speech, tmp_path, capsys):
    out = tmp_path / "x.mp4"
    code, err = run_cli(capsys, *render_args(clip, speech, out), "--face", "the tall one")
    assert code == 2 and "--face" in err and "Traceback" not in err
    assert not out.exists()
