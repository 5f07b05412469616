"""Each pipeline stage run alone, on frames held in memory, with the engine's own pieces.

Every function does what the matching thread of pipeline._Run does for a whole clip
(decode: plan_frames; faces: FaceTrackBuilder.push/finish; model: recipe.LipSync.infer
in batches; blend: recipe.LipSync.paste; encode: VideoWriter with the audio muxed as it
goes), timed by a Meter: wall, process CPU and thread CPU.
The sequential baseline (sequential.py) chains the same functions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.engine.render import media
from app.engine.render.face_track import FaceTrackBuilder
from app.engine.render.faces import Face, FaceDetector
from app.engine.render.frame_plan import plan_frames
from app.engine.render.model_workers import ModelWorkers
from app.engine.render.recipe import Generated, LipSync, speech_mels
from app.engine.render.stages import StageClock
from bench.measure import Cost, Meter


def mels_for(audio: Path, fps: float, frames: int) -> np.ndarray:
    """The clip's mel chunks, as the render plans them (recipe.speech_mels)."""
    return speech_mels(audio, fps, frames)


def decode(video: Path, frames: int, threads: int = 0) -> tuple[list[np.ndarray], Cost]:
    """plan_frames over the clip; `threads`: FFmpeg's decoder threads (0: its choice)."""
    cost = Cost()
    with media.open_video(video, threads=threads) as reader, Meter(cost, frames):
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
    step: LipSync,
    frames: list[np.ndarray],
    track: list[Face | None],
    limit: int | None = None,
    workers: int = 1,
) -> tuple[list[Generated | None], Cost]:
    """The model stage (LipSync.infer: crop + infer) over the clip in the model's batch
    size (the first `limit` frames only, when given), by `workers` model workers as the
    pipeline runs them (model_workers.py): per frame, what to paste or None."""
    n = len(frames) if limit is None else min(limit, len(frames))
    batch = step.model.batch_size
    pasted: list[Generated | None] = [None] * n
    runner = ModelWorkers(step, workers)
    batches = (
        [(i, frames[i], track[i]) for i in range(start, min(start + batch, n))]
        for start in range(0, n, batch)
    )
    cost = Cost()
    with Meter(cost, n):
        for _, generated in runner.run(batches, StageClock()):
            for item in generated:
                if item.mouth is not None:
                    pasted[item.index] = item
    return pasted, cost


def blend(step: LipSync, pasted: list[Generated | None]) -> Cost:
    """LipSync.paste in place into the frames (so blend them once per model)."""
    cost = Cost()
    with Meter(cost, len(pasted)):
        for item in pasted:
            if item is not None:
                step.paste(item)
    return cost


def encode(
    frames: list[np.ndarray],
    output: Path,
    fps: float,
    *,
    audio: Path | None,
    crf: int = 18,
    preset: str = "veryfast",
    encoder: str = "libx264",
    threads: int = 0,
) -> Cost:
    """VideoWriter as the pipeline opens it (libx264 + AAC from `audio`), close included;
    `threads`: the encoder's threads (0: its choice)."""
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
            encoder=encoder,
            encoder_threads=threads,
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
