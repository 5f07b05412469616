"""Draw the app icon: app/resources/icons/lipsync-studio.png (256 px, plus 512 px) and .ico.

    .venv/bin/python installer/make_icon.py

A rounded violet square with a pair of open lips and a sound wave either side. Drawn once
at 1024 px with anti-aliased OpenCV polygons, then area-downsampled to every icon size, so
small sizes stay crisp. The .ico holds PNG-compressed images (Windows Vista and later),
written by hand: no Pillow needed. The files are committed; run this only to change them.
"""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np

ICONS = Path(__file__).resolve().parents[1] / "app" / "resources" / "icons"
BASE = 1024
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
TOP, BOTTOM = (0xF5, 0x4F, 0x6D), (0xB0, 0x2A, 0x3A)  # BGR: indigo-violet gradient
LIPS = (0x7A, 0x6B, 0xFF)  # BGR coral
INSIDE = (0x3B, 0x12, 0x1E)  # BGR deep indigo
WAVE = (0xFF, 0xFF, 0xFF)


def _curve(xs: np.ndarray, ys: np.ndarray, cx: float, cy: float, half_w: float) -> np.ndarray:
    return np.stack([cx + xs * half_w, cy + ys * half_w], axis=1)


def _poly(img: np.ndarray, pts: np.ndarray, colour: tuple[int, int, int]) -> None:
    shift = 4
    cv2.fillPoly(
        img,
        [np.round(pts * (1 << shift)).astype(np.int32)],
        colour,
        lineType=cv2.LINE_AA,
        shift=shift,
    )


def draw(size: int = BASE) -> np.ndarray:
    """The icon as BGRA uint8, size x size."""
    t = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None, None]
    bgr = np.array(TOP, np.float32) * (1 - t) + np.array(BOTTOM, np.float32) * t
    img = np.ascontiguousarray(np.broadcast_to(bgr, (size, size, 3))).astype(np.uint8)

    # Lips: outer contour of the upper lip (with a cupid's bow), the opening, the lower lip.
    cx, cy, half_w = size / 2, size * 0.52, size * 0.25
    x = np.linspace(-1.0, 1.0, 241)
    bow = 1.0 - 0.38 * np.exp(-((x / 0.16) ** 2))
    upper_outer = -0.46 * (1 - x**2) ** 0.55 * bow
    upper_inner = -0.12 * (1 - x**2) ** 0.9
    lower_inner = 0.26 * (1 - x**2) ** 0.9
    lower_outer = 0.56 * (1 - x**2) ** 0.6
    lips = np.concatenate(
        [_curve(x, upper_outer, cx, cy, half_w), _curve(x[::-1], lower_outer[::-1], cx, cy, half_w)]
    )
    opening = np.concatenate(
        [_curve(x, upper_inner, cx, cy, half_w), _curve(x[::-1], lower_inner[::-1], cx, cy, half_w)]
    )
    _poly(img, lips, LIPS)
    _poly(img, opening, INSIDE)

    # Sound waves: two arcs each side of the mouth.
    for side in (-1, 1):
        for k, radius in enumerate((0.31, 0.39)):
            centre = (int(round(cx * 16)), int(round(cy * 16)))
            axes = (int(round(size * radius * 16)), int(round(size * radius * 16)))
            span = 26 - 6 * k
            start = -span if side > 0 else 180 - span
            cv2.ellipse(
                img,
                centre,
                axes,
                0,
                start,
                start + 2 * span,
                WAVE,
                thickness=max(1, int(round(size * (0.036 - 0.008 * k)))),
                lineType=cv2.LINE_AA,
                shift=4,
            )

    # Rounded-square alpha mask.
    alpha = np.zeros((size, size), np.uint8)
    r, m = size * 0.22, size * 0.04
    a, b = m + r, size - m - r
    cv2.rectangle(alpha, (int(a), int(m)), (int(b), int(size - m)), 255, -1)
    cv2.rectangle(alpha, (int(m), int(a)), (int(size - m), int(b)), 255, -1)
    for px, py in ((a, a), (b, a), (a, b), (b, b)):
        cv2.circle(
            alpha, (int(px * 16), int(py * 16)), int(r * 16), 255, -1, lineType=cv2.LINE_AA, shift=4
        )
    return np.dstack([img, alpha])


def resized(icon: np.ndarray, size: int) -> np.ndarray:
    """Area-downsample with premultiplied alpha (no dark fringes at the rounded edge)."""
    rgb = icon[..., :3].astype(np.float32) * (icon[..., 3:] / 255.0)
    small_rgb = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
    small_a = cv2.resize(
        icon[..., 3].astype(np.float32), (size, size), interpolation=cv2.INTER_AREA
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        unpremult = np.where(small_a[..., None] > 0, small_rgb * 255.0 / small_a[..., None], 0)
    out = np.dstack([unpremult, small_a])
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def png_bytes(icon: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", icon, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()


def ico_bytes(images: list[bytes], sizes: tuple[int, ...]) -> bytes:
    """An ICO file whose entries are PNG streams (ICONDIR + ICONDIRENTRY[] + data)."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries, blobs = b"", b""
    for size, data in zip(sizes, images):
        dim = 0 if size >= 256 else size  # 0 means 256
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return header + entries + blobs


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    big = draw()
    (ICONS / "lipsync-studio.png").write_bytes(png_bytes(resized(big, 256)))
    (ICONS / "lipsync-studio-512.png").write_bytes(png_bytes(resized(big, 512)))
    pngs = [png_bytes(resized(big, n)) for n in ICO_SIZES]
    (ICONS / "lipsync-studio.ico").write_bytes(ico_bytes(pngs, ICO_SIZES))
    for name in ("lipsync-studio.png", "lipsync-studio-512.png", "lipsync-studio.ico"):
        print(f"{ICONS / name}: {(ICONS / name).stat().st_size} bytes")


if __name__ == "__main__":
    main()
