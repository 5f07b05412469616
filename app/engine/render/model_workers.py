"""The model stage's workers: batches through recipe.LipSync, in order.

An ONNX model on the CPU runs as one single-threaded worker per core on alternate
batches (threads.py says why: no barrier inside an operator, so a worker the OS
pauses holds up only its own batch, and each batch costs the one-thread CPU). Each
worker has its own model replica (its own input buffers) over the one shared
session; ONNX Runtime sessions take concurrent runs. Results come back in batch
order. Other models (draft, a GPU session) run in the stage's own thread.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from app.engine.render.faces import Face
from app.engine.render.recipe import Generated, LipSync
from app.engine.render.stages import StageClock, Timer

Batch = Sequence[tuple[int, np.ndarray, Face | None]]


class ModelWorkers:
    def __init__(self, lipsync: LipSync, workers: int) -> None:
        replica = getattr(lipsync.model, "replica", None)
        count = workers if replica is not None else 1
        self.steps = [lipsync] + [lipsync.with_model(replica()) for _ in range(count - 1)]
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        return len(self.steps)

    def run(
        self, batches: Iterable[Batch], clock: StageClock
    ) -> Iterator[tuple[Batch, list[Generated]]]:
        """Each batch with its frames' mouths, in the batches' order."""
        if self.count == 1:
            for batch in batches:
                with Timer(clock, len(batch)):
                    generated = self.steps[0].infer(batch)
                yield batch, generated
            return
        idle: queue.SimpleQueue[LipSync] = queue.SimpleQueue()
        for step in self.steps:
            idle.put(step)

        def infer(batch: Batch) -> tuple[Batch, list[Generated]]:
            step = idle.get()
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return batch, step.infer(batch)
            finally:
                idle.put(step)
                with self._lock:  # the workers share the stage's clock
                    clock.wall_s += time.perf_counter() - wall
                    clock.cpu_s += time.thread_time() - cpu
                    clock.items += len(batch)

        pending: deque[Future[tuple[Batch, list[Generated]]]] = deque()
        with ThreadPoolExecutor(self.count, thread_name_prefix="lipsync-model") as pool:
            try:
                for batch in batches:
                    pending.append(pool.submit(infer, batch))
                    if len(pending) >= self.count:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                for future in pending:
                    future.cancel()
