"""Face detection: YuNet, or OpenCV's Haar cascades offline.

A `Face` is a box and YuNet's 5 landmarks in full-frame pixels. Tracks over a video
(which frames to detect, which face to follow) are face_track.py's job.

Detectors hold OpenCV state and are not thread-safe: one per job.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from app.engine.errors import InputError

log = logging.getLogger(__name__)

MAX_SIDE = 640  # detectors see the frame downscaled to this long side: speed, same results
YUNET_SCORE = 0.6
YUNET_NMS = 0.3

# Haar fallback, calibrated against YuNet on ../shared/media (211 matched faces, all
# clips every 15th frame plus the stills): where YuNet's box and landmarks lie, as
# fractions (x of width, y of height) of the square Haar frontal-face box. Medians,
# made left-right symmetric.
HAAR_BOX = np.array([0.10, -0.03, 0.90, 1.05], dtype=np.float32)  # x1, y1, x2, y2
HAAR_LANDMARKS = np.array(
    [[0.31, 0.385], [0.69, 0.385], [0.50, 0.605], [0.34, 0.765], [0.66, 0.765]],
    dtype=np.float32,
)
# A Haar hit is kept when the eye cascade finds an eye pair in it or when this many
# overlapping windows agree: on the shared media every false positive had <= 23 windows
# and no eye pair, 96% of real faces had one or the other.
HAAR_MIN_WINDOWS = 20


@dataclass(frozen=True, eq=False)  # eq=False: array fields make field-wise == ambiguous
class Face:
    box: np.ndarray  # (4,) float32 x1, y1, x2, y2, full-frame pixels; may extend past the frame
    landmarks: np.ndarray  # (5, 2) float32 right eye, left eye, nose, right/left mouth corner
    score: float

    def __post_init__(self) -> None:
        # Own read-only copies: a Face lives in a cached track shared by many renders.
        box = np.array(self.box, dtype=np.float32).reshape(4)
        landmarks = np.array(self.landmarks, dtype=np.float32).reshape(5, 2)
        box.setflags(write=False)
        landmarks.setflags(write=False)
        object.__setattr__(self, "box", box)
        object.__setattr__(self, "landmarks", landmarks)
        object.__setattr__(self, "score", float(self.score))

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def area(self) -> float:
        return float(max(self.box[2] - self.box[0], 0.0) * max(self.box[3] - self.box[1], 0.0))

    def scaled(self, sx: float, sy: float) -> Face:
        """This face in a picture scaled by `sx` across and `sy` down (a still the render
        read scaled down, back in its file's pixels: media/stills.py)."""
        factor = np.array([sx, sy], dtype=np.float32)
        return Face(self.box * np.tile(factor, 2), self.landmarks * factor, self.score)


@runtime_checkable
class FaceDetector(Protocol):
    name: str  # "yunet" | "haar"

    def detect(self, frame_bgr: np.ndarray) -> list[Face]:
        """All faces in full-frame coordinates, largest first."""
        ...


def _downscale(frame: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    h, w = frame.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale >= 1.0:
        return frame, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA), scale


def _largest_first(faces: list[Face]) -> list[Face]:
    return sorted(faces, key=lambda f: f.area, reverse=True)


class YuNetDetector:
    """OpenCV Zoo's YuNet through cv2.FaceDetectorYN (CPU; a few ms at 640 px)."""

    name = "yunet"

    def __init__(
        self, model_path: Path, score_threshold: float = YUNET_SCORE, max_side: int = MAX_SIDE
    ) -> None:
        model_path = Path(model_path)
        if not model_path.is_file():
            raise InputError(f"YuNet face detector model not found: {model_path}")
        try:
            self._net = cv2.FaceDetectorYN.create(
                str(model_path), "", (max_side, max_side), score_threshold, YUNET_NMS, 5000
            )
        except cv2.error as exc:
            reason = str(getattr(exc, "err", "") or exc).strip()  # cv2's one-line reason
            raise InputError(
                f"cannot load YuNet face detector model {model_path}: {reason}"
            ) from exc
        self._input_size = (max_side, max_side)
        self._max_side = max_side
        self.model_path = model_path

    def detect(self, frame_bgr: np.ndarray) -> list[Face]:
        if frame_bgr.ndim == 2:
            frame_bgr = cv2.cvtColor(frame_bgr, cv2.COLOR_GRAY2BGR)
        small, scale = _downscale(frame_bgr, self._max_side)
        size = (small.shape[1], small.shape[0])
        if size != self._input_size:  # cheap, but only when the frame size changes
            self._net.setInputSize(size)
            self._input_size = size
        _, rows = self._net.detect(np.ascontiguousarray(small))
        if rows is None:
            return []
        faces = []
        for row in rows:
            x, y, w, h = (float(v) / scale for v in row[:4])
            faces.append(
                Face(
                    box=np.array([x, y, x + w, y + h], dtype=np.float32),
                    landmarks=row[4:14].reshape(5, 2) / np.float32(scale),
                    score=float(row[14]),
                )
            )
        return _largest_first(faces)


class HaarDetector:
    """OpenCV's bundled frontal-face cascade: works offline with no model file.

    Landmarks come from fixed proportions of the box (calibrated against YuNet);
    when the eye cascade finds a plausible pair, the eyes are placed on it and the
    nose and mouth follow the eyes half-way (which follows head roll).
    """

    name = "haar"

    def __init__(self, max_side: int = MAX_SIDE) -> None:
        root = Path(cv2.__file__).parent / "data"  # cv2.data.haarcascades, typed
        self._face = cv2.CascadeClassifier(str(root / "haarcascade_frontalface_default.xml"))
        self._eye = cv2.CascadeClassifier(str(root / "haarcascade_eye.xml"))
        if self._face.empty() or self._eye.empty():
            # opencv 5.x no longer ships the cascades; pyproject pins <5 for this reason.
            raise RuntimeError(f"OpenCV's Haar cascades are missing from {root}")
        self._max_side = max_side

    def detect(self, frame_bgr: np.ndarray) -> list[Face]:
        small, scale = _downscale(frame_bgr, self._max_side)
        gray = small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        gray = cv2.equalizeHist(gray)
        min_side = max(24, min(gray.shape) // 12)
        boxes, windows = self._face.detectMultiScale2(
            gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side)
        )
        faces = []
        for (x, y, w, _h), n in zip(np.asarray(boxes).reshape(-1, 4), np.ravel(windows)):
            base = np.array([x, y], np.float32) + HAAR_LANDMARKS * np.float32(w)
            eyes = self._eye_pair(gray, int(x), int(y), int(w), base[:2])
            if eyes is None and n < HAAR_MIN_WINDOWS:
                continue  # most likely a false positive (shirt folds, backgrounds)
            landmarks = base if eyes is None else _follow_eyes(base, eyes)
            box = np.array([x, y, x, y], np.float32) + HAAR_BOX * np.float32(w)
            faces.append(
                Face(
                    box=box / np.float32(scale),
                    landmarks=landmarks / np.float32(scale),
                    score=float(n) / (float(n) + 10.0),  # agreeing windows as a 0..1 confidence
                )
            )
        return _largest_first(faces)

    def _eye_pair(
        self, gray: np.ndarray, x: int, y: int, w: int, expected: np.ndarray
    ) -> np.ndarray | None:
        """Right and left eye centres from the eye cascade in the box's upper half, or None."""
        top, bottom = y + int(0.15 * w), y + int(0.55 * w)
        roi = gray[max(top, 0) : bottom, max(x, 0) : x + w]
        if roi.size == 0:
            return None
        found = self._eye.detectMultiScale(
            roi,
            scaleFactor=1.1,
            minNeighbors=3,
            minSize=(max(8, w // 10),) * 2,
            maxSize=(max(9, w // 3),) * 2,
        )
        centres = [
            np.array([max(x, 0) + ex + ew / 2, max(top, 0) + ey + eh / 2], np.float32)
            for ex, ey, ew, eh in np.asarray(found).reshape(-1, 4)
        ]
        best: tuple[float, np.ndarray] | None = None
        for a, b in itertools.combinations(centres, 2):
            right, left = (a, b) if a[0] < b[0] else (b, a)
            # Plausible pair: one each side of the box centre, level-ish, eye-distance apart.
            if not (right[0] < x + w / 2 < left[0]):
                continue
            if not (0.25 * w < left[0] - right[0] < 0.6 * w) or abs(left[1] - right[1]) > 0.15 * w:
                continue
            cost = float(np.linalg.norm(right - expected[0]) + np.linalg.norm(left - expected[1]))
            if best is None or cost < best[0]:
                best = (cost, np.stack([right, left]))
        return None if best is None else best[1]


def _follow_eyes(base: np.ndarray, eyes: np.ndarray) -> np.ndarray:
    """Eyes from the eye cascade; nose and mouth half-way between the box proportions and
    the same proportions carried by the eyes' rotation and scale (best on the shared media)."""
    src, dst = base[1] - base[0], eyes[1] - eyes[0]
    z = complex(float(dst[0]), float(dst[1])) / complex(float(src[0]), float(src[1]))
    rot = np.array([[z.real, -z.imag], [z.imag, z.real]], dtype=np.float32)
    carried = (base - base[0]) @ rot.T + eyes[0]
    out = (base + carried) / 2
    out[:2] = eyes
    return out.astype(np.float32)


def create_detector(kind: str = "auto", yunet_path: Path | None = None) -> FaceDetector:
    """ "auto" and "yunet": YuNet (it ships with the app); "haar": OpenCV's Haar cascades,
    only when asked for. A missing or damaged YuNet is an InputError that says what to do,
    never a silent switch to the weaker detector."""
    if kind == "haar":
        return HaarDetector()
    if kind not in ("auto", "yunet"):
        raise InputError(f"unknown face detector {kind!r}: use auto, yunet or haar")
    if yunet_path is None:
        raise InputError(
            "the YuNet face detector is missing (it ships with Lipsync Studio: reinstall it, "
            "or run `lipsync-studio models pull yunet_2026may`), or use --detector haar"
        )
    return YuNetDetector(yunet_path)


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two x1, y1, x2, y2 boxes."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = float(iw * ih)
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
    return inter / union if union > 0 else 0.0
