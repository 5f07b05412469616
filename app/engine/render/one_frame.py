"""Single frames for a quick look: one output frame rendered alone before a long render,
and a finished render's frame next to the source frame it came from.

Light to import: PyAV, OpenCV and ONNX Runtime load on the first call, on the thread
that makes it (a GUI imports this module on its own thread, which must never wait).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.engine.errors import InputError
from app.engine.render.frame_plan import source_index
from app.engine.settings import RenderSettings


@dataclass(frozen=True)
class FramePair:
    """One output frame before and after lip-sync."""

    index: int  # output frame number
    before: np.ndarray = field(repr=False)
    after: np.ndarray = field(repr=False)
    face_found: bool = True


def render_one_frame(settings: RenderSettings, index: int) -> FramePair:
    """Output frame `index` of `settings`' render, rendered alone (a quick look before a
    long render): the render's own plan, tracked face, crop, model and blend
    (recipe.py), so it equals that frame of the render. The output path is not touched."""
    from app.engine.render import media
    from app.engine.render.recipe import plan_job, probe_inputs, settle_face

    plan = plan_job(settings, probe_inputs(settings))
    with media.open_video(settings.video, max_still_side=settings.max_still_side) as reader:
        settled = settle_face(plan, reader, index)
    before = settled.frame
    if settled.face is None:
        return FramePair(settled.index, before, before.copy(), face_found=False)
    (after,) = plan.lipsync().run([(settled.index, before.copy(), settled.face)])
    return FramePair(settled.index, before, after)


def decode_frame(video: Path, index: int) -> np.ndarray:
    """Frame `index` (at the file's constant rate) of a video; the last one if past the end."""
    from app.engine.render import media

    with media.open_video(video) as reader:
        frame = next(iter(reader.frames(index)), None)
        if frame is None and index > 0:  # the frame count was an estimate: take the last
            tail = collections.deque(reader.frames(max(0, index - 5)), maxlen=1)
            frame = tail[0] if tail else None
    if frame is None:
        raise InputError(f"{video}: frame {index} could not be decoded")
    return frame


def frame_index_at(path: Path, seconds: float) -> int:
    """The frame of a video shown at `seconds`."""
    from app.engine.render import media

    info = media.probe(path).video
    if info is None:
        raise InputError(f"{path}: has no video stream")
    return max(0, int(seconds * info.fps + 1e-6))


def decode_frame_at(path: Path, seconds: float) -> tuple[int, np.ndarray]:
    index = frame_index_at(path, seconds)
    return index, decode_frame(path, index)


def frame_pair_at(video: Path, output: Path, seconds: float, loop: str = "pingpong") -> FramePair:
    """The frame of a finished render shown at `seconds`, next to the source frame it
    came from (before/after on one frame)."""
    return frame_pair(video, output, frame_index_at(output, seconds), loop)


def frame_pair(video: Path, output: Path, index: int, loop: str = "pingpong") -> FramePair:
    """Output frame `index` of a finished render next to the source frame it came from."""
    from app.engine.render import media

    source = media.probe(video).video
    if source is None:
        raise InputError(f"{video}: has no video stream")
    after = decode_frame(output, index)
    before = decode_frame(video, source_index(index, max(1, source.frame_count), loop))
    (h, w), (out_h, out_w) = before.shape[:2], after.shape[:2]
    if h > out_h + 1 or w > out_w + 1:  # a still scaled down for the render (media/stills.py)
        import cv2

        before = cv2.resize(before, (out_w, out_h), interpolation=cv2.INTER_AREA)
    if before.shape != after.shape:  # odd sizes: the writer drops the last column/row
        before = before[: after.shape[0], : after.shape[1]]
    return FramePair(index, before, after)
