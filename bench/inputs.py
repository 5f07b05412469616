"""The benchmark's own inputs, made on the spot so a clean clone can run it.

- Presenter clips: a real face photo (../shared/media's 720p Obama still, else the first
  frame of app/resources/samples/presenter.mp4) scaled to 720p or 1080p at 25 fps, with a
  gentle head motion (rotation, scale, drift) whose period is the clip's length, so a
  clip joined to itself loops without a jump. Long clips are the base clip's packets
  copied end to end (no re-encode: a 5-minute clip costs no more than the base one).
- Speech: app/resources/samples/speech.wav (espeak-ng, 11 s) looped to any length; the
  batch's audios start at different offsets so they are different files.
"""

from __future__ import annotations

import math
import os
import wave
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SAMPLES = REPO / "app" / "resources" / "samples"
FACE_IMAGE = SHARED / "media" / "image" / "i01_face_recognition_obama_720p.jpg"
YUNET = SHARED / "models" / "face_detection_yunet_2026may.onnx"
SPEECH = SAMPLES / "speech.wav"
FPS = 25
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
INPUT_CRF = "20"  # the inputs' own quality: a clean source, as a camera file would be
GRAIN = 2.0  # sensor-like noise (grey levels, s.d.): a still photo alone decodes and encodes
# far cheaper than camera footage; with it the 720p clip is ~0.7 Mbit/s and the 1080p one
# ~1.6, in the range of ../shared's real 720p clips (0.4-1.7 Mbit/s)
GRAIN_FRAMES = 7  # a few noise frames, cycled


@dataclass(frozen=True)
class Sources:
    face_image: str  # what the presenter was made from
    yunet: Path | None  # None: ../shared is missing, only Haar can run


def sources() -> Sources:
    image = FACE_IMAGE if FACE_IMAGE.is_file() else SAMPLES / "presenter.mp4"
    return Sources(
        face_image=os.path.relpath(image, REPO),  # as the README names it: ../shared/…
        yunet=YUNET if YUNET.is_file() else None,
    )


def _face_image() -> np.ndarray:
    if FACE_IMAGE.is_file():
        image = cv2.imread(str(FACE_IMAGE), cv2.IMREAD_COLOR)
        if image is not None:
            return image
    with av.open(str(SAMPLES / "presenter.mp4")) as container:
        for frame in container.decode(video=0):
            return frame.to_ndarray(format="bgr24")
    raise RuntimeError("no face image: neither ../shared/media nor app/resources/samples")


def _frame_at(image: np.ndarray, size: tuple[int, int], t: float, period: float) -> np.ndarray:
    """The photo fitted to the frame's height (sides reflected when narrower), moved a
    little: the motion repeats every `period` seconds."""
    w, h = size
    ih, iw = image.shape[:2]
    fit = h / ih
    phase = 2 * math.pi * t / period
    angle = 1.5 * math.sin(phase)
    scale = fit * (1.0 + 0.02 * math.sin(2 * phase + 1.0))
    matrix = cv2.getRotationMatrix2D((iw / 2, ih / 2), angle, scale)
    matrix[0, 2] += w / 2 - iw / 2 + 0.006 * w * math.sin(phase)
    matrix[1, 2] += h / 2 - ih / 2 + 0.006 * h * math.sin(3 * phase + 0.5)
    return cv2.warpAffine(
        image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101
    )


def write_presenter(path: Path, resolution: str, seconds: float) -> Path:
    """An H.264 clip of `seconds` whose motion loops at its end."""
    return write_face_clip(path, SIZES[resolution], seconds)


def write_face_clip(path: Path, size: tuple[int, int], seconds: float) -> Path:
    """write_presenter at any (width, height)."""
    image = _face_image()
    frames = round(seconds * FPS)
    grain = _grain(size, GRAIN_FRAMES)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(
            "libx264", rate=Fraction(FPS), options={"crf": INPUT_CRF, "preset": "veryfast"}
        )
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            bgr = _frame_at(image, size, i / FPS, frames / FPS)
            bgr = np.clip(bgr + grain[i % GRAIN_FRAMES], 0, 255).astype(np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(bgr, format="bgr24")))
        container.mux(stream.encode())
    return path


def write_still(path: Path, size: tuple[int, int]) -> Path:
    """A JPEG photo of the presenter at (width, height), with grain (a camera's photo)."""
    still = _frame_at(_face_image(), size, 0.0, 1.0)
    still = np.clip(still + _grain(size, 1)[0], 0, 255).astype(np.uint8)
    if not cv2.imwrite(str(path), still, [cv2.IMWRITE_JPEG_QUALITY, 92]):
        raise RuntimeError(f"{path}: OpenCV could not write it")
    return path


def _grain(size: tuple[int, int], count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [
        np.rint(rng.normal(0.0, GRAIN, (size[1], size[0], 1))).astype(np.int16)
        for _ in range(count)
    ]


def repeat_video(base: Path, path: Path, times: int) -> Path:
    """`base`'s packets `times` times end to end (x264 GOPs are closed: each copy starts
    on a keyframe)."""
    with av.open(str(base)) as src:
        stream = src.streams.video[0]
        packets = [
            (bytes(p), p.pts, p.dts, p.duration, p.is_keyframe) for p in src.demux(stream) if p.size
        ]
        span = max(pts + duration for _, pts, _, duration, _ in packets) - min(
            pts for _, pts, _, _, _ in packets
        )
        with av.open(str(path), "w") as dst:
            out = dst.add_stream_from_template(stream)
            for k in range(times):
                for data, pts, dts, duration, key in packets:
                    packet = av.Packet(data)
                    packet.pts, packet.dts = pts + k * span, dts + k * span
                    packet.duration, packet.is_keyframe = duration, key
                    packet.time_base = stream.time_base
                    packet.stream = out
                    dst.mux(packet)
    return path


def write_speech(path: Path, seconds: float, offset_s: float = 0.0) -> Path:
    """speech.wav looped to `seconds`, starting `offset_s` into the loop."""
    with wave.open(str(SPEECH)) as src:
        params = src.getparams()
        data = np.frombuffer(src.readframes(params.nframes), dtype=np.int16)
    rate = params.framerate
    need = round(seconds * rate)
    start = round(offset_s * rate) % len(data)
    reps = (start + need) // len(data) + 1
    looped = np.tile(data, reps)[start : start + need]
    with wave.open(str(path), "wb") as dst:
        dst.setnchannels(1)
        dst.setsampwidth(2)
        dst.setframerate(rate)
        dst.writeframes(looped.astype("<i2").tobytes())
    return path
