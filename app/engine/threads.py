"""How many threads each stage of a render gets, per device: chosen by measurement.

A render is five stages in threads (pipeline.py); three of them own more threads:
ONNX Runtime's intra-op pool (the model), FFmpeg's decoder threads and libx264's
frame threads. The choice below is what made the whole pipeline fastest on the bench
machine (bench/RESULTS.md, sections 2 and 3; 2 cores, AVX-512):

- **Model on the CPU** (an ONNX model on CPUExecutionProvider): it is 80 % of the CPU
  work, so it gets EVERY core, as one single-threaded worker per core running
  alternate batches (model_workers.py), not as one session with an intra-op thread
  per core. Alone, on a quiet machine, both give the Wav2Lip stand-in ~2x the
  one-thread speed, but the intra-op pool meets at a barrier inside every operator:
  when the OS gives one of its threads to decode or encode, the other waits. Measured
  with other processes busy: 2 intra-op threads cost 95-97 CPU ms/frame and ran
  slower than 1 thread; 2 workers of 1 thread cost 84-86 (1 thread alone: 82-83).
  ONNX Runtime's spinning is off, so idle threads sleep instead of burning a core.
- **Model on a GPU** (CUDA, DirectML): ORT's CPU pool only runs the odd fallback
  operator, so it gets 1 thread, spinning off; the cores go to decode, faces, blend and
  the encoder, which are then the CPU's whole job.
- **Decoder**: FFmpeg's automatic threads. One thread costs ~15 % less CPU per frame
  (2.0 vs 2.4 ms at 720p), but decoding is 2 % of a CPU render and in a GPU render the
  decoder is on the critical path, so it may use every core.
- **Encoder**: libx264's automatic frame threads (cores x 1.5). Its CPU per frame is
  the same at 1, 2, 3 or auto threads (11.8-12.2 ms at 720p): more threads only let it
  use whatever core the other stages leave idle. Hardware encoders ignore it.
- **Draft model**: no ONNX session; numpy and OpenCV in the model thread.

These threads over-subscribe the cores on purpose (the OS shares them; nothing spins),
and bench's machine floor counts all of them: it divides the cores by the sum of every
stage's process CPU per frame, FFmpeg's and ORT's threads included.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

ModelDevice = Literal["cpu", "gpu"]
AUTO = 0  # FFmpeg's "pick the thread count yourself"


@dataclass(frozen=True)
class ThreadPlan:
    model_intra_op: int  # ONNX Runtime intra-op threads of the session (caller included)
    model_workers: int  # model replicas running batches side by side (model_workers.py)
    model_spinning: bool  # ORT workers busy-wait between operators
    decoder_threads: int  # FFmpeg decoder threads; AUTO = FFmpeg's choice
    encoder_threads: int  # libx264 threads; AUTO = x264's choice (cores x 1.5)


def usable_cores() -> int:
    """Cores this process may run on (taskset/cgroup pinning respected)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # Windows, macOS
        return os.cpu_count() or 1


def thread_plan(model_device: ModelDevice, cores: int | None = None) -> ThreadPlan:
    """The threads of a render whose model runs on `model_device` (see the module doc)."""
    cores = usable_cores() if cores is None else max(1, cores)
    if model_device == "cpu":
        return ThreadPlan(1, cores, False, AUTO, AUTO)
    return ThreadPlan(1, 1, False, AUTO, AUTO)
