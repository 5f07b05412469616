"""Each stage alone at one thread, beside the app's own thread setting (section 2).

The machine floor (efficiency.py) takes every stage at its best thread count: the one
with the least CPU per frame, since on a busy machine CPU is what the stages share.
The knobs: FFmpeg's decoder threads, OpenCV's threads (faces, the draft model, blend),
ONNX Runtime's intra-op threads (the Wav2Lip stand-in) and libx264's threads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from app.engine.models.lipsync.wav2lip import Wav2LipModel
from app.engine.render.faces import Face, FaceDetector
from app.engine.render.recipe import LipSync
from app.engine.threads import usable_cores, use_opencv_threads
from bench import stages
from bench.inputs import FPS
from bench.measure import Cost

APP = "app"  # the thread setting a render uses (threads.py)
ONE = "1"  # one thread (for the model: one worker of one intra-op thread)


@contextmanager
def opencv_threads(n: int) -> Iterator[None]:
    """OpenCV at `n` threads meanwhile (AUTO: its default), as threads.py sets it."""
    before = cv2.getNumThreads()
    use_opencv_threads(n)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


def session_with(path: Path, intra_op: int):  # -> onnxruntime.InferenceSession
    """The stand-in on `intra_op` threads (otherwise the app's session options)."""
    import onnxruntime as ort

    from app.engine.models.providers import DeviceChoice, session_options

    options = session_options(DeviceChoice("cpu"))
    options.intra_op_num_threads = intra_op
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def measure(
    app: dict,
    *,
    best: Callable[[Callable[[], Any]], Any],
    video: Path,
    audio: Path,
    work: Path,
    frames: list[np.ndarray],
    detector: FaceDetector,
    interval: int,
    track: list[Face | None],
    mels: np.ndarray,
    draft: LipSync,
    wav2lip: Path,
    batch: int,
    wav2lip_frames: int,
) -> dict[str, dict[str, dict]]:
    """{stage: {APP: cost, ONE: cost}} with `app` (section 2's costs at the app's
    threads) beside one-thread runs; `best(run)` repeats a cheap run (stage_costs._best)."""
    n = len(frames)
    out: dict[str, dict[str, dict]] = {}

    def row(stage: str, app_cost: dict, one: Cost) -> None:
        out[stage] = {APP: app_cost, ONE: one.to_dict()}

    _, cost = best(lambda: stages.decode(video, n, threads=1))
    row("decode", app["decode"], cost)
    with opencv_threads(1):
        _, cost, _ = best(lambda: stages.faces(frames, detector, interval))
        row("faces", app["faces"][app["track_from"]], cost)
        pasted, cost = best(lambda: stages.model(draft, frames, track))
        row("model/draft", app["model"]["draft"], cost)
        row("blend/draft", app["blend"]["draft"], best(lambda: stages.blend(draft, pasted)))
    step = LipSync(Wav2LipModel(session_with(wav2lip, 1), batch_size=batch), mels)
    stages.model(step, frames, track, limit=min(batch, wav2lip_frames))  # warm-up
    _, cost = stages.model(step, frames, track, limit=wav2lip_frames)
    row("model/wav2lip", app["model"]["wav2lip"], cost)
    # The other way to give the model every core: one session, an intra-op thread each.
    cores = usable_cores()
    step = LipSync(Wav2LipModel(session_with(wav2lip, cores), batch_size=batch), mels)
    stages.model(step, frames, track, limit=min(batch, wav2lip_frames))  # warm-up
    _, cost = stages.model(step, frames, track, limit=wav2lip_frames)
    out["model/wav2lip"][f"{cores} intra-op"] = cost.to_dict()
    out["blend/wav2lip"] = {APP: app["blend"]["wav2lip"]}  # as blend/draft: OpenCV's warp
    output = work / f"encode-1t-{video.stem}.mp4"
    cost = best(lambda: stages.encode(frames, output, FPS, audio=audio, threads=1))
    row("encode", app["encode"], cost)
    return out


def best_of(costs: dict[str, dict]) -> tuple[str, dict]:
    """The thread setting with the least CPU per frame, and its cost."""
    label = min(costs, key=lambda k: costs[k]["cpu_ms_per_frame"])
    return label, costs[label]
