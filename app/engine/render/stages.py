"""Threaded stages joined by bounded queues: the plumbing under pipeline.py.

Each stage is a thread that takes items from its inbox and puts results in its
outbox. Queues are bounded, so frames in flight are capped and memory does not
grow with the video's length (their sizes: frame_budget.py). Every blocking call wakes
up regularly to check a shared stop event, so a cancel or a failure anywhere winds all
stages down.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.engine.threads import lower_this_thread

END = object()  # end-of-stream marker, passed down the chain once
_POLL_S = 0.1


class StopPipeline(Exception):
    """Raised inside a stage when the shared stop event is set."""


@dataclass
class StageClock:
    """Busy wall time and CPU time a stage spent on its own work (not waiting)."""

    wall_s: float = 0.0
    cpu_s: float = 0.0
    items: int = 0


@dataclass
class Channel:
    """A bounded queue whose put/get give up when `stop` is set."""

    stop: threading.Event
    maxsize: int = 8
    _queue: queue.Queue[Any] = field(init=False)

    def __post_init__(self) -> None:
        self._queue = queue.Queue(self.maxsize)

    def put(self, item: Any) -> None:
        while not self.stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                continue
        raise StopPipeline

    def get(self) -> Any:
        while not self.stop.is_set():
            try:
                return self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                continue
        raise StopPipeline

    def __iter__(self) -> Iterator[Any]:
        while True:
            item = self.get()
            if item is END:
                return
            yield item


class Stage(threading.Thread):
    """Runs `work(clock)`; records the first exception and sets the shared stop event."""

    def __init__(
        self,
        name: str,
        work: Callable[[StageClock], None],
        stop: threading.Event,
        nice: int = 0,
    ):
        super().__init__(name=f"lipsync-{name}", daemon=True)
        self.nice = nice  # added to the thread's nice value (threads.py, "Priorities")
        self.stage_name = name
        self.clock = StageClock()
        self.error: BaseException | None = None
        self._work = work
        self._stop_event = stop

    def run(self) -> None:
        lower_this_thread(self.nice)
        try:
            self._work(self.clock)
        except StopPipeline:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            self.error = exc
            self._stop_event.set()


class Timer:
    """Context manager adding one unit of work's wall and thread-CPU time to a clock."""

    def __init__(self, clock: StageClock, items: int = 1):
        self.clock, self.items = clock, items

    def __enter__(self) -> Timer:
        self._wall, self._cpu = time.perf_counter(), time.thread_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.clock.wall_s += time.perf_counter() - self._wall
        self.clock.cpu_s += time.thread_time() - self._cpu
        self.clock.items += self.items


def timed_iter(items: Iterable[Any], clock: StageClock) -> Iterator[Any]:
    """Iterate, charging the time spent producing each item to `clock`."""
    iterator = iter(items)
    while True:
        with Timer(clock):
            try:
                item = next(iterator)
            except StopIteration:
                clock.items -= 1
                return
        yield item
