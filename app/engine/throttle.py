"""The one rate limit for progress: an event passes at most once per interval (or when
forced: the last frame always passes). Used for the GUI's signals (workers.py), the job
store's progress writes (scheduler.py) and the command line's progress lines.

Plain Python, safe to call from any thread; a Qt timer would need an event loop there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Throttle:
    """`ready()` is True at most once per `interval_s` seconds, or whenever forced."""

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._last = float("-inf")
        self._lock = threading.Lock()

    def ready(self, force: bool = False) -> bool:
        now = self._clock()
        with self._lock:
            if force or now - self._last >= self.interval_s:
                self._last = now
                return True
            return False
