"""Crop geometry: align a face to a canonical 5-point template and back.

Landmark order everywhere (YuNet's): right eye, left eye, nose tip, right mouth
corner, left mouth corner, in image coordinates (the subject's right eye is on
the image's left). Templates are normalised to a unit square; scale by the crop
side the model asks for.
"""

from __future__ import annotations

import cv2
import numpy as np

# FFHQ alignment (forehead to below the chin), as FaceFusion's ffhq_512 template.
FFHQ = np.array(
    [
        [0.37691676, 0.46864664],
        [0.62285697, 0.46912813],
        [0.50123859, 0.61331904],
        [0.39308822, 0.72541100],
        [0.61150205, 0.72490465],
    ],
    dtype=np.float32,
)

# Tighter, Wav2Lip-like crop (eyebrows to chin, as S3FD boxes padded at the bottom):
# FFHQ scaled by 1.6 about the mid-face point (0.5, 0.58), moved to (0.5, 0.52).
WAV2LIP = np.stack(
    [0.5 + (FFHQ[:, 0] - 0.5) * 1.6, 0.52 + (FFHQ[:, 1] - 0.58) * 1.6], axis=1
).astype(np.float32)

# ArcFace 128 alignment (a closer crop, eyebrows to chin), as FaceFusion's arcface_128:
# what GPEN-BFR-256 was trained on.
ARCFACE_128 = np.array(
    [
        [0.36167656, 0.40387734],
        [0.63696719, 0.40235469],
        [0.50019687, 0.56044219],
        [0.38710391, 0.72160547],
        [0.61507734, 0.72034453],
    ],
    dtype=np.float32,
)

TEMPLATES: dict[str, np.ndarray] = {"ffhq": FFHQ, "wav2lip": WAV2LIP, "arcface_128": ARCFACE_128}


def template_points(template: str, size: int) -> np.ndarray:
    """The template's 5 points in pixels of a size×size crop."""
    return TEMPLATES[template] * np.float32(size)


def estimate_alignment(landmarks: np.ndarray, template: str, size: int) -> np.ndarray:
    """2×3 similarity transform (rotation, uniform scale, shift) from frame to crop."""
    src = np.asarray(landmarks, dtype=np.float32).reshape(5, 2)
    dst = template_points(template, size)
    matrix, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
    if matrix is None:  # degenerate landmarks (all equal, collinear): plain least squares
        matrix = _least_squares_similarity(src, dst)
    return matrix.astype(np.float32)


def _least_squares_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Umeyama-style closed form without reflection; never fails."""
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    s, d = src - src_mean, dst - dst_mean
    var = max(float((s**2).sum()), 1e-6)
    a = float((s * d).sum()) / var
    b = float((s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum()) / var
    rot = np.array([[a, -b], [b, a]], dtype=np.float32)
    shift = dst_mean - rot @ src_mean
    return np.hstack([rot, shift[:, None]])


def warp_to_crop(frame: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Cut the aligned size×size crop out of a frame."""
    return cv2.warpAffine(
        frame, matrix, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE
    )


def invert(matrix: np.ndarray) -> np.ndarray:
    return cv2.invertAffineTransform(matrix).astype(np.float32)
