"""Where a lip-sync result may land: blend masks from the face's own landmarks.

All masks live in the model's aligned crop (size x size) and are built from the
face's five landmarks mapped into that crop (not from the template: a face turned a
little puts its mouth off the template's spot, and the mask follows it). Shapes are
soft ellipses around the mouth, so no straight edge shows across the cheeks:

- "mouth": the lips and a margin around them (the change a mouth-only model makes);
- "lower-face": mouth, chin and jaw, cheek to cheek, from just below the nose.

`change_map` says where the model's output differs from its input crop: an identity
model, or a closed mouth in silence, changes nothing, and the frame keeps its own
full-resolution pixels there.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from app.engine.settings import MASK_PRESETS

DEFAULT_FEATHER = 0.3

# A pixel counts as changed from this many levels of difference (after a blur that
# ignores single-pixel noise) and fully from CHANGE_FULL: below, the source stays.
CHANGE_FROM = 2.0
CHANGE_FULL = 10.0


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.maximum(x, np.float32(0.0))  # (np.clip is several times slower here)
    np.minimum(x, np.float32(1.0), out=x)
    return x * x * (np.float32(3.0) - np.float32(2.0) * x)


def crop_points(landmarks: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The five frame landmarks in crop pixels, through the frame -> crop `matrix`."""
    pts = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    m = np.asarray(matrix, dtype=np.float64)
    return pts @ m[:, :2].T + m[:, 2]


class _FaceFrame:
    """The face's own axes in the crop: across (eye line) and down, in mouth widths."""

    def __init__(self, points: np.ndarray, size: int) -> None:
        right_eye, left_eye, nose, mouth_r, mouth_l = points
        across = left_eye - right_eye
        across /= max(float(np.linalg.norm(across)), 1e-6)
        self.across = across
        self.down = np.array([-across[1], across[0]])  # image y grows downwards
        self.mouth = (mouth_r + mouth_l) / 2.0
        self.width = max(float(np.linalg.norm(mouth_l - mouth_r)), 1.0)
        self.eye_dist = max(float(np.linalg.norm(left_eye - right_eye)), 1.0)
        eyes = (right_eye + left_eye) / 2.0
        self.eye_to_mouth = max(float((self.mouth - eyes) @ self.down), 1.0)
        self.nose_to_mouth = max(float((self.mouth - nose) @ self.down), 1.0)
        coords = np.arange(size, dtype=np.float32) + np.float32(0.5)  # pixel centres
        dx = (coords - np.float32(self.mouth[0]))[None, :]
        dy = (coords - np.float32(self.mouth[1]))[:, None]
        # Along the eye line and downwards, from the mouth (float32: this runs per frame).
        self.u = dx * np.float32(across[0]) + dy * np.float32(across[1])
        self.v = dx * np.float32(self.down[0]) + dy * np.float32(self.down[1])

    def ellipse(self, centre_v: float, half_w: float, up: float, down: float) -> np.ndarray:
        """Normalised radius of an egg shape centred `centre_v` below the mouth."""
        v = self.v - np.float32(centre_v)
        v /= np.where(v < 0, np.float32(up), np.float32(down))
        u = self.u / np.float32(half_w)
        return np.sqrt(u * u + v * v)


def face_mask(
    points: np.ndarray, size: int, preset: str = "lower-face", feather: float = DEFAULT_FEATHER
) -> np.ndarray:
    """(size, size) float32 in [0, 1]: 1 inside the preset's region, fading to 0 over
    the outer `feather` (0..1) of it, and to 0 at the crop's own border."""
    return _region(_FaceFrame(points, size), size, preset, feather)


def face_masks(
    points: np.ndarray, size: int, preset: str, feather: float
) -> tuple[np.ndarray, np.ndarray]:
    """face_mask and lips_mask of one face at once (the per-frame paste wants both),
    read-only. Cached by the points to a quarter pixel: a still or a steady presenter
    gives the same masks frame after frame, and they cost a few ms at 256 px."""
    key = tuple(np.round(np.asarray(points, dtype=np.float64).ravel() * 4.0).astype(int))
    return _cached_masks(key, size, preset, float(feather))


@functools.lru_cache(maxsize=64)
def _cached_masks(
    key: tuple[int, ...], size: int, preset: str, feather: float
) -> tuple[np.ndarray, np.ndarray]:
    face = _FaceFrame(np.array(key, dtype=np.float64).reshape(5, 2) / 4.0, size)
    region, lips = _region(face, size, preset, feather), _lips(face)
    region.setflags(write=False)
    lips.setflags(write=False)
    return region, lips


def _border(size: int) -> np.ndarray:
    edge = max(2.0, 0.04 * size)
    coords = np.arange(size, dtype=np.float32) + np.float32(0.5)
    x, y = coords[None, :], coords[:, None]
    return _smoothstep(np.minimum(np.minimum(x, size - x), np.minimum(y, size - y)) / edge)


def _region(face: _FaceFrame, size: int, preset: str, feather: float) -> np.ndarray:
    if preset not in MASK_PRESETS:
        raise ValueError(f"mask preset must be one of {MASK_PRESETS}, got {preset!r}")
    w = face.width
    if preset == "mouth":
        # Lips plus a margin; the top stays below the nostrils.
        up = min(0.45 * w, 0.7 * face.nose_to_mouth)
        r = face.ellipse(0.1 * w, 0.85 * w, up, 0.7 * w)
    else:
        # From just below the nose tip down past the chin, cheek to cheek.
        up = 0.8 * face.nose_to_mouth
        down = 0.95 * face.eye_to_mouth
        r = face.ellipse(0.0, 1.05 * face.eye_dist, up, down)
    soft = np.float32(max(float(feather), 0.02))
    mask = _smoothstep((np.float32(1.0) - r) / soft)
    return (mask * _border(size)).astype(np.float32)


def lips_mask(points: np.ndarray, size: int) -> np.ndarray:
    """(size, size) float32: the lips and the opening between them, soft-edged. Inside
    it a changed mouth is replaced outright (the old lips' detail must not ghost)."""
    return _lips(_FaceFrame(points, size))


def _lips(face: _FaceFrame) -> np.ndarray:
    w = face.width
    r = face.ellipse(0.12 * w, 0.7 * w, 0.35 * w, 0.55 * w)
    return _smoothstep((np.float32(1.0) - r) / np.float32(0.35)).astype(np.float32)


def change_map(output: np.ndarray, crop: np.ndarray) -> np.ndarray:
    """(S, S) float32 in [0, 1]: how much the model changed each pixel of its crop.

    0 where output == crop exactly (so an identity model pastes nothing), rising to 1
    over CHANGE_FROM..CHANGE_FULL levels of the largest channel difference, blurred so
    a changed region has soft edges rather than following single pixels."""
    channels = cv2.absdiff(output, crop)
    diff = np.maximum(np.maximum(channels[..., 0], channels[..., 1]), channels[..., 2])
    if not diff.any():
        return np.zeros(diff.shape, np.float32)
    size = diff.shape[0]
    sigma = max(1.0, size / 64.0)
    smooth = cv2.GaussianBlur(diff.astype(np.float32), (0, 0), sigma)
    change = _smoothstep((smooth - CHANGE_FROM) / (CHANGE_FULL - CHANGE_FROM))
    # Grow it a little so the edge of a changed area is not the edge of the change.
    grown = cv2.dilate(change, np.ones((3, 3), np.uint8), iterations=max(1, size // 96))
    return cv2.GaussianBlur(grown, (0, 0), sigma).astype(np.float32)
