"""Progress records the pipeline yields; the CLI and the Qt workers consume them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class FrameProgress:
    done: int  # output frames written so far
    total: int  # output frames the render will write
    fps: float  # recent throughput, output frames per second
    eta_s: float  # seconds left at that rate
    # A small BGR copy of the latest frame, now and then (not every frame).
    preview: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


def format_duration(seconds: float, unknown: str = "–") -> str:
    """A duration or ETA as m:ss, h:mm:ss from an hour on; `unknown` when there is none
    (NaN, infinite or negative: no rate measured yet)."""
    if not math.isfinite(seconds) or seconds < 0:
        return unknown
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
