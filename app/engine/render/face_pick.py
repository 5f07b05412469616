"""A frame of a job's video and the faces in it: what the GUI's face picker shows.

Light to import (the GUI imports it at start-up): PyAV and the detector load on the
worker's thread, when `faces_at` runs.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from app.engine.errors import InputError
from app.engine.settings import RenderSettings

if TYPE_CHECKING:
    from app.engine.render.faces import Face


@dataclass(frozen=True)
class FramePick:
    """A frame to pick a face in, and the faces the detector finds there.

    `frame` is the picture as the render reads it (a still over max_still_side scaled
    down); `faces` and `source_size` are in the file's pixels, the ones `--face` takes."""

    seconds: float  # where the frame is in the video
    frame: np.ndarray = field(repr=False)
    faces: tuple[Face, ...] = ()
    source_size: tuple[int, int] | None = None  # the file's width, height (None: the frame's)


def faces_at(settings: RenderSettings, seconds: float) -> FramePick:
    """The frame of the job's video at `seconds` (the last one past the end) and every
    face in it, largest first: what the GUI's face picker shows. A still is read and
    searched scaled as the render reads it (find_anchor does the same), its faces given
    back in the file's pixels."""
    from app.engine.render import media
    from app.engine.render.recipe import make_detector

    info = media.probe(settings.video).video
    if info is None:
        raise InputError(f"{settings.video.name}: has no video stream")
    index = min(max(0, int(round(seconds * info.fps))), max(0, info.frame_count - 1))
    with (
        media.open_video(settings.video, max_still_side=settings.max_still_side) as reader,
        closing(reader.frames(index)) as frames,
    ):
        frame = next(frames, None)
        read = reader.info
    if frame is None:
        raise InputError(f"{settings.video.name}: no frame at {seconds:g} s")
    faces = make_detector(settings).detect(frame)
    if (read.width, read.height) != (info.width, info.height):
        faces = [f.scaled(info.width / read.width, info.height / read.height) for f in faces]
    return FramePick(index / info.fps, frame, tuple(faces), (info.width, info.height))
