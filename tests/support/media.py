"""Test media from the shared real clips, and small helpers to write and read media."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from app.engine.render import media
from tests.support.paths import SHARED_MEDIA

PORTRAIT_VIDEO = "video/v04_sadtalker_hdtf_katiehill_en.mp4"  # 512x512, 25 fps, face fills it
SPEECH = "audio/a03_en_latentsync_demo1_audio.wav"  # 9.6 s English, 16 kHz mono
H03 = SHARED_MEDIA / "hard/h03_face_recognition_short_hamilton_clip_multiface_cuts.mp4"
H06 = SHARED_MEDIA / "hard/h06_liveportrait_d11_quick_head_motion.mp4"
H04 = SHARED_MEDIA / "hard/h04_face_recognition_two_people.jpg"
# h03's shots, by eye: the stage (the performer small, on the right; a bystander bottom
# left), the performer in profile with the audience, the performer facing the camera,
# the audience (the performer is not in it).
H03_CUTS = [20, 82, 211]


def talking_head_frames(n: int, side: int) -> list[np.ndarray]:
    """The first `n` frames of a real talking-head clip, `side` x `side` pixels."""
    source = SHARED_MEDIA / PORTRAIT_VIDEO
    if not source.is_file():
        pytest.fail(f"shared media missing: {source}")
    with media.open_video(source) as reader:
        return [
            cv2.resize(frame, (side, side), interpolation=cv2.INTER_AREA)
            for _, frame in zip(range(n), reader.frames())
        ]


def write_clip(path: Path, frames: list[np.ndarray], fps: int = 25) -> Path:
    """BGR frames -> H.264 MP4 (no audio), with PyAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream(
            "libx264", rate=Fraction(fps), options={"crf": "18", "preset": "ultrafast"}
        )
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for i, frame in enumerate(frames):
            picture = av.VideoFrame.from_ndarray(frame, format="bgr24")
            picture.pts = i
            out.mux(stream.encode(picture))
        out.mux(stream.encode())
    return path


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


def load_speech() -> np.ndarray:
    """The shared speech clip: 9.6 s, 16 kHz mono."""
    return media.load_audio(SHARED_MEDIA / SPEECH)


def write_speech(path: Path, speech: np.ndarray, start_s: float, seconds: float) -> Path:
    """`seconds` of 16 kHz `speech` from `start_s`, as a wav."""
    return write_wav(path, speech[int(start_s * 16000) : int((start_s + seconds) * 16000)])


def load_mono_16k(path: Path) -> np.ndarray:
    """Any audio file -> mono 16 kHz float32, straight through PyAV."""
    parts = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=16000)
        for frame in container.decode(audio=0):
            parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
        parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(parts)


def decode_all(path: Path) -> list[np.ndarray]:
    with media.open_video(path) as reader:
        return list(reader.frames())


def stream_facts(path: Path) -> dict[str, object]:
    """Size, fps, frame count, audio seconds and pixel format of an MP4, with PyAV."""
    with av.open(str(path)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        return {
            "size": (v.codec_context.width, v.codec_context.height),
            "fps": float(v.average_rate),
            "frames": sum(1 for _ in c.decode(video=0)),
            "audio_s": float(a.duration * a.time_base) if a.duration else None,
            "pix_fmt": v.codec_context.pix_fmt,
        }


def upscaled_still(source: Path, path: Path, long_side: int) -> Path:
    """`source` (a still) scaled up to a long side of `long_side` pixels, written to `path`:
    a real photo larger than a render's max_still_side (media/stills.py)."""
    image = cv2.imread(str(source))
    h, w = image.shape[:2]
    factor = long_side / max(h, w)
    big = cv2.resize(image, (round(w * factor), round(h * factor)), interpolation=cv2.INTER_CUBIC)
    if not cv2.imwrite(str(path), big, [cv2.IMWRITE_JPEG_QUALITY, 95]):
        raise OSError(f"cannot write {path}")
    return path


def changed_by_render(still: Path, output: Path, max_still_side: int = 0) -> np.ndarray:
    """Where a render of `still` (crf 0) changed the picture in any frame: a bool mask at
    the render's size, against the still as the render reads it sent through the same
    lossless writer (so only the model's pixels differ)."""
    with media.open_video(still, max_still_side=max_still_side) as reader:
        (image,) = list(reader.frames())
    h, w = image.shape[:2]
    stored = output.with_name(output.stem + "-untouched.mp4")
    with media.VideoWriter(stored, w, h, 25.0, crf=0, preset="ultrafast") as writer:
        writer.write(image)
    (untouched,) = decode_all(stored)
    changed = np.zeros(untouched.shape[:2], bool)
    for frame in decode_all(output):
        changed |= np.abs(frame.astype(np.int16) - untouched.astype(np.int16)).max(axis=2) > 0
    return changed
