"""Face tracks: the face to animate in each source frame of a video, found while it
streams through.

`FaceTrackBuilder` runs the detector on key frames only and interpolates the frames
between. Keys are:

- the first frame of every shot, and the last (a cut ends a run of keys: nothing is
  interpolated or smoothed across it; shots.py finds the cuts);
- a frame where the chosen face has moved since the last key (shots.face_motion over
  MOTION_LIMIT): fast heads get dense keys, still ones few;
- at the latest `interval` frames after the previous key (`--detect-every`);
- a point choice's own frame (`--face X,Y@SECONDS`);
- every frame between two keys that disagree (a face entering, leaving, or a cut the
  colour test missed), so a box never slides across the frame.

Steady keys (those of the interval) are smoothed a little towards their neighbours;
keys placed because the face moved are left raw, so smoothing never lags a fast turn.
Which face is chosen is face_choice.py's job.

The result, a `FaceTrack`, is small and saved in the video's cache entry (track_cache)
so the same presenter video rendered with many audios is detected once.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from app.engine.render.face_choice import SAME_FACE_IOU, FaceChooser, FaceSpec
from app.engine.render.faces import Face, FaceDetector, box_iou
from app.engine.render.shots import CutDetector, FacePatch, face_motion, face_patch

SMOOTHING = 1 / 3  # weight of the neighbours' prediction in a steady key, see _smooth
MOTION_LIMIT = 0.04  # face-patch widths: a face that moved this much gets a key


@dataclass(frozen=True, eq=False)
class TrackFrame:
    """What the track knows about one source frame."""

    face: Face | None  # the chosen face, or None: nothing is animated in this frame
    shot: int  # 0 for the first shot, +1 at every cut
    detected: bool  # the detector ran on this frame (else: interpolated)
    others: tuple[Face, ...] = ()  # the other faces the detector saw here


class FaceTrack:
    """A TrackFrame per source frame index."""

    VERSION = 2

    def __init__(self, detector_name: str, entries: Mapping[int, TrackFrame] | None = None) -> None:
        self.detector_name = detector_name
        self._entries: dict[int, TrackFrame] = dict(entries or {})

    def get(self, index: int) -> Face | None:
        entry = self._entries.get(index)
        return entry.face if entry is not None else None

    def entry(self, index: int) -> TrackFrame | None:
        return self._entries.get(index)

    def set(self, index: int, entry: TrackFrame) -> None:
        self._entries[int(index)] = entry

    def indices(self) -> list[int]:
        return sorted(self._entries)

    def __contains__(self, index: object) -> bool:
        return index in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays for np.savez (no pickling needed to load them back)."""
        indices = np.array(self.indices(), dtype=np.int64)
        n = len(indices)
        entries = [self._entries[int(i)] for i in indices]
        faces = [e.face for e in entries]
        others = [f for e in entries for f in e.others]
        counts = np.array([len(e.others) for e in entries], dtype=np.int64)
        return {
            "version": np.array(self.VERSION, dtype=np.int64),
            "detector": np.array(self.detector_name),
            "indices": indices,
            "has_face": np.array([f is not None for f in faces], dtype=bool).reshape(n),
            **_face_arrays(faces, ""),
            "shots": np.array([e.shot for e in entries], dtype=np.int64).reshape(n),
            "detected": np.array([e.detected for e in entries], dtype=bool).reshape(n),
            "other_counts": counts.reshape(n),
            **_face_arrays(others, "other_"),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> FaceTrack:
        """Inverse of to_arrays; ValueError when the arrays are not a track of this version
        (the cache treats that as a miss)."""
        try:
            version = int(arrays["version"])
            if version != cls.VERSION:
                raise ValueError(f"version {version}, not {cls.VERSION}")
            detector = str(arrays["detector"])
            indices = np.asarray(arrays["indices"], dtype=np.int64)
            has_face = np.asarray(arrays["has_face"], dtype=bool)
            shots = np.asarray(arrays["shots"], dtype=np.int64)
            detected = np.asarray(arrays["detected"], dtype=bool)
            counts = np.asarray(arrays["other_counts"], dtype=np.int64)
            faces = _faces_from(arrays, "")
            others = _faces_from(arrays, "other_")
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a face track of this version: {exc}") from exc
        n = len(indices)
        if (
            has_face.shape != (n,)
            or shots.shape != (n,)
            or detected.shape != (n,)
            or counts.shape != (n,)
            or len(faces) != n
            or len(others) != int(counts.sum())
        ):
            raise ValueError("not a face track of this version (shapes differ)")
        ends = np.cumsum(counts)
        entries = {
            index: TrackFrame(
                faces[row] if has_face[row] else None,
                int(shots[row]),
                bool(detected[row]),
                tuple(others[ends[row] - counts[row] : ends[row]]),
            )
            for row, index in enumerate(indices.tolist())
        }
        return cls(detector, entries)


def _face_arrays(faces: list[Face | None], prefix: str) -> dict[str, np.ndarray]:
    n = len(faces)
    boxes = np.zeros((n, 4), dtype=np.float32)
    landmarks = np.zeros((n, 5, 2), dtype=np.float32)
    scores = np.zeros(n, dtype=np.float32)
    for row, face in enumerate(faces):
        if face is not None:
            boxes[row], landmarks[row], scores[row] = face.box, face.landmarks, face.score
    return {f"{prefix}boxes": boxes, f"{prefix}landmarks": landmarks, f"{prefix}scores": scores}


def _faces_from(arrays: Mapping[str, np.ndarray], prefix: str) -> list[Face]:
    boxes = np.asarray(arrays[f"{prefix}boxes"], dtype=np.float32)
    landmarks = np.asarray(arrays[f"{prefix}landmarks"], dtype=np.float32)
    scores = np.asarray(arrays[f"{prefix}scores"], dtype=np.float32)
    n = len(boxes)
    if boxes.shape != (n, 4) or landmarks.shape != (n, 5, 2) or scores.shape != (n,):
        raise ValueError(f"{prefix}faces have mismatched shapes")
    return [Face(boxes[i], landmarks[i], float(scores[i])) for i in range(n)]


@dataclass
class _Key:
    """A source frame the detector ran on."""

    index: int
    faces: list[Face]  # everything detected
    raw: Face | None  # the chosen face
    reason: str  # start | interval | motion | anchor | between | end
    smoothed: Face | None = None
    final: bool = False  # smoothed is settled (the next key is known, or there is none)


Settled = tuple[int, np.ndarray, Face | None]


class FaceTrackBuilder:
    """Settles one face per source frame while frames stream through.

    A frame is held back until the key after the key after it has been detected (at
    most 2 * interval frames, fewer where keys are dense), since smoothing a key needs
    its neighbours.

    Frames already in `track` (a cached track) are answered from it without
    detection; the builder adds what it settles to that same track object.
    """

    def __init__(
        self,
        detector: FaceDetector,
        interval: int = 5,
        track: FaceTrack | None = None,
        chooser: FaceChooser | None = None,
        *,
        adaptive: bool = True,
        motion_limit: float = MOTION_LIMIT,
        key_frames: frozenset[int] = frozenset(),
    ) -> None:
        if interval < 1:
            raise ValueError(f"detect interval must be >= 1, got {interval}")
        self.detector = detector
        self.interval = interval
        self.track = track if track is not None else FaceTrack(detector.name)
        self.chooser = chooser if chooser is not None else FaceChooser(FaceSpec("auto"))
        self.adaptive = adaptive
        self.motion_limit = motion_limit
        self.key_frames = key_frames  # frames that must be detected (a point choice's)
        self.detections = 0
        self.key_reasons: Counter[str] = Counter()
        self._cuts = CutDetector()
        self._shot = 0
        self._pending: deque[tuple[int, np.ndarray, int]] = deque()  # index, frame, shot
        self._keys: list[_Key] = []  # keys of the current run; [0] may be an emitted anchor
        self._patch: FacePatch | None = None  # the chosen face at the last key
        self._last: int | None = None  # the highest index pushed

    def push(self, index: int, frame: np.ndarray) -> list[Settled]:
        """Feed the next source frame; returns the frames settled by it, in order."""
        cut = self._cuts.is_cut(frame)
        cached = self.track.entry(index)
        if cached is not None:  # end the current run, answer from the cache
            out = self._flush()
            # Revisits (ping-pong) are fine; an uncached frame behind this one is not.
            self._last = index if self._last is None else max(self._last, index)
            self._shot = cached.shot
            self.chooser.resume(frame, cached.shot, cached.face)
            out.append((index, frame, cached.face))
            return out
        if self._last is not None and index <= self._last:
            raise ValueError(f"frames must come in increasing order: {index} after {self._last}")
        out = []
        if cut and self._last is not None:
            out = self._flush()  # the shot's last frame is a key: nothing crosses the cut
            self._shot += 1
        self._last = index
        self._pending.append((index, frame, self._shot))
        reason = self._key_reason(index, frame)
        if reason is not None:
            self._add_key(index, frame, reason)
        return out + self._settle()

    def finish(self) -> list[Settled]:
        """End of stream: detect the last frame and settle everything still held."""
        return self._flush()

    # -- internals --

    def _key_reason(self, index: int, frame: np.ndarray) -> str | None:
        if not self._keys:
            return "start"
        if index - self._keys[-1].index >= self.interval:
            return "interval"
        if index in self.key_frames:
            return "anchor"
        if (
            self.adaptive
            and self._patch is not None
            and face_motion(self._patch, frame) > self.motion_limit
        ):
            return "motion"
        return None

    def _flush(self) -> list[Settled]:
        if self._pending and self._pending[-1][0] != self._keys[-1].index:
            index, frame, _shot = self._pending[-1]
            self._add_key(index, frame, "end")
        out = self._settle(final=True)
        self._keys.clear()
        self._patch = None
        return out

    def _detect(self, index: int, frame: np.ndarray, reason: str) -> _Key:
        faces = self.detector.detect(frame)
        self.detections += 1
        self.key_reasons[reason] += 1
        return _Key(index, faces, self.chooser.choose(frame, index, self._shot, faces), reason)

    def _add_key(self, index: int, frame: np.ndarray, reason: str) -> None:
        prev = self._keys[-1] if self._keys else None
        before = self.chooser.state
        key = self._detect(index, frame, reason)
        if (
            prev is not None
            and (prev.raw is not None or key.raw is not None)
            and not _same_face(prev.raw, key.raw)
        ):
            # A face entering/leaving, or a cut the colour test missed: interpolating
            # would slide a box across the frame, so look at every frame in between.
            self.chooser.state = before
            for i, f, _shot in self._pending:
                if prev.index < i < index:
                    self._keys.append(self._detect(i, f, "between"))
            key.raw = self.chooser.choose(frame, index, self._shot, key.faces)
        self._keys.append(key)
        self._patch = face_patch(frame, key.raw.box) if key.raw is not None else None

    def _settle(self, final: bool = False) -> list[Settled]:
        keys = self._keys
        for i, key in enumerate(keys):
            if key.final:
                continue
            if i + 1 < len(keys):
                key.smoothed = _smooth(keys[i - 1] if i > 0 else None, key, keys[i + 1])
            elif final:
                key.smoothed = _smooth(keys[i - 1] if i > 0 else None, key, None)
            else:
                break
            key.final = True
        out: list[Settled] = []
        k = 0  # keys[k] is the last key at or before the frame being settled
        while self._pending:
            index, frame, shot = self._pending[0]
            while k + 1 < len(keys) and keys[k + 1].index <= index:
                k += 1
            key = keys[k]
            if key.index == index:
                if not key.final:
                    break
                face = key.smoothed
                others = tuple(f for f in key.faces if f is not key.raw)
                entry = TrackFrame(face, shot, True, others)
            else:
                nxt = keys[k + 1] if k + 1 < len(keys) else None
                if nxt is None or not nxt.final:
                    break
                face = _interpolate(key, nxt, index)
                entry = TrackFrame(face, shot, False)
            self._pending.popleft()
            self.track.set(index, entry)
            out.append((index, frame, face))
        # Keep keys[k], the anchor the next frames interpolate from, and the key before
        # it, which smoothing keys[k] may still need.
        del keys[: max(k - 1, 0)]
        return out


def _same_face(a: Face | None, b: Face | None) -> bool:
    return a is not None and b is not None and box_iou(a.box, b.box) >= SAME_FACE_IOU


def _lerp(a: Face, b: Face, t: float) -> Face:
    return Face(
        box=a.box + (b.box - a.box) * np.float32(t),
        landmarks=a.landmarks + (b.landmarks - a.landmarks) * np.float32(t),
        score=a.score + (b.score - a.score) * t,
    )


def _smooth(prev: _Key | None, key: _Key, nxt: _Key | None) -> Face | None:
    """Pull a steady key a third of the way towards where its two neighbouring keys put it.

    The neighbours' prediction is their linear interpolation at this index, so steady
    motion is not lagged or shrunk whatever the key spacing; with even spacing this is
    the [1, 4, 1] / 6 kernel. Only keys of the interval are smoothed: a key placed
    because the face moved is where the motion is, and pulling it towards its
    neighbours would lag the turn. Left raw at the ends of a shot (no bias from one
    side).
    """
    cur = key.raw
    if prev is None or nxt is None or cur is None or key.reason != "interval":
        return cur
    if not (_same_face(prev.raw, cur) and _same_face(cur, nxt.raw)):
        return cur
    assert prev.raw is not None and nxt.raw is not None
    predicted = _lerp(prev.raw, nxt.raw, (key.index - prev.index) / (nxt.index - prev.index))
    smoothed = _lerp(cur, predicted, SMOOTHING)
    return Face(smoothed.box, smoothed.landmarks, cur.score)


def _interpolate(a: _Key, b: _Key, index: int) -> Face | None:
    if a.smoothed is None or b.smoothed is None:
        return None  # the keys are adjacent, or one has no chosen face
    return _lerp(a.smoothed, b.smoothed, (index - a.index) / (b.index - a.index))
