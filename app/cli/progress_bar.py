"""A one-line progress bar on stderr for long CLI work."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):  # NaN or unknown
        return "--:--"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressBar:
    def __init__(
        self, label: str, stream: TextIO | None = None, width: int = 28, every_s: float = 0.1
    ):
        self.label, self.width, self.every_s = label, width, every_s
        self.stream = stream or sys.stderr
        self._last = 0.0
        self._shown = False

    def update(self, done: float, total: float, detail: str = "") -> None:
        now = time.monotonic()
        if now - self._last < self.every_s and done < total:
            return
        self._last = now
        fraction = min(1.0, done / total) if total else 1.0
        filled = int(fraction * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {fraction:6.1%} {detail}\x1b[K")
        self.stream.flush()
        self._shown = True

    def frames(self, done: int, total: int, fps: float, eta_s: float) -> None:
        self.update(done, total, f"{done}/{total} frames  {fps:5.1f} fps  ETA {_clock(eta_s)}")

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False
