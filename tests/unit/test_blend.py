"""Pasting a result back: landmark masks, only what changed, detail kept, on a real portrait."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.engine.render.blend import PasteOptions, paste_face, paste_region
from app.engine.render.crop import estimate_alignment, invert, template_points, warp_to_crop
from app.engine.render.masks import change_map, crop_points, face_mask, lips_mask
from tests.conftest import SHARED_MEDIA

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


def region_of(landmarks: np.ndarray, matrix: np.ndarray, size: int, preset: str) -> np.ndarray:
    return face_mask(crop_points(landmarks, matrix), size, preset)


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
def test_lower_face_mask_follows_mouth_and_jaw(template, size):
    points = template_points(template, size)
    mask = face_mask(points, size, "lower-face")
    assert mask.shape == (size, size) and mask.dtype == np.float32
    assert mask.min() >= 0.0 and mask.max() <= 1.0
    eyes, nose, mouth_r, mouth_l = (points[i] for i in ([0, 1], 2, 3, 4))
    assert np.all(mask[: int(np.ceil(eyes[:, 1].max())) + 1] == 0)  # eyes and above untouched
    assert mask[int(nose[1]), int(nose[0])] == 0  # the nose tip stays the frame's own
    mouth = (mouth_r + mouth_l) / 2
    for x, y in (mouth, mouth_r, mouth_l, (mouth[0], (nose[1] + 2 * mouth[1]) / 3)):
        assert mask[int(y), int(x)] > 0.95  # lips and upper lip replaced: no ghost
    chin_y = min(int(mouth[1] + 0.3 * (mouth[1] - eyes[:, 1].mean())), size - 1)
    assert mask[chin_y, int(mouth[0])] > 0.5
    assert max(mask[:, 0].max(), mask[:, -1].max(), mask[-1].max()) < 0.2
    assert np.allclose(mask, mask[:, ::-1], atol=0.1)
    # No straight top edge: the top of the region curves down towards the cheeks.
    cols = np.flatnonzero(mask.max(axis=0) > 0.5)
    tops = [int(np.argmax(mask[:, c] > 0.5)) for c in (cols[0] + 2, int(mouth[0]), cols[-1] - 2)]
    assert tops[0] > tops[1] + 2 and tops[2] > tops[1] + 2


def test_mouth_preset_is_inside_lower_face_and_feather_softens():
    points = template_points("wav2lip", 96)
    mouth = face_mask(points, 96, "mouth")
    lower = face_mask(points, 96, "lower-face")
    assert 0 < np.count_nonzero(mouth) < 0.6 * np.count_nonzero(lower)
    assert np.all(mouth <= lower + 0.05)
    hard = face_mask(points, 96, "lower-face", feather=0.05)
    soft = face_mask(points, 96, "lower-face", feather=0.8)
    partial = [np.count_nonzero((m > 0.05) & (m < 0.95)) for m in (hard, soft)]
    assert partial[1] > 3 * partial[0]
    with pytest.raises(ValueError, match="mask preset"):
        face_mask(points, 96, "whole-head")


def test_mask_follows_the_landmarks_not_the_template():
    points = template_points("ffhq", 256).astype(np.float64)
    moved = points.copy()
    moved[3:] += (6.0, 4.0)  # mouth off the template's spot (a turned or smiling face)
    a, b = face_mask(points, 256, "mouth"), face_mask(moved, 256, "mouth")
    xa, xb = (np.argwhere(m > 0.99)[:, 1].mean() for m in (a, b))
    assert xb - xa == pytest.approx(6.0, abs=1.5)
    bottom_a, bottom_b = (np.flatnonzero(m.max(axis=1) > 0.5).max() for m in (a, b))
    assert bottom_b - bottom_a == pytest.approx(4.0, abs=1.5)  # the chin side follows too


def test_change_map_is_zero_for_an_unchanged_crop(portrait):
    matrix = estimate_alignment(LANDMARKS, "wav2lip", 96)
    crop = warp_to_crop(portrait, matrix, 96)
    assert not change_map(crop, crop).any()
    changed = crop.copy()
    changed[60:75, 35:60] = 20
    c = change_map(changed, crop)
    assert c[67, 47] > 0.99 and c[10, 10] == 0 and c[67, 5] == 0


@pytest.mark.parametrize(("template", "size"), [("ffhq", 256), ("wav2lip", 96)])
@pytest.mark.parametrize("detail", [True, False])
def test_an_unchanged_crop_leaves_the_frame_bit_exact(portrait, template, size, detail):
    matrix = estimate_alignment(LANDMARKS, template, size)
    crop = warp_to_crop(portrait, matrix, size)
    frame = portrait.copy()
    pasted = paste_face(frame, crop, crop, matrix, LANDMARKS, PasteOptions(detail=detail))
    assert np.array_equal(frame, portrait)
    assert pasted is not None  # the region is still reported (the enhancer's area)
    x0, y0, x1, y1 = pasted.rect
    assert pasted.alpha.shape == (y1 - y0, x1 - x0) and pasted.alpha.max() > 0.99


def test_a_solid_colour_fills_the_region_and_nothing_outside(portrait):
    template, size = "ffhq", 256
    matrix = estimate_alignment(LANDMARKS, template, size)
    crop = warp_to_crop(portrait, matrix, size)
    frame = portrait.copy()
    paste_face(frame, np.full((size, size, 3), GREEN, np.uint8), crop, matrix, LANDMARKS)

    mask = region_of(LANDMARKS, matrix, size, "lower-face")
    x0, y0, x1, y1 = paste_region(matrix, mask, frame.shape)
    outside = np.ones(frame.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(frame[outside], portrait[outside])
    mouth = LANDMARKS[3:].mean(axis=0)
    patch = frame[int(mouth[1]) - 3 : int(mouth[1]) + 4, int(mouth[0]) - 3 : int(mouth[0]) + 4]
    assert np.abs(patch.astype(int) - GREEN).max() <= 2
    for x, y in LANDMARKS[:3]:  # eyes and nose tip keep the frame's pixels
        assert np.array_equal(frame[int(y), int(x)], portrait[int(y), int(x)])
    changed = _changed(portrait, frame)
    reach = _reach(frame.shape, matrix, mask)
    assert not np.any(changed & (reach == 0))
    assert (changed & (reach > 0.1) & (reach < 0.9)).sum() > 100  # it feathers
    rx0, ry0, rx1, ry1 = _bbox(reach > 0)
    assert x0 <= rx0 and y0 <= ry0 and x1 >= rx1 and y1 >= ry1  # covers all it may touch
    assert x0 >= rx0 - 2 and y0 >= ry0 - 2 and x1 <= rx1 + 2 and y1 <= ry1 + 2  # and no more


def _laplacian(image: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float64)
    return cv2.Laplacian(grey, cv2.CV_64F)


def test_detail_outside_the_lips_survives_a_change(portrait):
    """A model that brightens the skin around the mouth of its 96 px crop (not the lips):
    with detail restore that skin is brighter but as sharp as the source; the classic
    paste blurs it to the crop's resolution."""
    size = 96
    matrix = estimate_alignment(LANDMARKS, "wav2lip", size)
    crop = warp_to_crop(portrait, matrix, size)
    points = crop_points(LANDMARKS, matrix)
    skin = (face_mask(points, size, "lower-face") > 0.8) & (lips_mask(points, size) < 0.02)
    assert skin.sum() > 300
    output = crop.copy()
    output[skin] = np.clip(output[skin].astype(int) + 25, 0, 255).astype(np.uint8)

    # Frame pixels well inside that skin area (away from its edges).
    inner = cv2.erode(skin.astype(np.uint8), np.ones((3, 3), np.uint8))
    where = _reach(portrait.shape, matrix, inner.astype(np.float32)) > 0.99
    assert where.sum() > 500
    source = _laplacian(portrait)[where].var()
    for detail, low, high in ((True, 0.9, 1.2), (False, 0.0, 0.6)):
        frame = portrait.copy()
        paste_face(frame, output, crop, matrix, LANDMARKS, PasteOptions(detail=detail))
        ratio = _laplacian(frame)[where].var() / source
        assert low <= ratio <= high, f"detail={detail}: sharpness {ratio:.2f}x the source's"
        assert frame[where].mean() > portrait[where].mean() + 15  # it did brighten


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
    crop = warp_to_crop(moved, matrix, size)
    frame = moved.copy()
    solid = np.full((size, size, 3), GREEN, np.uint8)
    pasted = paste_face(frame, solid, crop, matrix, landmarks, PasteOptions(detail=False))

    mask = region_of(landmarks, matrix, size, "lower-face")
    reach = _reach(frame.shape, matrix, mask)
    changed = _changed(moved, frame)
    assert not np.any(changed & (reach == 0))
    if not (reach > 0).any():
        assert pasted is None and not changed.any()
        return
    assert pasted is not None
    x0, y0, x1, y1 = pasted.rect
    assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    full = reach > 0.99
    assert full.any() and np.abs(frame[full].astype(int) - GREEN).max() <= 3


def test_paste_region_is_independent_of_the_frame_size(portrait):
    """The work is proportional to the face: a 4K frame gives the same small rectangle."""
    matrix = estimate_alignment(LANDMARKS, "wav2lip", 96)
    mask = region_of(LANDMARKS, matrix, 96, "lower-face")
    small = paste_region(matrix, mask, portrait.shape)
    assert small == paste_region(matrix, mask, (2160, 3840, 3))
    big = np.zeros((2160, 3840, 3), np.uint8)
    big[: portrait.shape[0], : portrait.shape[1]] = portrait
    crop = warp_to_crop(big, matrix, 96)
    paste_face(big, 255 - crop, crop, matrix, LANDMARKS)
    assert not big[:, portrait.shape[1] :].any() and not big[portrait.shape[0] :].any()
    # The inverse of the alignment puts the template mouth on the frame's mouth.
    mouth = cv2.transform(template_points("wav2lip", 96)[None, 3:], invert(matrix))[0]
    assert np.abs(mouth - LANDMARKS[3:]).max() < 6


def test_output_and_crop_must_match():
    matrix = estimate_alignment(LANDMARKS, "wav2lip", 96)
    with pytest.raises(ValueError):
        paste_face(
            np.zeros((474, 474, 3), np.uint8),
            np.zeros((128, 128, 3), np.uint8),
            np.zeros((96, 96, 3), np.uint8),
            matrix,
            LANDMARKS,
        )
