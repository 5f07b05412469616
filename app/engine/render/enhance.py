"""The face-enhancer stage: restore the face after lip sync, inside the pasted region only.

For a batch of frames that got a lip-sync paste, the face is cut again at the
enhancer's template and size (the frame already holds the new mouth), restored in
one batched call on the lip-sync model's device, and blended back through the same
soft region the lip-sync result was pasted through, scaled by `blend`: eyes, hair and
background keep the frame's own pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.engine.models.enhance.runner import FaceEnhancer

__all__ = ["EnhanceItem", "FaceEnhancer", "enhance_faces"]
from app.engine.render.blend import Pasted, store, warp_back
from app.engine.render.crop import estimate_alignment, warp_to_crop


@dataclass(frozen=True)
class EnhanceItem:
    """One face to restore: its frame (changed in place), landmarks and paste region."""

    frame: np.ndarray
    landmarks: np.ndarray
    pasted: Pasted


def enhance_faces(enhancer: FaceEnhancer, items: Sequence[EnhanceItem], blend: float) -> None:
    """In place: each item's frame gets the restored face inside its paste region."""
    if not items or blend <= 0.0:
        return
    size = enhancer.size
    matrices = [estimate_alignment(it.landmarks, enhancer.template, size) for it in items]
    crops = np.stack([warp_to_crop(it.frame, m, size) for it, m in zip(items, matrices)])
    restored = enhancer.enhance(crops)
    for item, matrix, face in zip(items, matrices, restored):
        x0, y0, x1, y1 = item.pasted.rect
        roi = item.frame[y0:y1, x0:x1]
        warped = warp_back(face, matrix, item.pasted.rect, image_data=True)
        alpha = item.pasted.alpha * np.float32(blend)
        if roi.ndim == 3:
            alpha = alpha[..., None]
        roi_f = roi.astype(np.float32)
        store(roi, roi_f + alpha * (warped - roi_f))
