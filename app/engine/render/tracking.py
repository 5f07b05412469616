"""The face track of a job, from its settings: one recipe for the render, the one-frame
preview and `probe --faces`, so all three see the same face in the same frame.

`start` makes the builder a job's frames go through (with the cached track of the
video, when there is one); `track_until` runs it over the video's first frames without
rendering, and stores what it settled in the cache for the render to reuse.
"""

from __future__ import annotations

import threading
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from app.engine.errors import InputError, RenderCancelled
from app.engine.render import media, track_cache
from app.engine.render.face_choice import FaceChooser, FaceSpec, find_anchor
from app.engine.render.face_track import FaceTrack, FaceTrackBuilder
from app.engine.render.faces import Face, FaceDetector
from app.engine.settings import RenderSettings


def face_spec(settings: RenderSettings) -> FaceSpec:
    """The job's `--face`, parsed (InputError when it is not a valid choice)."""
    return FaceSpec.parse(settings.face)


@dataclass
class TrackStart:
    builder: FaceTrackBuilder
    cached: track_cache.TrackEntry | None  # where to store the track afterwards

    def save(self) -> None:
        if self.cached is not None:
            self.cached.save(self.builder.track)


def start(
    settings: RenderSettings,
    detector: FaceDetector,
    video: media.VideoInfo,
    track: FaceTrack | None = None,
) -> TrackStart:
    """The builder for this job's frames: the settings' face choice and schedule, going on
    from `track` or else from the video's cached track (when the cache is on)."""
    spec = face_spec(settings)
    anchor = None
    if spec.mode == "point":
        anchor = find_anchor(settings.video, spec, detector, video.fps, video.frame_count)
    cached = None
    if track is None and settings.track_cache:
        cached = track_cache.entry(
            settings.video,
            track_cache.TrackSettings.of(
                detector,
                settings.detect_interval,
                video.fps,
                adaptive=settings.adaptive_detection,
                face=str(spec),
            ),
        )
        track = cached.load() if cached is not None else None
    builder = FaceTrackBuilder(
        detector,
        settings.detect_interval,
        track=track,
        chooser=FaceChooser(spec, anchor),
        adaptive=settings.adaptive_detection,
        key_frames=frozenset({anchor.index}) if anchor is not None else frozenset(),
    )
    return TrackStart(builder, cached)


def track_until(
    settings: RenderSettings,
    detector: FaceDetector,
    last: int | None = None,
    cancel: threading.Event | None = None,
) -> FaceTrack:
    """The job's track over source frames 0..`last` (all when None), settled exactly as
    the render settles them: the frames after `last` that smoothing needs are read too.
    Stored in the track cache (when on), so the render that follows detects nothing."""
    info = media.probe(settings.video).video
    if info is None:
        raise InputError(f"{settings.video.name}: has no video stream")
    job = start(settings, detector, info)
    builder = job.builder
    with media.open_video(settings.video) as reader, closing(reader.frames(0)) as frames:
        for index, frame in enumerate(frames):
            if cancel is not None and cancel.is_set():
                raise RenderCancelled(f"{settings.video.name}: cancelled")
            builder.push(index, frame)
            if last is not None and last in builder.track:
                break  # frames held back stay unsettled: the render settles them alike
        else:
            builder.finish()
    job.save()
    return builder.track


def report(track: FaceTrack, fps: float, face: str) -> dict[str, Any]:
    """The track as plain JSON data: per frame its shot, the chosen face (box and 5
    landmarks, or null), whether the detector ran on it, and the other faces it saw."""
    frames = []
    for index in track.indices():
        entry = track.entry(index)
        assert entry is not None
        frames.append(
            {
                "frame": index,
                "time": round(index / fps, 4),
                "shot": entry.shot,
                "face": _face_json(entry.face) if entry.face is not None else None,
                "detected": entry.detected,
                "others": [_face_json(f) for f in entry.others],
            }
        )
    with_face = sum(f["face"] is not None for f in frames)
    return {
        "detector": track.detector_name,
        "face": face,
        "fps": fps,
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
