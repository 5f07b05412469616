"""The face track of a job, from its settings: the builder (face choice, anchor,
schedule) and the cache entry that recipe.plan_job gives the render and the one-frame
preview, and `track_until` for `probe --faces`, so all of them see the same face in the
same frame.
"""

from __future__ import annotations

import threading
from contextlib import closing
from typing import Any

from app.engine.errors import InputError, RenderCancelled
from app.engine.render import frame_budget, media, track_cache
from app.engine.render.face_choice import Anchor, FaceChooser, FaceSpec, find_anchor
from app.engine.render.face_track import FaceTrack, FaceTrackBuilder
from app.engine.render.faces import Face, FaceDetector
from app.engine.settings import RenderSettings


def face_spec(settings: RenderSettings) -> FaceSpec:
    """The job's `--face`, parsed (InputError when it is not a valid choice)."""
    return FaceSpec.parse(settings.face)


def detect_interval(settings: RenderSettings, video: media.VideoInfo) -> int:
    """The job's detect interval for frames of `video`'s size: large frames get a shorter
    one, so the frames the track builder holds stay within a byte budget (frame_budget.py)."""
    return frame_budget.detect_interval(frame_budget.frame_bytes(video), settings.detect_interval)


def anchor_of(
    settings: RenderSettings, detector: FaceDetector, video: media.VideoInfo
) -> Anchor | None:
    """The face under a point choice's point (InputError if none), else None."""
    spec = face_spec(settings)
    if spec.mode != "point":
        return None
    return find_anchor(
        settings.video, spec, detector, video.fps, video.frame_count, settings.max_still_side
    )


def cache_entry(
    settings: RenderSettings, detector: FaceDetector, video: media.VideoInfo
) -> track_cache.TrackEntry | None:
    """Where this job's track is cached (None: cache off, or the video can't be hashed).
    `video`: the size the render reads; a still's track is kept per size (its faces'
    coordinates are in the pixels of the scaled still, media/stills.py)."""
    if not settings.track_cache:
        return None
    return track_cache.entry(
        settings.video,
        track_cache.TrackSettings.of(
            detector,
            detect_interval(settings, video),
            video.fps,
            adaptive=settings.adaptive_detection,
            face=str(face_spec(settings)),
            frame_size=f"{video.width}x{video.height}" if video.is_image else "",
        ),
        settings.track_cache_dir,
    )


def new_builder(
    settings: RenderSettings,
    detector: FaceDetector,
    video: media.VideoInfo,
    track: FaceTrack | None,
    anchor: Anchor | None,
) -> FaceTrackBuilder:
    """A builder with the job's face choice and schedule for frames of `video` (as the
    render reads them), going on from `track`."""
    return FaceTrackBuilder(
        detector,
        detect_interval(settings, video),
        track=track,
        chooser=FaceChooser(face_spec(settings), anchor),
        adaptive=settings.adaptive_detection,
        key_frames=frozenset({anchor.index}) if anchor is not None else frozenset(),
    )


def track_until(
    settings: RenderSettings,
    detector: FaceDetector,
    last: int | None = None,
    cancel: threading.Event | None = None,
) -> FaceTrack:
    """The job's track over source frames 0..`last` (all when None), settled exactly as
    the render settles them, without audio or a model (`probe --faces`). Stored in the
    track cache (when on), so a render that follows detects nothing again."""
    source = media.probe(settings.video).video
    if source is None:
        raise InputError(f"{settings.video.name}: has no video stream")
    info = media.fit_still(source, settings.max_still_side)
    entry = cache_entry(settings, detector, info)
    cached = entry.load() if entry is not None else None
    builder = new_builder(settings, detector, info, cached, anchor_of(settings, detector, info))
    with (
        media.open_video(settings.video, max_still_side=settings.max_still_side) as reader,
        closing(reader.frames(0)) as frames,
    ):
        for index, frame in enumerate(frames):
            if cancel is not None and cancel.is_set():
                raise RenderCancelled(f"{settings.video.name}: cancelled")
            builder.push(index, frame)
            if last is not None and last in builder.track:
                break  # frames held back stay unsettled: the render settles them alike
        else:
            builder.finish()
    if entry is not None:
        entry.save(builder.track)
    return builder.track


def report(
    track: FaceTrack,
    fps: float,
    face: str,
    source: tuple[int, int],
    tracked: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """The track as plain JSON data: per frame its shot, the chosen face (box and 5
    landmarks, or null), whether the detector ran on it, and the other faces it saw.

    Coordinates are in the file's pixels (`source`: width, height), the pixels `--face`
    and the GUI's face picker take; a still the render scales down was `tracked` at a
    smaller size (media/stills.py), and its faces are scaled back."""
    width, height = source
    tw, th = tracked or source
    sx, sy = width / tw, height / th

    def face_json(face: Face) -> dict[str, Any]:
        return _face_json(face.scaled(sx, sy) if (sx, sy) != (1.0, 1.0) else face)

    frames: list[dict[str, Any]] = []
    for index in track.indices():
        entry = track.entry(index)
        assert entry is not None
        frames.append(
            {
                "frame": index,
                "time": round(index / fps, 4),
                "shot": entry.shot,
                "face": face_json(entry.face) if entry.face is not None else None,
                "detected": entry.detected,
                "others": [face_json(f) for f in entry.others],
            }
        )
    with_face = sum(f["face"] is not None for f in frames)
    return {
        "detector": track.detector_name,
        "face": face,
        "fps": fps,
        "coordinates": f"source pixels {width}x{height}",
        "tracked_size": f"{tw}x{th}",
        "frames_with_face": with_face,
        "shots": 1 + max((f["shot"] for f in frames), default=0),
        "frames": frames,
    }


def _face_json(face: Face) -> dict[str, Any]:
    return {
        "box": [round(float(v), 1) for v in face.box],
        "landmarks": [[round(float(x), 1), round(float(y), 1)] for x, y in face.landmarks],
        "score": round(face.score, 3),
    }
