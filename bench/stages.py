"""Each pipeline stage run alone, on frames held in memory, with the engine's own pieces.

Every function does what the matching thread of pipeline._Run does for a whole clip
(decode: plan_frames; faces: FaceTrackBuilder.push/finish; model: alignment, crop
warp and LipSyncModel.infer in batches; blend: paste_back; encode: VideoWriter with
the audio muxed as it goes), timed by a Meter: wall, process CPU and thread CPU.
The sequential baseline (sequential.py) chains the same functions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.engine.models.lipsync.base import LipSyncModel
from app.engine.render import media
from app.engine.render.audio import mel_chunks, mel_spectrogram
from app.engine.render.blend import paste_face
from app.engine.render.crop import estimate_alignment, warp_to_crop
from app.engine.render.faces import Face, FaceDetector, FaceTrackBuilder
from app.engine.render.frame_plan import plan_frames
from app.engine.render.pipeline import ANALYSIS_RATE
from bench.measure import Cost, Meter

# (output, crop, frame->crop matrix, landmarks), or None: nothing to paste
Pasted = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None


def mels_for(audio: Path, fps: float, frames: int) -> np.ndarray:
    """The clip's mel chunks, as iter_render makes them."""
    return mel_chunks(mel_spectrogram(media.load_audio(audio, ANALYSIS_RATE)), fps, frames)


def decode(video: Path, frames: int) -> tuple[list[np.ndarray], Cost]:
    cost = Cost()
    with media.open_video(video) as reader, Meter(cost, frames):
        out = [p.frame for p in plan_frames(reader, frames, "pingpong", video.name)]
    assert len(out) == frames, f"{video.name}: {len(out)} of {frames} frames"
    return out, cost


def faces(
    frames: list[np.ndarray], detector: FaceDetector, interval: int
) -> tuple[list[Face | None], Cost, int]:
    """The settled face of every frame, the cost, and the detector calls made."""
    cost = Cost()
    builder = FaceTrackBuilder(detector, interval)
    with Meter(cost, len(frames)):
        for index, frame in enumerate(frames):
            builder.push(index, frame)
        builder.finish()
    return [builder.track.get(i) for i in range(len(frames))], cost, builder.detections


def model(
    lipsync: LipSyncModel,
    frames: list[np.ndarray],
    track: list[Face | None],
    mels: np.ndarray,
    limit: int | None = None,
) -> tuple[list[Pasted], Cost]:
    """pipeline._Run._run_batch over the clip in the model's batch size (the first
    `limit` frames only, when given)."""
    n = len(frames) if limit is None else min(limit, len(frames))
    size, batch = lipsync.crop_size, lipsync.batch_size
    pasted: list[Pasted] = [None] * n
    cost = Cost()
    with Meter(cost, n):
        for start in range(0, n, batch):
            todo = [i for i in range(start, min(start + batch, n)) if track[i] is not None]
            if not todo:
                continue
            matrices = [
                estimate_alignment(track[i].landmarks, lipsync.template, size) for i in todo
            ]
            crops = np.stack([warp_to_crop(frames[i], m, size) for i, m in zip(todo, matrices)])
            indices = np.array(todo, dtype=np.int64)
            mouths = lipsync.infer(crops, mels[indices], indices)
            for k, i in enumerate(todo):
                if not np.array_equal(mouths[k], crops[k]):  # unchanged: nothing to paste
                    pasted[i] = (mouths[k], crops[k], matrices[k], track[i].landmarks)
    return pasted, cost


def blend(lipsync: LipSyncModel, frames: list[np.ndarray], pasted: list[Pasted]) -> Cost:
    """paste_face in place into `frames` (so blend them once per model)."""
    cost = Cost()
    with Meter(cost, len(pasted)):
        for frame, item in zip(frames, pasted):
            if item is not None:
                paste_face(frame, *item)
    return cost


def encode(
    frames: list[np.ndarray],
    output: Path,
    fps: float,
    *,
    audio: Path | None,
    crf: int = 18,
    preset: str = "veryfast",
) -> Cost:
    """VideoWriter as the pipeline opens it (libx264 + AAC from `audio`), close included."""
    h, w = frames[0].shape[:2]
    cost = Cost()
    with Meter(cost, len(frames)):
        writer = media.VideoWriter(
            output,
            w,
            h,
            fps,
            crf=crf,
            preset=preset,
            audio_path=audio,
            duration=len(frames) / fps if audio else None,
        )
        try:
            for frame in frames:
                writer.write(frame)
            writer.close()
        except BaseException:
            writer.abort()
            raise
    return cost
