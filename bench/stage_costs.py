"""Section 2: every stage alone at one resolution, frames held in memory (stages.py).

Faces: YuNet (when ../shared has it) and Haar, on every frame and every 5th (tracked
between). Model: draft, and the full-size Wav2Lip stand-in on the app's CPU session
(providers.SessionCache: one intra-op thread, spinning off) run by one worker per core
as the pipeline runs it (model_workers.py), at the best of batch 1/8/32. Then every
stage again at one thread (thread_costs.py), for the machine floor.
Blend: each model's own crops pasted back. Encode: libx264 veryfast crf 18 + AAC.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from app.engine.models.lipsync.draft import DraftModel
from app.engine.models.lipsync.wav2lip import Wav2LipModel
from app.engine.models.providers import SessionCache
from app.engine.render.faces import Face, FaceDetector, HaarDetector, YuNetDetector
from app.engine.render.recipe import LipSync
from app.engine.threads import thread_plan
from bench import stages, thread_costs
from bench.inputs import FPS
from bench.measure import Cost, disturbed, least_disturbed

BATCHES = (1, 8, 32)
WORKERS = thread_plan("cpu").model_workers  # the app's model workers on the CPU
INTERVALS = (1, 5)
DEFAULT_INTERVAL = 5  # RenderSettings.detect_interval


def wav2lip_session(path: Path):  # -> onnxruntime.InferenceSession
    """The app's CPU session for the stand-in (what a render with device=cpu gets)."""
    return SessionCache().get(path, "cpu")


def _best(
    repeats: int,
    quiet: Callable[[], None],
    run: Callable[[], Any],
    retry: Callable[[], bool] = lambda: False,
) -> Any:
    """`run()` -> (result, Cost) or Cost, `repeats` times, each after `quiet()`, and up to
    two more times while every run so far was disturbed by other processes and
    `retry()` allows: the fastest undisturbed run (else the fastest)."""
    runs: list[Any] = []

    def cost(out: Any) -> Cost:
        return out[1] if isinstance(out, tuple) else out

    while len(runs) < repeats or (
        len(runs) < repeats + 2 and all(disturbed(cost(o).others_cores) for o in runs) and retry()
    ):
        quiet()
        runs.append(run())
    return least_disturbed(runs, lambda o: cost(o).wall_s, lambda o: cost(o).others_cores)


def sweep_batches(
    session,
    frames: list[np.ndarray],
    track: list[Face | None],
    mels: np.ndarray,
    limit: int,
    quiet: Callable[[], None],
) -> dict:
    """Wav2Lip model-stage fps at each batch size on the first `limit` frames."""
    costs: dict[str, dict] = {}
    for batch in BATCHES:
        step = LipSync(Wav2LipModel(session, batch_size=batch), mels)
        stages.model(step, frames, track, limit=min(batch, limit), workers=WORKERS)  # warm-up
        quiet()
        _, cost = stages.model(step, frames, track, limit=limit, workers=WORKERS)
        costs[str(batch)] = {**cost.to_dict(), "batch": batch}
    best = max(BATCHES, key=lambda b: costs[str(b)]["fps"])
    return {"fps": {k: c["fps"] for k, c in costs.items()}, "best": best, "costs": costs}


def run(
    video: Path,
    audio: Path,
    work: Path,
    *,
    frames_n: int,
    yunet: Path | None,
    wav2lip: Path,
    wav2lip_frames: int,
    batch: int | None,
    sweep_frames: int,
    repeats: int = 1,
    quiet: Callable[[], None] = lambda: None,
    retry: Callable[[], bool] = lambda: False,
    haar_every_frame: int | None = None,
) -> dict:
    """Costs of every stage alone; `batch` None: sweep the Wav2Lip batch sizes first.
    Stages that take a few seconds run `repeats` times (the fastest is kept, see _best);
    Haar on every frame (on the first `haar_every_frame` frames) and Wav2Lip run once.
    OpenCV runs at the threads a CPU render gives it (threads.py)."""
    with thread_costs.opencv_threads(thread_plan("cpu").opencv_threads):
        out: dict = {"frames": frames_n, "repeats": repeats}
        frames, cost = _best(repeats, quiet, lambda: stages.decode(video, frames_n), retry)
        out["decode"] = cost.to_dict()
        mels = stages.mels_for(audio, FPS, frames_n)

        detectors = ([("yunet", YuNetDetector(yunet))] if yunet else []) + [
            ("haar", HaarDetector())
        ]
        track: list[Face | None] | None = None
        out["faces"] = {}
        for name, detector in detectors:
            for interval in INTERVALS:
                slow = name == "haar" and interval == 1
                some = frames[:haar_every_frame] if slow else frames
                (faces, detections), cost = _best(
                    1 if slow else repeats,
                    quiet,
                    lambda d=detector, k=interval, f=some: _faces(f, d, k),
                    retry,
                )
                row = cost.to_dict()
                row.update(
                    detector=name,
                    interval=interval,
                    detections=detections,
                    frames_with_face=sum(f is not None for f in faces),
                )
                out["faces"][f"{name}/{interval}"] = row
                if track is None and interval == DEFAULT_INTERVAL:
                    track = faces  # the render's default: YuNet if present, every 5th frame
                    out["track_from"] = f"{name}/{interval}"
        assert track is not None

        draft = DraftModel()
        draft.prepare(mels)
        step = LipSync(draft, mels)
        pasted, cost = _best(repeats, quiet, lambda: stages.model(step, frames, track), retry)
        out["model"] = {
            "draft": {
                **cost.to_dict(),
                "batch": draft.batch_size,
                "pasted": sum(p is not None for p in pasted),
            }
        }
        cost = _best(repeats, quiet, lambda: stages.blend(step, pasted), retry)
        out["blend"] = {"draft": cost.to_dict()}

        session = wav2lip_session(wav2lip)
        if batch is None:
            out["wav2lip_batches"] = sweep_batches(
                session, frames, track, mels, sweep_frames, quiet
            )
            batch = out["wav2lip_batches"]["best"]
        step = LipSync(Wav2LipModel(session, batch_size=batch), mels)
        stages.model(step, frames, track, limit=min(batch, wav2lip_frames), workers=WORKERS)
        quiet()
        pasted, cost = stages.model(step, frames, track, limit=wav2lip_frames, workers=WORKERS)
        out["model"]["wav2lip"] = {
            **cost.to_dict(),
            "batch": batch,
            "pasted": sum(p is not None for p in pasted),
        }
        cost = _best(repeats, quiet, lambda: stages.blend(step, pasted), retry)
        out["blend"]["wav2lip"] = cost.to_dict()

        output = work / f"encode-{video.stem}.mp4"
        cost = _best(repeats, quiet, lambda: stages.encode(frames, output, FPS, audio=audio), retry)
        out["encode"] = cost.to_dict()

        track_name, track_interval = out["track_from"].split("/")
        out["threads"] = thread_costs.measure(
            out,
            best=lambda run: _best(repeats, quiet, run, retry),
            video=video,
            audio=audio,
            work=work,
            frames=frames,
            detector=dict(detectors)[track_name],
            interval=int(track_interval),
            track=track,
            mels=mels,
            draft=LipSync(draft, mels),
            wav2lip=wav2lip,
            batch=batch,
            wav2lip_frames=wav2lip_frames,
        )
        return out


def _faces(frames: list[np.ndarray], detector: FaceDetector, interval: int):
    faces, cost, detections = stages.faces(frames, detector, interval)
    return (faces, detections), cost
