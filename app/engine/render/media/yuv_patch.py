"""Encoder input frames from a kept YUV frame with one BGR rectangle converted into it.

A lip-sync render changes a small rectangle of each frame (blend.paste_face); the rest
is the presenter's own pixels. When the presenter's frames are kept across the jobs of
a batch (render/frame_cache.py), their YUV is kept too, and a later job converts only
the pasted rectangle instead of the whole frame. swscale's BGR -> yuv420p conversion
works on 2x2 blocks, so a rectangle on even coordinates converts to exactly the bytes
the whole-frame conversion gives there (tests/unit/test_frame_cache.py checks it):
the encoder receives the same frames either way.

yuv420p only (libx264's input); other encoders' formats are converted whole.
"""

from __future__ import annotations

import numpy as np
from av.video.frame import VideoFrame
from av.video.reformatter import ColorRange, Colorspace

from app.engine.render.media.writer import FrameConverter

FORMAT = "yuv420p"
Rect = tuple[int, int, int, int]  # x0, y0, x1, y1, end-exclusive


class YuvPatcher:
    """Makes encoder frames for one writer's size (even width and height). One per thread."""

    def __init__(self, width: int, height: int) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"yuv420p needs an even size, not {width}x{height}")
        self.width, self.height = width, height
        self._region = FrameConverter(2, 2, FORMAT)  # resized per rectangle
        self._steady = (0, 0)  # the largest rectangle steady_rect has given (w, h)

    def even_rect(self, rect: Rect) -> Rect:
        """`rect` grown to even coordinates (whole 2x2 chroma blocks), within the frame."""
        x0, y0, x1, y1 = rect
        return (
            max(x0 - x0 % 2, 0),
            max(y0 - y0 % 2, 0),
            min(x1 + x1 % 2, self.width),
            min(y1 + y1 % 2, self.height),
        )

    def steady_rect(self, rect: Rect) -> Rect:
        """`rect` on even coordinates, grown to the largest size this patcher has given
        before (within the frame). swscale makes a new context for every new size, which
        costs more than converting a mouth-sized rectangle; a steady size reuses one."""
        x0, y0, x1, y1 = self.even_rect(rect)
        w = min(max(x1 - x0, self._steady[0]), self.width)
        h = min(max(y1 - y0, self._steady[1]), self.height)
        self._steady = (w, h)
        x0, y0 = min(x0, self.width - w), min(y0, self.height - h)  # still inside the frame
        return x0, y0, x0 + w, y0 + h

    def frame(
        self, yuv: np.ndarray, region: np.ndarray | None = None, origin: tuple[int, int] = (0, 0)
    ) -> VideoFrame:
        """A new encoder frame: `yuv` (as VideoFrame.to_ndarray gives it), with the BGR
        `region` (even-sized, at the even `origin` x, y) converted into it."""
        out = VideoFrame.from_ndarray(yuv, format=FORMAT)
        out.colorspace = Colorspace.ITU709  # as FrameConverter's frames are tagged
        out.color_range = ColorRange.MPEG
        if region is not None:
            self._write(_planes_of(out), region, origin)
        return out

    def patched(self, yuv: np.ndarray, region: np.ndarray, origin: tuple[int, int]) -> np.ndarray:
        """A copy of `yuv` (a to_ndarray array) with the BGR `region` converted into it."""
        out = np.array(yuv, copy=True)
        self._write(_planes_of_array(out, self.width, self.height), region, origin)
        return out

    def _write(self, planes: list[np.ndarray], region: np.ndarray, origin: tuple[int, int]) -> None:
        x0, y0 = origin
        h, w = region.shape[:2]
        if x0 % 2 or y0 % 2 or w % 2 or h % 2:
            raise ValueError(f"region {w}x{h} at {x0},{y0} is not on even coordinates")
        self._region.width, self._region.height = w, h
        converted = self._region(np.ascontiguousarray(region))
        for k, (plane, source) in enumerate(zip(planes, _planes_of(converted))):
            s = 1 if k == 0 else 2
            plane[y0 // s : (y0 + h) // s, x0 // s : (x0 + w) // s] = source


def _planes_of(frame: VideoFrame) -> list[np.ndarray]:
    """Writable views of a yuv420p frame's Y, U and V planes (row padding cut off)."""
    views = []
    for plane in frame.planes:
        rows = np.frombuffer(memoryview(plane), np.uint8)[: plane.height * plane.line_size]
        rows = rows.reshape(plane.height, plane.line_size)
        views.append(rows[:, : plane.width])
    return views


def _planes_of_array(yuv: np.ndarray, width: int, height: int) -> list[np.ndarray]:
    """Views of the Y, U and V planes in a VideoFrame.to_ndarray yuv420p array."""
    flat = yuv.reshape(-1)
    luma, chroma = width * height, (width // 2) * (height // 2)
    return [
        flat[:luma].reshape(height, width),
        flat[luma : luma + chroma].reshape(height // 2, width // 2),
        flat[luma + chroma : luma + 2 * chroma].reshape(height // 2, width // 2),
    ]
