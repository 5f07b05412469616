"""Which face speaks: `--face auto|largest|center|left|right|X,Y@SECONDS`.

The chooser sees every detection frame (key) of the track in order and picks one face
or none:

- Within a shot it follows the face it chose by overlap (IoU), as the track always did.
- At the first key of a shot (or when the followed face is lost) it looks for the same
  person: the candidate whose appearance (hue/saturation histogram of the aligned face)
  matches the person chosen so far. Across the shared clips the same person scores
  0.92-0.97 across cuts, zoom and pose; other people 0.44-0.81.
- Where nobody matches: `auto` takes a face that clearly dominates the shot (a single
  presenter whose lighting changed); `largest`, `center`, `left`, `right` apply their
  rule again; a point (`X,Y@SECONDS`) takes nobody: that shot is left untouched.

Never chosen: a face turned so far that the lip-sync models cannot serve it (yaw from
the 5 landmarks), and in `auto` (and at a shot's first pick in every rule mode) a face
much smaller than the largest face seen in the shot (an audience member beside the
presenter).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from app.engine.errors import InputError
from app.engine.render.crop import estimate_alignment, warp_to_crop
from app.engine.render.faces import Face, FaceDetector, box_iou

MODES = ("auto", "largest", "center", "left", "right")
SAME_FACE_IOU = 0.3  # within a shot, a face continues the one it overlaps this much
SAME_PERSON = 0.88  # appearance similarity (Bhattacharyya coefficient) of one person
SMALL_FACE = 0.5  # narrower than this times the shot's largest face: a bystander
DOMINANT = 2.0  # auto: wider than every other face by this factor: the presenter
# |nose offset| from the eyes' midpoint, in half eye distances, beyond which a face is
# turned too far: the shared clips' served faces reach 0.67 (h02's turned head),
# profiles 2 and more; and the eye distance against the eye-to-mouth height below
# which the face is a profile (served faces >= 0.85, profiles <= 0.36).
MAX_YAW = 1.0
MIN_EYE_SPREAD = 0.45
APPEARANCE_SIDE = 64
IDENTITY_RATE = 0.2  # how fast the remembered appearance follows the chosen face


@dataclass(frozen=True)
class FaceSpec:
    """A parsed `--face` value."""

    mode: str  # one of MODES, or "point"
    point: tuple[float, float] | None = None  # source-video pixels
    seconds: float | None = None

    @classmethod
    def parse(cls, text: str) -> FaceSpec:
        text = text.strip().lower()
        if text in MODES:
            return cls(text)
        match = re.fullmatch(r"(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*@\s*([\d.]+)s?", text)
        if match is None:
            raise InputError(
                f"--face {text!r}: use auto, largest, center, left, right or X,Y@SECONDS "
                "(a point in the video's pixels at a time, e.g. 320,180@4.5)"
            )
        try:
            x, y, seconds = (float(g) for g in match.groups())
        except ValueError:
            raise InputError(f"--face {text!r}: X, Y and SECONDS must be numbers") from None
        return cls("point", (x, y), seconds)

    def __str__(self) -> str:
        if self.point is None or self.seconds is None:
            return self.mode
        return f"{self.point[0]:g},{self.point[1]:g}@{self.seconds:g}"


@dataclass(frozen=True)
class Anchor:
    """The face under a point at a time: the person a `X,Y@SECONDS` job follows."""

    index: int  # source frame
    face: Face
    appearance: np.ndarray


def yaw_ratio(landmarks: np.ndarray) -> tuple[float, float]:
    """(nose offset from the eyes' midpoint in half eye distances, eye distance over the
    eye-to-mouth height), in the face's own upright frame."""
    lm = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    across = lm[1] - lm[0]
    eye_distance = float(np.hypot(*across))
    if eye_distance < 1e-6:
        return float("inf"), 0.0
    c, s = across / eye_distance
    upright = (lm - lm[0]) @ np.array([[c, -s], [s, c]])  # eyes on the x axis
    nose_offset = (upright[2, 0] - eye_distance / 2) / (eye_distance / 2)
    mouth_drop = (upright[3, 1] + upright[4, 1]) / 2
    spread = eye_distance / mouth_drop if mouth_drop > 1e-6 else 0.0
    return float(nose_offset), float(spread)


def too_turned(face: Face) -> bool:
    offset, spread = yaw_ratio(face.landmarks)
    return abs(offset) > MAX_YAW or spread < MIN_EYE_SPREAD


def appearance(frame: np.ndarray, face: Face) -> np.ndarray:
    """Hue/saturation histogram of the aligned face's centre (skin, hair line, eyes)."""
    matrix = estimate_alignment(face.landmarks, "ffhq", APPEARANCE_SIDE)
    crop = warp_to_crop(frame, matrix, APPEARANCE_SIDE)
    a = APPEARANCE_SIDE
    centre = crop[a // 4 : a * 7 // 8, a * 3 // 16 : a * 13 // 16]
    if centre.ndim == 2:
        centre = cv2.cvtColor(centre, cv2.COLOR_GRAY2BGR)
    hsv = cv2.cvtColor(centre, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [18, 8], [0, 180, 0, 256]).ravel()
    return (hist / max(float(hist.sum()), 1.0)).astype(np.float32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya coefficient of two histograms: 1 identical, 0 disjoint."""
    return float(np.sqrt(a * b).sum())


@dataclass(frozen=True)
class ChooserState:
    shot: int = -1
    followed: Face | None = None  # chosen at the previous key of this shot
    identity: np.ndarray | None = None  # remembered appearance of the person
    shot_widest: float = 0.0  # the widest face seen in this shot so far


class FaceChooser:
    """Picks the face of each key; `state` can be saved and put back (re-detections)."""

    def __init__(self, spec: FaceSpec, anchor: Anchor | None = None) -> None:
        if spec.mode == "point" and anchor is None:
            raise ValueError("a point face choice needs its anchor (find_anchor)")
        self.spec = spec
        self.anchor = anchor
        self.state = ChooserState(identity=anchor.appearance if anchor is not None else None)

    def choose(self, frame: np.ndarray, index: int, shot: int, faces: list[Face]) -> Face | None:
        st = self.state
        if shot != st.shot:
            st = ChooserState(shot, None, st.identity, 0.0)
        widest = max([st.shot_widest] + [f.width for f in faces])
        st = replace(st, shot_widest=widest)
        chosen: Face | None
        if self.anchor is not None and index == self.anchor.index:
            chosen = _best_overlap(faces, self.anchor.face)
        elif st.followed is not None and (kept := _best_overlap(faces, st.followed)) is not None:
            chosen = kept if not too_turned(kept) else None
        else:
            chosen = self._acquire(frame, faces, st)
        identity = _remember(st.identity, frame, chosen)
        # A turned face keeps being followed (it may turn back) without being animated.
        followed = chosen if chosen is not None else _best_overlap(faces, st.followed)
        self.state = replace(st, followed=followed, identity=identity)
        return chosen

    def resume(self, frame: np.ndarray, shot: int, face: Face | None) -> None:
        """Carry on from a frame answered by a cached track (chosen `face` or None)."""
        st = (
            self.state if shot == self.state.shot else ChooserState(shot, None, self.state.identity)
        )
        identity = _remember(st.identity, frame, face)
        widest = max(st.shot_widest, face.width if face is not None else 0.0)
        self.state = replace(st, followed=face, identity=identity, shot_widest=widest)

    def _acquire(self, frame: np.ndarray, faces: list[Face], st: ChooserState) -> Face | None:
        candidates = [
            f for f in faces if not too_turned(f) and f.width >= SMALL_FACE * st.shot_widest
        ]
        if not candidates:
            return None
        if st.identity is not None:
            scored = [(similarity(appearance(frame, f), st.identity), f) for f in candidates]
            score, best = max(scored, key=lambda pair: pair[0])
            if score >= SAME_PERSON:
                return best
            if self.spec.mode == "point":
                return None
            if self.spec.mode == "auto":
                return _dominant(candidates, faces)
        return _by_rule(self.spec.mode, candidates, frame.shape[1], frame.shape[0])


def _remember(
    identity: np.ndarray | None, frame: np.ndarray, face: Face | None
) -> np.ndarray | None:
    """The person's appearance, updated with `face` (when one was chosen)."""
    if face is None:
        return identity
    seen = appearance(frame, face)
    return seen if identity is None else identity + IDENTITY_RATE * (seen - identity)


def _best_overlap(faces: list[Face], ref: Face | None) -> Face | None:
    if ref is None or not faces:
        return None
    best = max(faces, key=lambda f: box_iou(f.box, ref.box))
    return best if box_iou(best.box, ref.box) >= SAME_FACE_IOU else None


def _dominant(candidates: list[Face], faces: list[Face]) -> Face | None:
    """The one face clearly wider than every other face in the frame, else None."""
    best = max(candidates, key=lambda f: f.width)
    others = [f.width for f in faces if f is not best]
    return best if all(best.width >= DOMINANT * w for w in others) else None


def _by_rule(mode: str, faces: list[Face], width: int, height: int) -> Face:
    def centre(f: Face) -> np.ndarray:
        return (f.box[:2] + f.box[2:]) / 2

    if mode == "center":
        middle = np.array([width / 2, height / 2], dtype=np.float32)
        return min(faces, key=lambda f: float(np.linalg.norm(centre(f) - middle)))
    if mode == "left":
        return min(faces, key=lambda f: float(centre(f)[0]))
    if mode == "right":
        return max(faces, key=lambda f: float(centre(f)[0]))
    return max(faces, key=lambda f: f.area)  # auto's first pick, largest


def find_anchor(
    video: Path,
    spec: FaceSpec,
    detector: FaceDetector,
    fps: float,
    frame_count: int,
    max_still_side: int = 0,
) -> Anchor:
    """The face under `spec`'s point at its time; InputError naming the video if none.

    The point is in the file's pixels; a still the render scales down (max_still_side,
    media/stills.py) is searched scaled, as the render reads it, with the point scaled too."""
    from app.engine.render import media

    assert spec.point is not None and spec.seconds is not None
    index = min(max(0, int(round(spec.seconds * fps))), max(0, frame_count - 1))
    with media.open_video(video, max_still_side=max_still_side) as reader:
        frame = next(iter(reader.frames(index)), None)
        scale = reader.info.width / reader.source_info.width
    if frame is None:
        raise InputError(f"{video.name}: no frame at {spec.seconds:g} s for --face {spec}")
    faces = detector.detect(frame)
    x, y = spec.point
    px, py = x * scale, y * scale
    under = [f for f in faces if f.box[0] <= px <= f.box[2] and f.box[1] <= py <= f.box[3]]
    if not under:
        seen = ", ".join(
            f"({(f.box[0] + f.box[2]) / 2 / scale:.0f},{(f.box[1] + f.box[3]) / 2 / scale:.0f})"
            for f in faces
        )
        raise InputError(
            f"{video.name}: no face at {x:g},{y:g} at {spec.seconds:g} s"
            + (f" (faces there are centred at {seen})" if seen else " (no face in that frame)")
        )
    face = min(under, key=lambda f: f.area)  # the innermost: a face in front of another
    return Anchor(index, face, appearance(frame, face))
