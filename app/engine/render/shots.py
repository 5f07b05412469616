"""Cheap per-frame signals for the face track: shot cuts and how far a face has moved.

A cut is a jump in the frame's colour distribution: the hue/saturation histogram of a
thumbnail moves by more than CUT_HIST (half the L1 distance, 0..1). On the shared clips
a cut moves it 0.38-0.62 and nothing else (pans, lighting changes, fast heads) more
than 0.17. A cut the histogram misses (two shots of one set) still cannot slide a box
across the frame: the track builder looks at every frame between two keys that
disagree.

Face motion is measured on the face's own region: a small grey patch of the box at the
last detection, compared with the same region now by phase correlation. Both cost well
under a millisecond.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

THUMB_SIDE = 64  # long side of the thumbnail the cut test looks at
CUT_HIST = 0.3
HIST_BINS = (16, 8)  # hue, saturation
PATCH = 32  # side of the face patch the motion test compares
PATCH_MARGIN = 0.15  # of the box size, around the box: the head's outline is in the patch


class CutDetector:
    """Says, frame by frame, whether this frame starts a new shot."""

    def __init__(self, threshold: float = CUT_HIST) -> None:
        self.threshold = threshold
        self._previous: np.ndarray | None = None
        self.last_distance = 0.0

    def is_cut(self, frame: np.ndarray) -> bool:
        """True for a frame whose colours jumped from the previous one (not the first)."""
        hist = colour_histogram(frame)
        previous, self._previous = self._previous, hist
        if previous is None:
            return False
        self.last_distance = 0.5 * float(np.abs(hist - previous).sum())
        return self.last_distance > self.threshold


def colour_histogram(frame: np.ndarray) -> np.ndarray:
    """Normalised hue/saturation histogram of a thumbnail of the frame."""
    frame = _subsample(frame, THUMB_SIDE)
    h, w = frame.shape[:2]
    scale = THUMB_SIDE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    thumb = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    if thumb.ndim == 2:
        thumb = cv2.cvtColor(thumb, cv2.COLOR_GRAY2BGR)
    hsv = cv2.cvtColor(thumb, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, list(HIST_BINS), [0, 180, 0, 256]).ravel()
    return hist / max(float(hist.sum()), 1.0)


@dataclass(frozen=True)
class FacePatch:
    """The grey patch of a face region in one frame, to compare later frames with."""

    box: np.ndarray  # the region (x1, y1, x2, y2), full-frame pixels, margin included
    pixels: np.ndarray  # (PATCH, PATCH) float32, zero mean


def face_patch(frame: np.ndarray, box: np.ndarray) -> FacePatch:
    """The patch of `box` (plus a margin) in `frame`, clipped to the frame."""
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    mx, my = PATCH_MARGIN * (x2 - x1), PATCH_MARGIN * (y2 - y1)
    region = np.array(
        [max(0.0, x1 - mx), max(0.0, y1 - my), min(float(w), x2 + mx), min(float(h), y2 + my)],
        dtype=np.float32,
    )
    pixels = _patch_pixels(frame, region)
    pixels.setflags(write=False)  # compared with many later frames: never changed
    return FacePatch(region, pixels)


def _patch_pixels(frame: np.ndarray, region: np.ndarray) -> np.ndarray:
    x1, y1, x2, y2 = (int(round(float(v))) for v in region)
    roi = _subsample(frame[y1 : max(y2, y1 + 1), x1 : max(x2, x1 + 1)], PATCH)
    if roi.ndim == 3:
        roi = cv2.cvtColor(roi, cv2.COLOR_BGR2GRAY)
    patch = cv2.resize(roi, (PATCH, PATCH), interpolation=cv2.INTER_AREA).astype(np.float32)
    return patch - float(patch.mean())


def face_motion(reference: FacePatch, frame: np.ndarray) -> float:
    """How far the face in `reference` has moved in `frame`, in patch widths: the shift
    phase correlation finds between the two patches. (On the shared clips it follows the
    true mouth displacement with r = 0.8 where heads move; a mean-difference term was
    tried and dropped: talking and codec noise swamp it.)"""
    now = _patch_pixels(frame, reference.box)
    # Windowed here, not by phaseCorrelate's own window argument: OpenCV applies that
    # in place, to the caller's reference patch, so it would fade a little each call.
    window = _hann()
    (dx, dy), _response = cv2.phaseCorrelate(reference.pixels * window, now * window)
    return float(np.hypot(dx, dy)) / PATCH


def _subsample(image: np.ndarray, side: int) -> np.ndarray:
    """Every k-th pixel, keeping at least 2 * `side` on the long side: an area resize of a
    whole 1080p frame costs tens of milliseconds, of this view well under one."""
    step = max(1, max(image.shape[:2]) // (2 * side))
    return image[::step, ::step] if step > 1 else image


@functools.cache
def _hann() -> np.ndarray:
    return cv2.createHanningWindow((PATCH, PATCH), cv2.CV_32F)
