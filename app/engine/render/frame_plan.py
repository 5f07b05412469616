"""Which source frame each output frame shows, and reading them in that order.

Output length follows the audio. The first pass reads the video forward; if the
audio is longer, the video is extended: ping-pong (forward, backward, forward …,
no hard cut at the loop point) or repeat. Backward runs are decoded in short
forward chunks and reversed, so memory stays at one chunk of frames.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from app.engine.errors import InputError

REVERSE_CHUNK = 24  # frames held at once while playing a stretch backwards


class FrameSource(Protocol):
    def frames(self, start: int = 0) -> Iterator[np.ndarray]: ...


@dataclass(frozen=True)
class PlannedFrame:
    out_index: int
    src_index: int
    frame: np.ndarray
    first_visit: bool  # False when this source frame was shown before (its face is known)


def source_index(t: int, n_src: int, loop: str) -> int:
    """Source frame for output frame t once the video has n_src frames."""
    if n_src <= 1:
        return 0
    if loop == "repeat":
        return t % n_src
    period = 2 * n_src - 2
    p = t % period
    return p if p < n_src else period - p


def plan_frames(
    source: FrameSource, n_out: int, loop: str, name: str = "video"
) -> Iterator[PlannedFrame]:
    n_src = 0
    last: np.ndarray | None = None
    first: np.ndarray | None = None  # kept as decoded: the render pastes into what we yield
    with closing(source.frames(0)) as first_pass:
        for frame in first_pass:
            if n_src >= n_out:
                return
            if n_src == 0:
                first, frame = frame, frame.copy()
            elif n_src == 1:
                first = None  # not a still: memory stays flat
            yield PlannedFrame(n_src, n_src, frame, True)
            last, n_src = frame, n_src + 1
    if last is None:
        raise InputError(f"{name}: no video frame could be decoded")
    if first is not None:  # a still image: the same picture for every output frame
        for t in range(1, n_out):
            yield PlannedFrame(t, 0, first.copy(), False)
        return
    t = n_src
    while t < n_out:
        run = _next_run(t, n_out, n_src, loop)
        for src, frame in _read_run(source, run, last):
            yield PlannedFrame(t, src, frame, False)
            t += 1


def _next_run(t: int, n_out: int, n_src: int, loop: str) -> list[int]:
    """The longest stretch from output frame t whose source indices step by one."""
    run = [source_index(t, n_src, loop)]
    step = 0
    for u in range(t + 1, n_out):
        nxt = source_index(u, n_src, loop)
        d = nxt - run[-1]
        if d not in (1, -1) or (step and d != step):
            break
        step = d
        run.append(nxt)
        if step == -1 and len(run) >= REVERSE_CHUNK:
            break
    return run


def _read_run(
    source: FrameSource, run: list[int], fallback: np.ndarray
) -> Iterator[tuple[int, np.ndarray]]:
    lo = min(run)
    with closing(source.frames(lo)) as frames:
        if run[0] <= run[-1]:  # forward: stream straight from the decoder
            for src in run:
                frame = next(frames, None)
                # the re-read came up short near the end: hold the last frame
                fallback = frame if frame is not None else fallback.copy()
                yield src, fallback
            return
        chunk = [f for _, f in zip(range(len(run)), frames)]
    while len(chunk) < len(run):
        chunk.append(chunk[-1].copy() if chunk else fallback.copy())
    yield from zip(run, reversed(chunk))
