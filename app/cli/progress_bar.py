"""A one-line progress bar on stderr for long CLI work."""

from __future__ import annotations

import sys
from typing import TextIO

from app.engine.progress import format_duration
from app.engine.throttle import Throttle


class ProgressBar:
    def __init__(
        self, label: str, stream: TextIO | None = None, width: int = 28, every_s: float = 0.1
    ):
        self.label, self.width = label, width
        self.stream = stream or sys.stderr
        self._throttle = Throttle(every_s)
        self._shown = False

    def update(self, done: float, total: float, detail: str = "") -> None:
        if not self._throttle.ready(force=done >= total):
            return
        fraction = min(1.0, done / total) if total else 1.0
        filled = int(fraction * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {fraction:6.1%} {detail}\x1b[K")
        self.stream.flush()
        self._shown = True

    def frames(self, done: int, total: int, fps: float, eta_s: float) -> None:
        eta = format_duration(eta_s, unknown="--:--")
        self.update(done, total, f"{done}/{total} frames  {fps:5.1f} fps  ETA {eta}")

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False
