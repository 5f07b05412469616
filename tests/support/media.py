"""Test media from real frames: clips of a real talking head, written with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from app.engine.render import media
from tests.conftest import SHARED_MEDIA

PORTRAIT_VIDEO = "video/v04_sadtalker_hdtf_katiehill_en.mp4"  # 512x512, 25 fps, face fills it
SPEECH = "audio/a03_en_latentsync_demo1_audio.wav"  # 9.6 s English, 16 kHz mono


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
