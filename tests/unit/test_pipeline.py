"""End-to-end renders on real clips: length, streams, ping-pong, silence, cancel."""

from __future__ import annotations

import threading
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from app.engine.errors import RenderCancelled
from app.engine.render import media
from app.engine.render.faces import create_detector
from app.engine.render.pipeline import render
from app.engine.settings import RenderSettings
from tests.mediagen import luma_psnr

SPEECH = "audio/a03_en_latentsync_demo1_audio.wav"  # 9.6 s English, 16 kHz mono
PORTRAIT_VIDEO = "video/v04_sadtalker_hdtf_katiehill_en.mp4"  # 512x512, 25 fps, face fills it


def write_wav(path: Path, samples: np.ndarray, rate: int = 16000) -> Path:
    """Mono float samples -> 16-bit wav, with PyAV."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)[None, :]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = rate
        frame.pts = 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def speech_with_gap(shared: Path, tmp_path: Path) -> tuple[Path, np.ndarray]:
    """1.6 s speech, 1.2 s digital silence, 1.6 s speech (16 kHz)."""
    speech = media.load_audio(shared / SPEECH)
    gap = np.zeros(int(1.2 * 16000), np.float32)
    samples = np.concatenate([speech[16000:41600], gap, speech[48000:73600]])
    return write_wav(tmp_path / "speech_gap.wav", samples), samples


def decode_all(path: Path) -> list[np.ndarray]:
    with media.open_video(path) as reader:
        return list(reader.frames())


def stream_facts(path: Path) -> dict:
    with av.open(str(path)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        return {
            "size": (v.codec_context.width, v.codec_context.height),
            "fps": float(v.average_rate),
            "frames": sum(1 for _ in c.decode(video=0)),
            "audio_s": float(a.duration * a.time_base) if a.duration else None,
            "pix_fmt": v.codec_context.pix_fmt,
        }


def test_render_follows_the_audio_length_keeps_size_and_fps(shared_media, tmp_path, yunet_path):
    audio = tmp_path / "short.wav"
    write_wav(audio, media.load_audio(shared_media / SPEECH)[: int(2.5 * 16000)])
    out = tmp_path / "out.mp4"
    settings = RenderSettings(
        video=shared_media / PORTRAIT_VIDEO,
        audio=audio,
        output=out,
        model="draft",
        detector_model=yunet_path,
    )
    seen: list[int] = []
    result = render(settings, on_progress=lambda p: seen.append(p.done))
    facts = stream_facts(out)
    assert facts["size"] == (512, 512)
    assert facts["fps"] == pytest.approx(25, abs=0.01)
    assert abs(facts["frames"] - 2.5 * 25) <= 1
    assert facts["audio_s"] == pytest.approx(2.5, abs=1 / 25)
    assert facts["pix_fmt"] == "yuv420p"
    assert seen == list(range(1, result.frames + 1))  # one progress per frame, in order
    assert result.detector == "yunet" and result.frames_with_face == result.frames
    assert not list(tmp_path.glob("*.part"))


def test_draft_mouth_follows_speech_and_silence_is_untouched(shared_media, tmp_path, yunet_path):
    """Issue 2's acceptance: r >= 0.6 vs audio RMS; silent frames as good as a re-encode."""
    audio, samples = speech_with_gap(shared_media, tmp_path)
    video = shared_media / PORTRAIT_VIDEO
    out = tmp_path / "out.mp4"
    settings = RenderSettings(
        video=video,
        audio=audio,
        output=out,
        model="draft",
        crf=18,
        preset="veryfast",
        detector_model=yunet_path,
    )
    result = render(settings)
    rendered = decode_all(out)
    source = decode_all(video)[: len(rendered)]
    assert len(rendered) == result.frames

    # A plain re-encode of the same source frames at the same settings: the floor.
    plain = tmp_path / "plain.mp4"
    with media.VideoWriter(plain, 512, 512, 25.0, crf=18, preset="veryfast") as w:
        for frame in source:
            w.write(frame)
    reencoded = decode_all(plain)

    track = result.track
    change, rms = [], []
    for i, (got, src) in enumerate(zip(rendered, source)):
        face = track.get(i)
        assert face is not None
        (rx, ry), (lx, ly) = face.landmarks[3], face.landmarks[4]
        w = lx - rx
        x1, x2 = int(rx - 0.3 * w), int(lx + 0.3 * w)
        y1, y2 = int(min(ry, ly) - 0.4 * w), int(max(ry, ly) + 0.8 * w)
        region = np.s_[max(y1, 0) : y2, max(x1, 0) : x2]
        change.append(np.abs(got[region].astype(np.float32) - src[region]).mean())
        window = samples[int(i / 25 * 16000) : int((i + 1) / 25 * 16000)]
        rms.append(float(np.sqrt(np.mean(window**2))) if len(window) else 0.0)
    r = np.corrcoef(change, rms)[0, 1]
    assert r >= 0.6, f"mouth motion vs audio RMS: Pearson r = {r:.3f}"

    # Frames well inside the 1.2 s gap (after the mouth's release) are the source untouched.
    silent = range(int(1.6 * 25) + 8, int(2.8 * 25) - 2)
    ours = np.mean([luma_psnr(rendered[i], source[i]) for i in silent])
    floor = np.mean([luma_psnr(reencoded[i], source[i]) for i in silent])
    assert ours >= floor - 0.5, f"silent frames: {ours:.2f} dB vs plain re-encode {floor:.2f} dB"


def test_short_video_is_extended_ping_pong(shared_media, tmp_path):
    """A 1 s clip under 3 s of audio plays forward, backward, forward: no hard cut."""
    clip = tmp_path / "clip.mp4"
    with media.open_video(shared_media / PORTRAIT_VIDEO) as reader:
        frames = [f for _, f in zip(range(25), reader.frames())]
    with media.VideoWriter(clip, 512, 512, 25.0, crf=10, preset="ultrafast") as w:
        for f in frames:
            w.write(f)
    audio = write_wav(tmp_path / "silence.wav", np.zeros(3 * 16000, np.float32))
    out = tmp_path / "out.mp4"
    render(RenderSettings(video=clip, audio=audio, output=out, model="draft", detector="haar"))
    got = decode_all(out)
    src = decode_all(clip)
    assert len(got) == 75
    for t, s in [(0, 0), (24, 24), (25, 23), (40, 8), (48, 0), (49, 1), (74, 22)]:
        best = max(range(len(src)), key=lambda k: luma_psnr(got[t], src[k]))
        assert best == s, f"output frame {t} shows source {best}, expected {s}"


def test_still_image_presenter(shared_media, tmp_path):
    audio = write_wav(tmp_path / "a.wav", media.load_audio(shared_media / SPEECH)[:16000])
    out = tmp_path / "out.mp4"
    result = render(
        RenderSettings(
            video=shared_media / "image/i02_sadtalker_happy_256.png",
            audio=audio,
            output=out,
            model="draft",
            detector="haar",
        )
    )
    assert result.frames == 25 and stream_facts(out)["frames"] == 25
    assert result.frames_with_face == 25


def test_no_face_anywhere_renders_unchanged_with_a_warning(tmp_path):
    clip = tmp_path / "noface.mp4"
    rng = np.random.default_rng(0)
    with media.VideoWriter(clip, 160, 120, 25.0, crf=10) as w:
        for _ in range(10):
            w.write(rng.integers(0, 40, (120, 160, 3), dtype=np.uint8) + 100)
    audio = write_wav(
        tmp_path / "tone.wav",
        0.3 * np.sin(np.arange(16000) * 2 * np.pi * 220 / 16000).astype(np.float32),
    )
    result = render(
        RenderSettings(
            video=clip, audio=audio, output=tmp_path / "o.mp4", model="draft", detector="haar"
        )
    )
    assert result.frames_with_face == 0 and result.coverage.text == "face in 0 of 25 frames"
    assert any("noface.mp4" in w and "no face" in w for w in result.warnings)


def test_cancel_leaves_no_file(shared_media, tmp_path):
    out = tmp_path / "out.mp4"
    cancel = threading.Event()

    def on_progress(p):
        if p.done == 5:
            cancel.set()

    settings = RenderSettings(
        video=shared_media / PORTRAIT_VIDEO,
        audio=shared_media / SPEECH,
        output=out,
        model="draft",
        detector="haar",
    )
    with pytest.raises(RenderCancelled):
        render(settings, on_progress=on_progress, cancel=cancel)
    assert list(tmp_path.iterdir()) == []
    assert not any(t.name.startswith("lipsync-") for t in threading.enumerate())


def test_a_failing_stage_aborts_cleanly(shared_media, tmp_path):
    class Exploding:
        name, crop_size, template, batch_size = "exploding", 96, "wav2lip", 4

        def prepare(self, mels):
            pass

        def infer(self, crops, mels, indices):
            raise RuntimeError("model blew up")

    settings = RenderSettings(
        video=shared_media / PORTRAIT_VIDEO,
        audio=shared_media / SPEECH,
        output=tmp_path / "out.mp4",
        detector="haar",
    )
    with pytest.raises(RuntimeError, match="model blew up"):
        render(settings, model=Exploding())
    assert list(tmp_path.iterdir()) == []


def test_cached_track_means_no_detection(shared_media, tmp_path):
    audio = write_wav(tmp_path / "a.wav", media.load_audio(shared_media / SPEECH)[:16000])
    settings = RenderSettings(
        video=shared_media / PORTRAIT_VIDEO,
        audio=audio,
        output=tmp_path / "one.mp4",
        model="draft",
        detector="haar",
    )
    first = render(settings)
    assert first.detections > 0
    settings.output = tmp_path / "two.mp4"
    detector = create_detector("haar")
    second = render(settings, detector=detector, face_track=first.track)
    assert second.detections == 0
    assert second.frames_with_face == first.frames_with_face


def test_stage_times_are_recorded(shared_media, tmp_path):
    audio = write_wav(tmp_path / "a.wav", media.load_audio(shared_media / SPEECH)[:16000])
    result = render(
        RenderSettings(
            video=shared_media / PORTRAIT_VIDEO,
            audio=audio,
            output=tmp_path / "o.mp4",
            model="draft",
            detector="haar",
        )
    )
    assert set(result.stages) == {"decode", "faces", "model", "blend", "encode"}
    assert result.stages["encode"].items == result.frames
    assert all(c.wall_s >= 0 and c.cpu_s >= 0 for c in result.stages.values())
    assert Fraction(result.fps).limit_denominator(1001) == 25
