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

import cv2
import numpy as np

from app.engine.settings import MASK_PRESETS

DEFAULT_FEATHER = 0.3

# A pixel counts as changed from this many levels of difference (after a blur that
# ignores single-pixel noise) and fully from CHANGE_FULL: below, the source stays.
CHANGE_FROM = 2.0
CHANGE_FULL = 10.0


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


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
        coords = np.arange(size, dtype=np.float64) + 0.5  # pixel centres
        gx, gy = np.meshgrid(coords, coords)
        dx, dy = gx - self.mouth[0], gy - self.mouth[1]
        self.u = dx * across[0] + dy * across[1]  # along the eye line, from the mouth
        self.v = dx * self.down[0] + dy * self.down[1]  # downwards, from the mouth

    def ellipse(self, centre_v: float, half_w: float, up: float, down: float) -> np.ndarray:
        """Normalised radius of an egg shape centred `centre_v` below the mouth."""
        v = self.v - centre_v
        half_h = np.where(v < 0, up, down)
        return np.sqrt((self.u / half_w) ** 2 + (v / half_h) ** 2)


def face_mask(
    points: np.ndarray, size: int, preset: str = "lower-face", feather: float = DEFAULT_FEATHER
) -> np.ndarray:
    """(size, size) float32 in [0, 1]: 1 inside the preset's region, fading to 0 over
    the outer `feather` (0..1) of it, and to 0 at the crop's own border."""
    if preset not in MASK_PRESETS:
        raise ValueError(f"mask preset must be one of {MASK_PRESETS}, got {preset!r}")
    face = _FaceFrame(points, size)
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
    soft = max(float(feather), 0.02)
    mask = _smoothstep((1.0 - r) / soft)
    edge = max(2.0, 0.04 * size)
    coords = np.arange(size, dtype=np.float64) + 0.5
    x, y = coords[None, :], coords[:, None]
    border = _smoothstep(np.minimum(np.minimum(x, size - x), np.minimum(y, size - y)) / edge)
    return (mask * border).astype(np.float32)


def lips_mask(points: np.ndarray, size: int) -> np.ndarray:
    """(size, size) float32: the lips and the opening between them, soft-edged. Inside
    it a changed mouth is replaced outright (the old lips' detail must not ghost)."""
    face = _FaceFrame(points, size)
    w = face.width
    r = face.ellipse(0.12 * w, 0.7 * w, 0.35 * w, 0.55 * w)
    return _smoothstep((1.0 - r) / 0.35).astype(np.float32)


def change_map(output: np.ndarray, crop: np.ndarray) -> np.ndarray:
    """(S, S) float32 in [0, 1]: how much the model changed each pixel of its crop.

    0 where output == crop exactly (so an identity model pastes nothing), rising to 1
    over CHANGE_FROM..CHANGE_FULL levels of the largest channel difference, blurred so
    a changed region has soft edges rather than following single pixels."""
    diff = np.abs(output.astype(np.int16) - crop.astype(np.int16)).max(axis=2)
    if not diff.any():
        return np.zeros(diff.shape, np.float32)
    size = diff.shape[0]
    sigma = max(1.0, size / 64.0)
    smooth = cv2.GaussianBlur(diff.astype(np.float32), (0, 0), sigma)
    change = _smoothstep((smooth - CHANGE_FROM) / (CHANGE_FULL - CHANGE_FROM))
    # Grow it a little so the edge of a changed area is not the edge of the change.
    grown = cv2.dilate(change, np.ones((3, 3), np.uint8), iterations=max(1, size // 96))
    return cv2.GaussianBlur(grown, (0, 0), sigma).astype(np.float32)
