"""Paste a generated mouth crop back into its frame.

The model returns the whole aligned crop, but only the lower face may change: the
eyes, brows and background of the crop are resampled copies of the frame and
would only blur it. So the crop goes back through the inverse alignment under a
feathered lower-face mask, and only inside the small frame rectangle that mask can
reach: the cost follows the face size, not the frame size.
"""

from __future__ import annotations

import functools
import logging

import cv2
import numpy as np

from app.engine.curves import smoothstep
from app.engine.render.crop import template_points

log = logging.getLogger(__name__)

_NEIGHBOURS = np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]], dtype=np.float64)


@functools.lru_cache(maxsize=16)
def lower_face_mask(template: str, size: int) -> np.ndarray:
    """Feathered (size, size) float32 mask in [0, 1] over mouth, lips, chin and jaw.

    Built from the template's 5 points: 0 above the nose tip, rising to 1 just above
    the upper lip; bounded below by a half-ellipse from cheek to cheek (one eye
    distance either side) down to below the chin (0.85 eye-to-mouth heights below
    the mouth), fading over its outer 30%; and fading to 0 at the crop's border so
    the crop's square edge never shows. Cached and read-only: do not modify.
    """
    pts = template_points(template, size).astype(np.float64)
    right_eye, left_eye, nose, mouth_r, mouth_l = pts
    eye_y = (right_eye[1] + left_eye[1]) / 2
    mouth = (mouth_r + mouth_l) / 2
    eye_dist = float(np.linalg.norm(left_eye - right_eye))
    nose_to_mouth = mouth[1] - nose[1]

    coords = np.arange(size, dtype=np.float64) + 0.5  # pixel centres
    x, y = coords[None, :], coords[:, None]

    # Top edge: nothing at the nose tip (the nose and nostrils stay the frame's own),
    # everything from the upper lip down.
    top0 = nose[1] + 0.1 * nose_to_mouth
    top1 = nose[1] + 0.6 * nose_to_mouth
    vertical = smoothstep((y - top0) / (top1 - top0))

    # Jaw and chin: a half-ellipse hanging from the top edge.
    half_width = 1.0 * eye_dist
    depth = (mouth[1] + 0.85 * (mouth[1] - eye_y)) - top0
    r = np.sqrt(((x - mouth[0]) / half_width) ** 2 + (np.maximum(y - top0, 0.0) / depth) ** 2)
    jaw = smoothstep((1.0 - r) / 0.3)

    # The crop's own border (tight templates put the chin on the bottom edge).
    edge = max(2.0, 0.04 * size)
    border = smoothstep(np.minimum(np.minimum(x, size - x), np.minimum(y, size - y)) / edge)

    mask = (vertical * jaw * border).astype(np.float32)
    mask.setflags(write=False)
    return mask


def paste_region(
    matrix: np.ndarray, mask: np.ndarray, frame_shape: tuple[int, ...]
) -> tuple[int, int, int, int] | None:
    """The frame rectangle (x0, y0, x1, y1), end-exclusive, that pasting `mask` through
    `matrix` (frame -> crop) can touch, clipped to the frame; None when it misses it.

    The bounding box of the support's outline mapped into the frame (not of its
    bounding square, which a rotated face would inflate)."""
    support = mask > 0
    rows = np.flatnonzero(support.any(axis=1))
    if rows.size == 0:
        return None
    # Each row's first and last support pixel: the outline the bounding box depends on.
    first = support[rows].argmax(axis=1)
    last = mask.shape[1] - 1 - support[rows, ::-1].argmax(axis=1)
    outline = np.concatenate([np.stack([first, rows], 1), np.stack([last, rows], 1)])
    # Bilinear sampling reaches one pixel beyond the support in crop coordinates.
    reach = (outline[:, None, :].astype(np.float64) + _NEIGHBOURS[None]).reshape(-1, 2)
    inverse = cv2.invertAffineTransform(np.asarray(matrix, dtype=np.float64))
    mapped = reach @ inverse[:, :2].T + inverse[:, 2]
    h, w = frame_shape[:2]
    x0 = max(int(np.floor(mapped[:, 0].min())), 0)
    y0 = max(int(np.floor(mapped[:, 1].min())), 0)
    x1 = min(int(np.ceil(mapped[:, 0].max())) + 1, w)
    y1 = min(int(np.ceil(mapped[:, 1].max())) + 1, h)
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, y0, x1, y1


def paste_back(frame: np.ndarray, mouth: np.ndarray, matrix: np.ndarray, mask: np.ndarray) -> None:
    """In place: frame = frame * (1 - m) + warp_back(mouth) * m, inside paste_region only.

    `matrix` is the 2x3 frame -> crop transform from crop.estimate_alignment; `mouth`
    and `mask` are the crop's size. Faces partly outside the frame are fine.
    """
    if mouth.shape[:2] != mask.shape[:2]:
        raise ValueError(f"mouth {mouth.shape[:2]} and mask {mask.shape[:2]} sizes differ")
    region = paste_region(matrix, mask, frame.shape)
    if region is None:
        return
    x0, y0, x1, y1 = region
    # Same map restricted to the rectangle: frame pixel (u + x0, v + y0) -> crop.
    m = np.asarray(matrix, dtype=np.float64).copy()
    m[:, 2] += m[:, :2] @ np.array([x0, y0], dtype=np.float64)
    size = (x1 - x0, y1 - y0)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    warped = cv2.warpAffine(mouth, m, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpAffine(
        mask, m, size, flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0
    )
    roi = frame[y0:y1, x0:x1]
    if roi.ndim == 3:
        alpha = alpha[:, :, None]
    blended = roi.astype(np.float32) + (warped.astype(np.float32) - roi) * alpha
    if np.issubdtype(frame.dtype, np.integer):
        info = np.iinfo(frame.dtype)
        blended = np.clip(np.rint(blended), info.min, info.max)
    roi[...] = blended.astype(frame.dtype)
