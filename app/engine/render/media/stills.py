"""Oversized stills are scaled down once, when read (issue 11 item 12).

A 36 MP photo as the presenter would be 108 MB per frame through every stage and the
encoder, for a video no player shows at that size: a render of one took 7.2 GB. A still
whose long side exceeds `max_side` (RenderSettings.max_still_side: 4096 by default,
`--max-still-side`, 0 = never) is rendered with its long side at `max_side` (rounded
down to even), its aspect kept and both sides even (yuv420p). Videos are never scaled:
their size is the footage the user chose.
"""

from __future__ import annotations

import os
from dataclasses import replace

from app.engine.render.media.probe import VideoInfo


def still_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size a still of `width` x `height` is rendered at."""
    longest = max(width, height)
    if max_side <= 0 or longest <= max_side:
        return width, height
    # Integer arithmetic: the long side comes out at max_side exactly (rounded down to even).
    return (
        max(2, width * max_side // longest // 2 * 2),
        max(2, height * max_side // longest // 2 * 2),
    )


def fit_still(info: VideoInfo, max_side: int) -> VideoInfo:
    """`info` as the render reads it: a still's size after still_size; a video unchanged
    (the same object when nothing changes)."""
    if not info.is_image:
        return info
    width, height = still_size(info.width, info.height, max_side)
    if (width, height) == (info.width, info.height):
        return info
    return replace(info, width=width, height=height)


def still_note(path: str | os.PathLike[str], info: VideoInfo, max_side: int) -> str | None:
    """One line saying that a still is scaled for the render, else None."""
    render = fit_still(info, max_side)
    if render is info:
        return None
    return (
        f"{path}: the {info.width}x{info.height} still is scaled to "
        f"{render.width}x{render.height} for the render (its long side is over {max_side} px; "
        "--max-still-side 0 keeps the full size)"
    )
