"""The built-in, weightless "draft" lip-sync model: an audio-driven mouth warp.

`prepare` turns the clip's mel chunks into one mouth openness per frame (speech-band
loudness, normalised per clip, with an absolute floor so silence stays closed, and a
gate that shuts the mouth within 2 frames of a pause); `infer` drops the lower lip
and jaw by that openness with a smooth vertical displacement field and fills the
opened gap with a mouth interior:

- where the presenter's own mouth is already open (teeth or a dark gap between the
  lips), the warp opens *that* opening further, from its middle, instead of adding a
  second one under it, and the stretched interior is the presenter's own;
- otherwise the gap shows the presenter's own mouth interior, taken from the most
  open frame seen so far (crops are aligned by the landmarks, so it lines up), or,
  for a still or a closed-mouth video, a shaded cavity with soft edges, upper teeth
  and tongue.

Mouth position is the template's, so it works on any aligned crop without landmarks.
"""

from __future__ import annotations

import cv2
import numpy as np

from app.engine.curves import smoothstep
from app.engine.render.audio import (
    MAX_ABS_VALUE,
    MEL_STEP,
    MIN_LEVEL_DB,
    NUM_MELS,
    mel_centre_frequencies,
)
from app.engine.render.crop import template_points

# --- openness from audio -------------------------------------------------------------

# Mel bands centred in 300-3000 Hz: voiced speech energy, not rumble or hiss.
_CENTRES_HZ = mel_centre_frequencies()
SPEECH_BINS = np.flatnonzero((_CENTRES_HZ >= 300.0) & (_CENTRES_HZ <= 3000.0))
# Chunk i starts at frame i's time (Wav2Lip's rule): its first 5 columns (~60 ms)
# are the audio of that frame, with a little lead so the lips move with the sound.
FRAME_COLUMNS = slice(0, 5)
# Band level (dB, the mel's own scale) below which the mouth never opens: -50 dBFS
# white noise sits near -77, quiet real speech (-29 dBFS) peaks around -46.
ABSOLUTE_FLOOR_DB = -72.0
NOISE_MARGIN_DB = 6.0  # above the clip's quiet frames (10th percentile)
MIN_RANGE_DB = 12.0  # never stretch less than this to full openness
ATTACK = 0.75  # fraction of the way to a louder target per frame: ~1-2 frames
RELEASE = 0.45  # per frame towards a quieter (not silent) one, between syllables
SNAP = 0.05  # openness below this is exactly 0, so the crop passes through untouched
# Pause gate: a frame whose first ~37 ms is below the speech threshold is a pause (or
# the end of speech); the mouth then shuts by this fraction per frame, so it is closed
# at the second silent frame: a 120 ms pause has at least 2 (at 25-30 fps).
GATE_COLUMNS = slice(0, 3)
CLOSE = 0.8


def band_level_db(mels: np.ndarray, columns: slice = FRAME_COLUMNS) -> np.ndarray:
    """(T, 80, 16) normalised mel chunks -> (T,) speech-band power in dB per frame."""
    chunk = mels[:, SPEECH_BINS, columns].astype(np.float64)
    # Undo the [-4, 4] normalisation: value -4 is MIN_LEVEL_DB, +4 is 0 dB.
    db = (chunk + MAX_ABS_VALUE) * (-MIN_LEVEL_DB / (2 * MAX_ABS_VALUE)) + MIN_LEVEL_DB
    power = np.power(10.0, db / 10.0).mean(axis=(1, 2))
    return 10.0 * np.log10(power)


def openness_from_mels(mels: np.ndarray) -> np.ndarray:
    """(T, 80, 16) mel chunks of the whole clip -> (T,) float32 mouth openness in [0, 1]."""
    mels = np.asarray(mels)
    if mels.ndim != 3 or mels.shape[1:] != (NUM_MELS, MEL_STEP):
        raise ValueError(f"mels must be (T, {NUM_MELS}, {MEL_STEP}), got {mels.shape}")
    if len(mels) == 0:
        return np.zeros(0, dtype=np.float32)
    level = band_level_db(mels)
    quiet, loud = np.percentile(level, [10.0, 95.0])
    # Robust per-clip range, but never below the absolute floor: a silent or
    # noise-only clip has nothing above the floor and stays closed.
    high = max(float(loud), ABSOLUTE_FLOOR_DB + MIN_RANGE_DB)
    low = min(max(float(quiet) + NOISE_MARGIN_DB, ABSOLUTE_FLOOR_DB), high - MIN_RANGE_DB)
    target = np.clip((level - low) / (high - low), 0.0, 1.0)
    paused = band_level_db(mels, GATE_COLUMNS) <= low
    smoothed = np.empty_like(target)
    value = 0.0
    for i, goal in enumerate(target):  # attack/release follower, as a VU meter
        if paused[i]:
            value *= 1.0 - CLOSE
        else:
            value += (ATTACK if goal > value else RELEASE) * (goal - value)
        value = 0.0 if value < SNAP else value
        smoothed[i] = value
    smoothed[smoothed < SNAP] = 0.0
    return smoothed.astype(np.float32)


# --- the mouth warp --------------------------------------------------------------------

# All in units of the mouth width (corner to corner), at openness 1.
LIP_DROP = 0.24  # lower lip moves down this much
LIP_LIFT = 0.07  # upper lip moves up this much
SEAM = 0.035  # half-height of the lip seam that stretches into the gap
LIP_HALF = 0.3  # horizontal half-extent of the opening at the lip line
JAW_HALF = 0.55  # ...and at the chin: the jaw drops wider than the lips part
UPPER_REACH = 0.38  # the upper lip nudge fades out this far above the lip line
LOWER_HOLD = 0.12  # full drop down to here below the lip line, then fades to the crop bottom


def _plateau(t: np.ndarray) -> np.ndarray:
    """Flat-topped bump, 1 at 0 and ~0 beyond |t| = 1.6: the rounded (U, not V) shape
    of parted lips, and still smooth everywhere so the warp cannot tear."""
    return np.exp(-(t**4))


class _MouthGeometry:
    """Unit displacement fields for one crop size and lip line; openness only scales
    them. `shift` moves the line the mouth opens along down (px) from the corners'."""

    def __init__(self, size: int, template: str, shift: int = 0) -> None:
        points = template_points(template, size).astype(np.float64)
        left, right = points[3], points[4]
        self.cx, self.cy = (left + right) / 2.0
        self.cy += shift
        self.width = float(np.linalg.norm(right - left))
        w = self.width
        # Rows the warp may touch: from above the upper lip's fade to the bottom.
        self.y0 = int(max(0.0, np.floor(self.cy - (UPPER_REACH + 0.02) * w)))
        self.y1 = size
        self.x0 = int(max(0.0, np.floor(self.cx - 1.5 * w)))
        self.x1 = int(min(float(size), np.ceil(self.cx + 1.5 * w)))
        band = int(0.1 * w) + 1  # the lips, in crop coordinates
        self.lips = (
            slice(int(self.cy) - band, int(self.cy) + band),
            slice(int(self.cx - 0.3 * w), int(self.cx + 0.3 * w)),
        )
        ys = np.arange(self.y0, self.y1, dtype=np.float64)[:, None]
        xs = np.arange(self.x0, self.x1, dtype=np.float64)[None, :]
        self.ys, self.xs = ys, xs
        dx = xs - self.cx
        below = np.clip((ys - self.cy) / (size - self.cy), 0.0, 1.0)
        half = (LIP_HALF + (JAW_HALF - LIP_HALF) * smoothstep(below / 0.6)) * w
        lower_profile = _plateau(dx / half)
        upper_profile = _plateau(dx / (0.85 * LIP_HALF * w))
        # Across the seam the field switches from "up" to "down": that stretch is the gap.
        seam = smoothstep((ys - (self.cy - SEAM * w)) / (2 * SEAM * w))
        hold_end = self.cy + LOWER_HOLD * w
        fade = 1.0 - smoothstep((ys - hold_end) / (size - 2 - hold_end))
        reach = smoothstep((ys - (self.cy - UPPER_REACH * w)) / ((UPPER_REACH - SEAM) * w))
        self.down = LIP_DROP * w * lower_profile * seam * fade  # forward, pixels
        self.up = LIP_LIFT * w * upper_profile * (1.0 - seam) * reach
        # Lip edges in the output at openness 1, per column: they bound the gap.
        self.gap_profile = _plateau(dx[0] / (LIP_HALF * w))
        self.upper_profile = upper_profile[0]
        # The gap never leaves this box (ROI coordinates): only it is shaded.
        self.box = (
            slice(
                int(self.cy - (LIP_LIFT + 0.05) * w) - self.y0,
                int(self.cy + (LIP_DROP + 0.05) * w) + 1 - self.y0,
            ),
            slice(int(self.cx - 0.6 * w) - self.x0, int(self.cx + 0.6 * w) + 1 - self.x0),
        )

    def maps(self, openness: float) -> tuple[np.ndarray, np.ndarray]:
        """cv2.remap maps for the ROI: forward field y -> y + f inverted per column."""
        forward = self.ys + openness * (self.down - self.up)  # (rows, cols), monotone in y
        rows, cols = forward.shape
        # Invert all columns in one np.interp: offset each column into its own range.
        offset = (np.arange(cols, dtype=np.float64) * 4.0 * (self.y1 + 1))[:, None]
        xp = (forward.T + offset).ravel()
        fp = np.broadcast_to(self.ys[:, 0], (cols, rows)).ravel()
        query = (np.broadcast_to(self.ys[:, 0], (cols, rows)) + offset).ravel()
        source_y = np.interp(query, xp, fp).reshape(cols, rows).T
        map_x = np.broadcast_to(self.xs, (rows, cols)).astype(np.float32)
        return map_x, source_y.astype(np.float32)

    def interior(
        self, openness: float, cover: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Inside the mouth box: soft mask of the opened gap between the lips; how far
        down the gap each pixel is (0 upper lip, 1 lower lip); the gap height (px).

        `cover`: the gap opened inside teeth or an open mouth, whose stretched pixels
        (white streaks of teeth) must not show even where the gap is thin."""
        w = self.width
        ys = self.ys[self.box[0]]
        top = self.cy - openness * LIP_LIFT * w * self.upper_profile[self.box[1]]  # (cols,)
        if cover:  # the upper teeth stay: the cavity starts at the lip line, below them
            top = np.full_like(top, self.cy)
        bottom = self.cy + openness * LIP_DROP * w * self.gap_profile[self.box[1]]
        height = bottom - top
        inset = 0.0 if cover else 0.015 * w  # else keep a sliver of lip colour at each edge
        soft = 0.045 * w
        inside = np.minimum(ys - top - inset, bottom - inset - ys) / soft
        alpha = smoothstep(0.5 + inside)
        if cover:  # only a gap of a pixel or two (at the corners) is left unshaded
            alpha *= smoothstep((height - 1.5) / 3.0)
        else:  # where the gap is only a few pixels (near the corners) it fades out
            alpha *= smoothstep((height - 2 * inset) / (3.0 * soft))
        depth = np.clip((ys - top) / np.maximum(height, 1e-6), 0.0, 1.0)
        return alpha, depth, np.broadcast_to(height, alpha.shape)


# --- the presenter's own mouth ------------------------------------------------------------

MIN_OPENING = 0.04  # mouth widths: a thinner band between the lips is just the lip line
MIN_INTERIOR = 0.1  # a dark opening this tall is worth keeping as the mouth's interior
MAX_SHIFT = 0.25  # the lip line moves at most this far (mouth widths) to an opening


Opening = tuple[int, int, int]  # top row, bottom row, dark rows (find_opening)


def find_opening(crop: np.ndarray, geo: _MouthGeometry) -> Opening | None:
    """The presenter's own mouth opening on the centre columns of an aligned crop:
    (top row, bottom row, rows of it that are dark), or None for a closed mouth.

    Open means teeth (brighter and greyer than the skin) or a dark gap (under half the
    skin's luma) across most of the centre columns, in a run of rows that
    reaches the lip line."""
    w, size = geo.width, crop.shape[0]
    y0, y1 = int(max(0.0, geo.cy - 0.3 * w)), int(min(size, geo.cy + 0.45 * w))
    x0, x1 = int(max(0.0, geo.cx - 0.6 * w)), int(min(size, geo.cx + 0.6 * w))
    box = np.ascontiguousarray(crop[y0:y1, x0:x1])
    sat = cv2.cvtColor(box, cv2.COLOR_BGR2HSV)[..., 1].astype(np.float32)
    luma = cv2.cvtColor(box, cv2.COLOR_BGR2GRAY).astype(np.float32)
    skin_y, skin_s = float(np.median(luma)), float(np.median(sat))
    centre = slice(int(geo.cx - 0.12 * w) - x0, int(geo.cx + 0.12 * w) + 1 - x0)
    y, s = luma[:, centre], sat[:, centre]
    dark = (y < 0.5 * skin_y).mean(axis=1) >= 0.5
    teeth = ((y > skin_y + 20) & (s < 0.75 * skin_s)).mean(axis=1) >= 0.5
    open_rows = dark | teeth
    line = int(round(geo.cy)) - y0
    near = [r for r in range(line - int(0.15 * w), line + int(0.15 * w) + 1) if 0 <= r < len(y)]
    seeds = [r for r in near if open_rows[r]]
    if not seeds:
        return None
    seed = min(seeds, key=lambda r: abs(r - line))
    top = bottom = seed
    while top > 0 and open_rows[top - 1]:
        top -= 1
    while bottom < len(open_rows) - 1 and open_rows[bottom + 1]:
        bottom += 1
    # Teeth show an open mouth; dark alone must be more than the shadow of the lip line.
    n_teeth, n_dark = int(teeth[top : bottom + 1].sum()), int(dark[top : bottom + 1].sum())
    if n_teeth < MIN_OPENING * w and n_dark < 2 * MIN_OPENING * w:
        return None
    return top + y0, bottom + y0, n_dark


class DraftModel:
    """Weightless default: follows speech loudness with a warped, shaded mouth."""

    name = "draft"
    template = "wav2lip"
    crop_size = 256
    batch_size = 8

    def __init__(self) -> None:
        self._openness: np.ndarray | None = None
        self._geometry: dict[tuple[int, int], _MouthGeometry] = {}
        # crop size -> (the most open interior seen in this clip, its dark rows)
        self._interior: dict[int, tuple[np.ndarray, int]] = {}

    @property
    def openness(self) -> np.ndarray:
        """Per-frame openness from the last prepare()."""
        if self._openness is None:
            raise RuntimeError("DraftModel.prepare() must see the clip's mels before infer()")
        return self._openness

    def prepare(self, mels: np.ndarray) -> None:
        self._openness = openness_from_mels(mels)
        self._interior.clear()  # a new clip: its own presenter's mouth

    def infer(self, crops: np.ndarray, mels: np.ndarray, indices: np.ndarray) -> np.ndarray:
        if crops.ndim != 4 or crops.shape[1] != crops.shape[2] or crops.shape[3] != 3:
            raise ValueError(f"crops must be (N, S, S, 3), got {crops.shape}")
        if len(indices) != len(crops):
            raise ValueError(f"{len(crops)} crops but {len(indices)} indices")
        # The openness was worked out in prepare() from these same chunks, with the
        # whole clip's loudness range and the smoothing across frames.
        amounts = self.openness[np.asarray(indices, dtype=np.int64)]
        # The presenter's own opening, once per crop: the interior and the opening use it.
        openings = [find_opening(crop, self._geometry_for(crop.shape[0])) for crop in crops]
        for crop, opening in zip(crops, openings):
            self._remember_interior(crop, opening)
        out = crops.copy()  # openness 0: bit-identical
        for i, amount in enumerate(amounts):
            if amount > 0.0:
                out[i] = self._open_mouth(crops[i], float(amount), openings[i])
        return out

    def _geometry_for(self, size: int, shift: int = 0) -> _MouthGeometry:
        geo = self._geometry.get((size, shift))
        if geo is None:
            geo = self._geometry[(size, shift)] = _MouthGeometry(size, self.template, shift)
        return geo

    def _remember_interior(self, crop: np.ndarray, opening: Opening | None) -> None:
        """Keep the most open dark mouth interior of the clip so far (box columns);
        `opening`: find_opening's answer for `crop`."""
        size = crop.shape[0]
        geo = self._geometry_for(size)
        if opening is None or opening[2] < MIN_INTERIOR * geo.width:
            return
        best = self._interior.get(size)
        if best is None or opening[2] > best[1]:
            top, bottom, dark = opening
            patch = crop[top : bottom + 1, geo.x0 : geo.x1][:, geo.box[1]]
            self._interior[size] = (patch.astype(np.float32), dark)

    def open_mouth(self, crop: np.ndarray, openness: float) -> np.ndarray:
        """One crop with the mouth opened by `openness` in [0, 1]."""
        if openness <= 0.0:
            return crop.copy()
        return self._open_mouth(
            crop, openness, find_opening(crop, self._geometry_for(crop.shape[0]))
        )

    def _open_mouth(self, crop: np.ndarray, openness: float, opening: Opening | None) -> np.ndarray:
        size = crop.shape[0]
        out = crop.copy()
        if openness <= 0.0:
            return out
        geo = self._geometry_for(size)
        if opening is not None:
            # Open the presenter's own opening further, from its middle, by what it
            # lacks: a mouth already open that far is left as it is.
            top, bottom, dark = opening
            limit = MAX_SHIFT * geo.width
            shift = int(round(np.clip((top + bottom) / 2.0 - geo.cy, -limit, limit)))
            full = (LIP_DROP + LIP_LIFT) * geo.width
            already = max(0.0, dark - 2 * SEAM * geo.width)  # beyond the lip line's shadow
            openness = max(0.0, openness * full - already) / full
            if openness < SNAP:
                return out
            geo = self._geometry_for(size, shift)
        map_x, map_y = geo.maps(openness)
        warped = cv2.remap(
            crop, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        alpha, depth, height = geo.interior(openness, cover=opening is not None)
        colour = self._interior_colour(crop, geo, depth, height, opening is None)
        # Shadow towards the corners, where the cavity is deeper.
        colour *= (0.6 + 0.4 * geo.gap_profile[geo.box[1]])[None, :, None]
        a = alpha[..., None]
        mouth = warped[geo.box]
        warped[geo.box] = np.clip(mouth * (1.0 - a) + colour * a + 0.5, 0, 255).astype(np.uint8)
        out[geo.y0 : geo.y1, geo.x0 : geo.x1] = warped
        return out

    def _interior_colour(
        self,
        crop: np.ndarray,
        geo: _MouthGeometry,
        depth: np.ndarray,
        height: np.ndarray,
        with_teeth: bool,
    ) -> np.ndarray:
        """(box rows, box cols, 3) float32: what shows between the parted lips; painted
        upper teeth only `with_teeth` (not under the presenter's own)."""
        kept = self._interior.get(crop.shape[0])
        if kept is not None:
            # The presenter's own interior, stretched top to bottom over the gap.
            patch = kept[0]
            rows, cols = depth.shape
            map_x = np.broadcast_to(np.arange(cols, dtype=np.float32), (rows, cols))
            map_y = (depth * (patch.shape[0] - 1)).astype(np.float32)
            return cv2.remap(patch, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # Cavity colours scaled to the lips' own brightness, so a dim or dark-skinned
        # face does not get a bright hole or glowing teeth.
        light = float(np.clip(crop[geo.lips].mean() / 150.0, 0.35, 1.2))
        throat = np.array([26.0, 22.0, 48.0], dtype=np.float32) * light  # BGR
        tongue = np.array([62.0, 60.0, 118.0], dtype=np.float32) * light
        teeth = np.array([150.0, 160.0, 172.0], dtype=np.float32) * light
        # Upper teeth show under the upper lip once the gap is a few pixels tall; the
        # tongue's red brightens the bottom; the middle stays dark.
        tooth_edge = 0.12 + 2.0 / np.maximum(height, 1.0)
        tooth = (
            (0.75 if with_teeth else 0.0)
            * (1.0 - smoothstep((depth - tooth_edge) / 0.18))
            * smoothstep((height - 0.06 * geo.width) / (0.1 * geo.width))
        )
        tongue_w = smoothstep((depth - 0.55) / 0.45) * 0.8
        colour = throat + tongue_w[..., None] * (tongue - throat)
        return colour + tooth[..., None] * (teeth - colour)
