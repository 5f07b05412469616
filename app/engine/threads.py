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
- **OpenCV** (YuNet in the faces stage, the warps in the model and blend stages): one
  thread with the model on the CPU. Its pool of a thread per core costs CPU for every
  call it splits: alone, faces cost 4.2 CPU ms/frame at OpenCV's default threads and
  3.0 at one, blend 2.4 and 2.0 (bench section 2, 720p); in a 720p draft render the
  pool's threads used 0.7-0.9 ms/frame (~3 % of the render), which a render that keeps
  every core busy pays in wall time. With the model on a GPU, OpenCV keeps its default:
  there the CPU stages may be what the GPU waits on, and that was not measured.
- **Priorities** (Linux): the stages that feed the encoder (decode, faces, model,
  blend) and the audio encoder run at nice +10; the thread that calls the video
  encoder, and libx264's own threads, stay at the process's priority. libx264's frame
  threads wait on each other's rows, so alone it uses only ~1.6 of 2 cores; at equal
  priority the feeders took the cores whenever an x264 thread became ready. With the
  feeders below it, x264 runs the moment it can and the feeders fill the gaps.
  Measured side by side, interleaved: 1080p draft renders 44.9 vs 40.4 fps (medians
  of 5; x264 is ~60 % of their CPU); a batch's later jobs of a presenter, whose frames
  are kept (little but x264 left to do), 1.76 instead of 1.64 cores busy, and bench
  section 6's reuse on/off 0.68-0.69 instead of 0.74-0.75 (3 runs each); 720p draft
  renders 68.0 vs 68.05 fps (medians of 6): the same. Per-thread nice values are
  Linux's; Windows' thread priorities are strict (a lower one runs only when no higher
  one can), which was not measured, so elsewhere nothing is changed.

These threads over-subscribe the cores on purpose (the OS shares them; nothing spins),
and bench's machine floor counts all of them: it divides the cores by the sum of every
stage's process CPU per frame, FFmpeg's and ORT's threads included.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass
from typing import Literal

ModelDevice = Literal["cpu", "gpu"]
AUTO = 0  # FFmpeg's "pick the thread count yourself"
FEEDER_NICE = 10  # see "Priorities" above


@dataclass(frozen=True)
class ThreadPlan:
    model_intra_op: int  # ONNX Runtime intra-op threads of the session (caller included)
    model_workers: int  # model replicas running batches side by side (model_workers.py)
    model_spinning: bool  # ORT workers busy-wait between operators
    decoder_threads: int  # FFmpeg decoder threads; AUTO = FFmpeg's choice
    encoder_threads: int  # libx264 threads; AUTO = x264's choice (cores x 1.5)
    opencv_threads: int = AUTO  # cv2.setNumThreads; AUTO = OpenCV's default (a thread per core)
    feeder_nice: int = FEEDER_NICE  # added to the encoder's feeders' nice value (Linux)


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
        return ThreadPlan(1, cores, False, AUTO, AUTO, opencv_threads=1)
    return ThreadPlan(1, 1, False, AUTO, AUTO)


def lower_this_thread(nice: int) -> None:
    """Add `nice` to the calling thread's nice value (Linux only; threads it starts
    from now on inherit it). Best effort: a refusal leaves the priority as it is."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    try:  # on Linux PRIO_PROCESS with a thread id sets that thread alone
        os.setpriority(os.PRIO_PROCESS, tid, min(os.getpriority(os.PRIO_PROCESS, tid) + nice, 19))
    except OSError:
        pass


def use_opencv_threads(threads: int) -> None:
    """Set OpenCV's thread count for the process (AUTO: its default). Process-wide: the
    last render to start sets it."""
    import cv2  # here: threads.py is imported by code that never needs OpenCV

    cv2.setNumThreads(threads if threads > 0 else -1)  # -1: back to OpenCV's default
