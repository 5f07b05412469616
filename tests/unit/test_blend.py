"""Pasting a crop back: the lower-face mask and the inverse warp, on a real portrait."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.engine.render.blend import lower_face_mask, paste_back, paste_region
from app.engine.render.crop import estimate_alignment, template_points, warp_to_crop
from tests.support.paths import SHARED_MEDIA

PORTRAIT = "image/i03_sadtalker_people_0_474.png"
# YuNet's landmarks for that portrait, measured once (kept here so these tests don't
# depend on the detector): right eye, left eye, nose, right and left mouth corner.
LANDMARKS = np.array(
    [[191.2, 147.4], [262.8, 140.2], [228.7, 185.4], [206.2, 219.9], [266.7, 213.2]],
    dtype=np.float32,
)
GREEN = (0, 255, 0)


@pytest.fixture(scope="module")
def portrait() -> np.ndarray:
    path = SHARED_MEDIA / PORTRAIT
    image = cv2.imread(str(path))
    if image is None:
        pytest.fail(f"shared media missing: {path}")
    return image


def _reach(frame_shape: tuple[int, ...], matrix: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Where the mask lands in the whole frame (a full-frame warp, the slow way)."""
    h, w = frame_shape[:2]
    return cv2.warpAffine(
        mask,
        matrix,
        (w, h),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.any(before != after, axis=2)


@pytest.mark.parametrize(("template", "size"), [("wav2lip", 96), ("ffhq", 256), ("ffhq", 512)])
def test_mask_covers_the_lower_face_only(template, size):
    mask = lower_face_mask(template, size)
    assert mask.shape == (size, size) and mask.dtype == np.float32
    assert mask.min() >= 0.0 and mask.max() <= 1.0
    eyes, nose, mouth_r, mouth_l = (template_points(template, size)[i] for i in ([0, 1], 2, 3, 4))
    eye_row = int(np.ceil(eyes[:, 1].max()))
    assert np.all(mask[: eye_row + 1] == 0)  # eyes and everything above untouched
    assert mask[int(nose[1]), int(nose[0])] == 0  # the nose tip stays the frame's own
    mouth = (mouth_r + mouth_l) / 2
    assert mask[int(mouth[1]), int(mouth[0])] > 0.99
    # Both mouth corners and the upper lip are fully replaced: no ghost of the old lips.
    for x, y in (mouth_r, mouth_l, (mouth[0], (nose[1] + 2 * mouth[1]) / 3)):
        assert mask[int(y), int(x)] > 0.95
    # It reaches the chin, fades to 0 at the crop's edge, and is left-right symmetric.
    chin_y = min(int(mouth[1] + 0.3 * (mouth[1] - eyes[:, 1].mean())), size - 1)
    assert mask[chin_y, int(mouth[0])] > 0.5
    assert max(mask[:, 0].max(), mask[:, -1].max(), mask[-1].max()) < 0.2
    assert np.allclose(mask, mask[:, ::-1], atol=0.1)


def test_mask_is_cached_and_read_only():
    mask = lower_face_mask("wav2lip", 96)
    assert lower_face_mask("wav2lip", 96) is mask
    with pytest.raises(ValueError):
        mask[0, 0] = 1.0


@pytest.mark.parametrize(("template", "size"), [("ffhq", 256), ("wav2lip", 96)])
def test_pasting_the_unchanged_crop_back_changes_little_and_only_near_the_mouth(
    portrait, template, size
):
    matrix = estimate_alignment(LANDMARKS, template, size)
    mask = lower_face_mask(template, size)
    crop = warp_to_crop(portrait, matrix, size)
    frame = portrait.copy()
    paste_back(frame, crop, matrix, mask)

    reach = _reach(frame.shape, matrix, mask) > 0
    changed = _changed(portrait, frame)
    assert changed.any()
    assert not np.any(changed & ~reach)  # nothing where the mask can't reach
    region = paste_region(matrix, mask, frame.shape)
    assert region is not None
    x0, y0, x1, y1 = region
    rx0, ry0, rx1, ry1 = _bbox(reach)
    assert x0 <= rx0 and y0 <= ry0 and x1 >= rx1 and y1 >= ry1  # covers all it may touch
    assert x0 >= rx0 - 2 and y0 >= ry0 - 2 and x1 <= rx1 + 2 and y1 <= ry1 + 2  # and no more
    # The region is the lower face, well inside the frame, below the eyes.
    assert y0 > LANDMARKS[:2, 1].max() and (x1 - x0) * (y1 - y0) < 0.1 * frame.shape[0] ** 2

    diff = (frame[y0:y1, x0:x1].astype(np.float64) - portrait[y0:y1, x0:x1]) ** 2
    psnr = 10 * np.log10(255.0**2 / max(diff.mean(), 1e-12))
    assert psnr > 35.0


def test_pasting_a_solid_colour_fills_the_mouth_and_nothing_outside(portrait):
    template, size = "ffhq", 256
    matrix = estimate_alignment(LANDMARKS, template, size)
    mask = lower_face_mask(template, size)
    frame = portrait.copy()
    paste_back(frame, np.full((size, size, 3), GREEN, np.uint8), matrix, mask)

    x0, y0, x1, y1 = paste_region(matrix, mask, frame.shape)
    outside = np.ones(frame.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(frame[outside], portrait[outside])
    mouth = LANDMARKS[3:].mean(axis=0)
    patch = frame[int(mouth[1]) - 3 : int(mouth[1]) + 4, int(mouth[0]) - 3 : int(mouth[0]) + 4]
    assert np.abs(patch.astype(int) - GREEN).max() <= 2
    for x, y in LANDMARKS[:3]:  # eyes and nose tip keep the frame's pixels
        assert np.array_equal(frame[int(y), int(x)], portrait[int(y), int(x)])
    # Only pixels the mask reaches turned green-ish; it feathers (some partly green).
    changed = _changed(portrait, frame)
    reach = _reach(frame.shape, matrix, mask)
    assert not np.any(changed & (reach == 0))
    partial = changed & (reach > 0.1) & (reach < 0.9)
    assert partial.sum() > 100


@pytest.mark.parametrize("shift", [(-228, 0), (0, 260), (300, 320), (-700, 0)])
def test_a_face_partly_or_wholly_outside_the_frame(portrait, shift):
    """Move the frame's window so the face is cut by its edge (or gone): no crash, only
    in-frame pixels near the mouth change, and the visible part gets the new colour."""
    dx, dy = shift
    h, w = portrait.shape[:2]
    moved = np.full_like(portrait, 90)
    src = portrait[max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)]
    if src.size:
        moved[max(dy, 0) : max(dy, 0) + src.shape[0], max(dx, 0) : max(dx, 0) + src.shape[1]] = src
    landmarks = LANDMARKS + np.float32([dx, dy])
    size = 96
    matrix = estimate_alignment(landmarks, "wav2lip", size)
    mask = lower_face_mask("wav2lip", size)
    frame = moved.copy()
    paste_back(frame, np.full((size, size, 3), GREEN, np.uint8), matrix, mask)

    reach = _reach(frame.shape, matrix, mask)
    changed = _changed(moved, frame)
    assert not np.any(changed & (reach == 0))
    region = paste_region(matrix, mask, frame.shape)
    if not (reach > 0).any():
        assert region is None and not changed.any()
        return
    assert region is not None
    x0, y0, x1, y1 = region
    assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    full = reach > 0.99
    assert full.any() and np.abs(frame[full].astype(int) - GREEN).max() <= 3


def test_paste_region_is_independent_of_the_frame_size(portrait):
    """The work is proportional to the face: a 4K frame gives the same small rectangle."""
    matrix = estimate_alignment(LANDMARKS, "wav2lip", 96)
    mask = lower_face_mask("wav2lip", 96)
    small = paste_region(matrix, mask, portrait.shape)
    assert small == paste_region(matrix, mask, (2160, 3840, 3))
    big = np.zeros((2160, 3840, 3), np.uint8)
    big[: portrait.shape[0], : portrait.shape[1]] = portrait
    crop = warp_to_crop(big, matrix, 96)
    paste_back(big, crop, matrix, mask)
    assert not big[:, portrait.shape[1] :].any() and not big[portrait.shape[0] :].any()
    # The inverse of the alignment puts the template mouth on the frame's mouth.
    mouth = cv2.transform(
        template_points("wav2lip", 96)[None, 3:], cv2.invertAffineTransform(matrix)
    )[0]
    assert np.abs(mouth - LANDMARKS[3:]).max() < 6


def test_mouth_and_mask_must_match():
    matrix = estimate_alignment(LANDMARKS, "wav2lip", 96)
    with pytest.raises(ValueError):
        paste_back(
            np.zeros((474, 474, 3), np.uint8),
            np.zeros((128, 128, 3), np.uint8),
            matrix,
            lower_face_mask("wav2lip", 96),
        )
