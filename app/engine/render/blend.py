"""Paste a lip-sync result back into its frame: only what the model changed.

The model returns its whole aligned crop, a low-resolution resample of the frame
with a new mouth. Pasting all of it would blur the lower face on every frame. So:

- the paste is confined to a soft region that follows the face's landmarks
  (masks.face_mask: "mouth" or "lower-face"), and only the small frame rectangle that
  region can reach is touched: the cost follows the face size, not the frame size;
- inside it the frame gains the model's *change* (output minus its input crop), so
  where the model changed nothing, the frame's own full-resolution pixels stay
  bit-exact, and elsewhere the skin texture and beard under the change stay sharp;
- on the lips, where the mouth did change, the output replaces the frame outright,
  so the old lips' edges do not ghost through a new opening.

With `detail=False` the changed pixels are replaced outright everywhere (the classic
paste, still limited to what changed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from app.engine.render.masks import DEFAULT_FEATHER, change_map, crop_points, face_masks

log = logging.getLogger(__name__)

_NEIGHBOURS = np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]], dtype=np.float64)
Rect = tuple[int, int, int, int]


@dataclass(frozen=True)
class PasteOptions:
    """How a lip-sync result is pasted (RenderSettings' mask, feather and detail)."""

    mask: str = "lower-face"  # masks.MASK_PRESETS
    feather: float = DEFAULT_FEATHER  # 0..1: the soft outer part of the mask
    detail: bool = True  # keep the frame's fine detail under the model's change


@dataclass(frozen=True)
class Pasted:
    """Where a paste may have changed the frame: `rect` (x0, y0, x1, y1), end-exclusive,
    and the region mask over it (float32, rect-sized); the face enhancer works there."""

    rect: Rect
    alpha: np.ndarray
    changed: bool = True  # False: the model changed nothing, no pixel was written


def paste_region(matrix: np.ndarray, mask: np.ndarray, frame_shape: tuple[int, ...]) -> Rect | None:
    """The frame rectangle (x0, y0, x1, y1), end-exclusive, that pasting `mask` through
    `matrix` (frame -> crop) can touch, clipped to the frame; None when it misses it.

    The bounding box of the support's outline mapped into the frame (not of its
    bounding square, which a rotated face would inflate)."""
    support = mask > 0
    rows = np.flatnonzero(cv2.reduce(support.view(np.uint8), 1, cv2.REDUCE_MAX)[:, 0])
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


def warp_back(image: np.ndarray, matrix: np.ndarray, rect: Rect, *, image_data: bool) -> np.ndarray:
    """A crop-space image resampled into the frame rectangle `rect` (float32).

    `image_data`: colours continue past the crop's edge (replicate); a mask is 0 there."""
    x0, y0, x1, y1 = rect
    # Same map restricted to the rectangle: frame pixel (u + x0, v + y0) -> crop.
    m = np.asarray(matrix, dtype=np.float64).copy()
    m[:, 2] += m[:, :2] @ np.array([x0, y0], dtype=np.float64)
    border = cv2.BORDER_REPLICATE if image_data else cv2.BORDER_CONSTANT
    return cv2.warpAffine(
        np.asarray(image, dtype=np.float32),
        m,
        (x1 - x0, y1 - y0),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=border,
        borderValue=0.0,
    )


def store(roi: np.ndarray, blended: np.ndarray) -> None:
    """Write float pixels back into a uint8 (or other integer) frame region, rounded."""
    if np.issubdtype(roi.dtype, np.integer):
        info = np.iinfo(roi.dtype)
        blended = np.clip(np.rint(blended), info.min, info.max)
    roi[...] = blended.astype(roi.dtype)


@dataclass(frozen=True)
class PastePrep:
    """What pasting into one face needs that the model's result does not change: the
    same for every audio a presenter frame is rendered with (frame_cache.py keeps it)."""

    rect: Rect
    alpha: np.ndarray  # the region mask warped over `rect`
    lips: np.ndarray  # the crop-sized lips mask
    source: np.ndarray | None  # the input crop warped back over `rect` (detail mode)

    @property
    def nbytes(self) -> int:
        source = self.source.nbytes if self.source is not None else 0
        return self.alpha.nbytes + self.lips.nbytes + source


def prepare_paste(
    frame_shape: tuple[int, ...],
    crop: np.ndarray,
    matrix: np.ndarray,
    landmarks: np.ndarray,
    options: PasteOptions = PasteOptions(),
) -> PastePrep | None:
    """paste_face's audio-independent half (None: the region misses the frame)."""
    size = crop.shape[0]
    points = crop_points(landmarks, matrix)
    region, lips = face_masks(points, size, options.mask, options.feather)
    rect = paste_region(matrix, region, frame_shape)
    if rect is None:
        return None
    alpha = warp_back(region, matrix, rect, image_data=False)
    source = warp_back(crop, matrix, rect, image_data=True) if options.detail else None
    return PastePrep(rect, alpha, lips, source)


def paste_face(
    frame: np.ndarray,
    output: np.ndarray,
    crop: np.ndarray,
    matrix: np.ndarray,
    landmarks: np.ndarray,
    options: PasteOptions = PasteOptions(),
    into: np.ndarray | None = None,
    prep: PastePrep | None = None,
) -> Pasted | None:
    """In place: the model's change to `crop` (its `output`) pasted into `frame`.

    `matrix` is the 2x3 frame -> crop transform from crop.estimate_alignment and
    `landmarks` the face's 5 frame points it was fitted to. Returns where the paste
    region lies (None when it misses the frame); faces partly outside are fine.
    `into` (frame-sized): write the pasted rectangle there instead, `frame` stays as it
    is (a frame shared by several renders, frame_cache.py); only `rect` of it is set.
    `prep`: prepare_paste's result for these arguments, when the caller kept it."""
    if output.shape != crop.shape:
        raise ValueError(f"output {output.shape} and crop {crop.shape} shapes differ")
    prep = prep or prepare_paste(frame.shape, crop, matrix, landmarks, options)
    if prep is None:
        return None
    rect, alpha = prep.rect, prep.alpha
    change = change_map(output, crop)
    if not change.any():
        return Pasted(rect, alpha, changed=False)  # the frame keeps its own pixels
    x0, y0, x1, y1 = rect
    roi = frame[y0:y1, x0:x1]
    roi_f = roi.astype(np.float32)
    out = warp_back(output, matrix, rect, image_data=True)
    if options.detail:
        # Everywhere: add the change. On changed lips: take the output outright.
        assert prep.source is not None
        replace = warp_back(prep.lips * change, matrix, rect, image_data=False)
        source = prep.source
        add = out - source
    else:
        replace = warp_back(change, matrix, rect, image_data=False)
        add = out - roi_f
        source = roi_f
    if roi.ndim == 3:
        a, k = alpha[..., None], replace[..., None]
    else:
        a, k = alpha, replace
    if options.detail:
        blended = roi_f + a * (add + k * (source - roi_f))
    else:
        blended = roi_f + a * k * add
    store(roi if into is None else into[y0:y1, x0:x1], blended)
    return Pasted(rect, alpha)
