"""One measured job in a fresh process, so its peak memory is its own.

    python -m bench.child '{"kind": "render", ...}'

Kinds: "render" (pipeline.render, the app's way), "sequential" (sequential.py, the
Wav2Lip inference script's way), "batch" (one presenter rendered with several
audios, as the scheduler does: pipeline.render(settings) per job) and "audio" (the
peak memory of a render's audio front end alone). The model and the
detector are made before the clock starts in "render" and "sequential" (a batch
makes its own per job, as the scheduler does). Prints one JSON line: the result,
`peak_rss_mb` (VmHWM) and `cpu_s` (process CPU of the timed part).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def make_model(job: dict):  # -> LipSyncModel
    if job["model"] == "draft":
        from app.engine.models.lipsync.draft import DraftModel

        model = DraftModel()
        if job.get("batch"):
            model.batch_size = int(job["batch"])
        return model
    from app.engine.models.lipsync.wav2lip import Wav2LipModel

    if job.get("ort_threads") is None:  # the app's session: SessionCache, providers.py
        from app.engine.models.providers import SessionCache

        session = SessionCache().get(job["model_path"], job.get("device", "cpu"))
    else:  # ONNX Runtime's own defaults (0: every core, spinning on), as a plain script gets
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        if int(job["ort_threads"]) > 0:
            options.intra_op_num_threads = int(job["ort_threads"])
        session = ort.InferenceSession(
            job["model_path"], sess_options=options, providers=["CPUExecutionProvider"]
        )
    return Wav2LipModel(session, batch_size=int(job["batch"]) if job.get("batch") else None)


def make_detector(job: dict):  # -> FaceDetector
    from app.engine.render.faces import create_detector

    path = Path(job["yunet_path"]) if job.get("yunet_path") else None
    return create_detector(job["detector"], path)


def settings_of(job: dict, audio: str, output: str, track_cache: bool):  # -> RenderSettings
    from app.engine.settings import RenderSettings

    interval = job.get("interval", 5)  # None: the app's default schedule
    return RenderSettings(
        video=Path(job["video"]),
        audio=Path(audio),
        output=Path(output),
        model="draft" if job["model"] == "draft" else "wav2lip_96",
        device=job.get("device", "cpu"),
        encoder=job.get("encoder", "libx264"),
        detector=job["detector"],
        detector_model=job.get("yunet_path"),
        detect_interval=RenderSettings.detect_interval if interval is None else int(interval),
        track_cache=track_cache,
        batch_size=job.get("batch"),
    )


def run_render(job: dict) -> dict:
    from app.engine.render.pipeline import render

    model, detector = make_model(job), make_detector(job)
    settings = settings_of(job, job["audio"], job["output"], bool(job.get("track_cache")))
    ticks: list[float] = []
    cpu = time.process_time()
    start = time.perf_counter()
    result = render(
        settings,
        on_progress=lambda _p: ticks.append(time.perf_counter()),
        model=model,
        detector=detector,
    )
    cpu = time.process_time() - cpu
    steady = (len(ticks) - 1) / (ticks[-1] - ticks[0]) if len(ticks) > 1 else 0.0
    return {
        "frames": result.frames,
        "elapsed_s": result.elapsed_s,
        "batch": model.batch_size,
        "encoder": result.encoder,
        "fps": result.frames / result.elapsed_s,
        "cpu_s": cpu,
        "first_frame_s": ticks[0] - start if ticks else None,
        "steady_fps": steady,
        "detections": result.detections,
        "frames_with_face": result.frames_with_face,
        "stages": {
            name: {"wall_s": c.wall_s, "cpu_s": c.cpu_s, "items": c.items}
            for name, c in result.stages.items()
        },
    }


def run_sequential(job: dict) -> dict:
    from bench import sequential

    model, detector = make_model(job), make_detector(job)
    cpu = time.process_time()
    frames, phases = sequential.render(
        Path(job["video"]),
        Path(job["audio"]),
        Path(job["output"]),
        model,
        detector,
        int(job.get("interval", 5)),
    )
    cpu = time.process_time() - cpu
    elapsed = sum(phases.values())
    return {
        "frames": frames,
        "elapsed_s": elapsed,
        "fps": frames / elapsed,
        "cpu_s": cpu,
        "phases_s": phases,
    }


def run_audio(job: dict) -> dict:
    """Peak memory the audio front end adds: what a render plans before the first frame
    (recipe.speech_mels: load_audio at 16 kHz, mel_spectrogram, mel_chunks), with the
    engine imported."""
    from app.engine.render import pipeline  # noqa: F401 - the imports a render has
    from app.engine.render.recipe import speech_mels
    from bench.measure import peak_rss_mb

    before = peak_rss_mb()
    mels = speech_mels(Path(job["audio"]), 25)
    frames = len(mels)
    return {
        "frames": frames,
        "before_mb": before,
        "added_mb": peak_rss_mb() - before,
        "mel_chunks_mb": mels.nbytes / 1e6,
    }


def run_batch(job: dict) -> dict:
    """Each audio rendered twice in turn, with batch reuse and without, so both series
    see the same background load; each series has its own output names. Reuse is what
    the scheduler's RenderRunner does: the face-track cache, and the presenter's frames
    kept in memory (frame_cache.py) while more jobs of it follow."""
    from app.engine.render import track_cache
    from app.engine.render.frame_cache import FrameCache
    from app.engine.render.pipeline import render

    series: dict[str, dict] = {}
    for on in (False, True):
        series["cache" if on else "no_cache"] = {
            "elapsed_s": 0.0,
            "cpu_s": 0.0,
            "detections": 0,
            "renders": [],
        }
    stage_cpu: dict[str, dict[str, float]] = {"cache": {}, "no_cache": {}}
    track_cache.reset_stats()
    kept = FrameCache(job.get("frame_bytes"))  # None: the app's default budget
    kept_mb = 0.0
    audios = job["audios"]
    for k, audio in enumerate(audios):
        for on in (False, True):
            name = "cache" if on else "no_cache"
            output = Path(job["out_dir"]) / f"{name}-{k:02d}.mp4"
            start, cpu = time.perf_counter(), time.process_time()
            frames = kept.job(Path(job["video"]), keep=k + 1 < len(audios)) if on else None
            try:
                result = render(settings_of(job, audio, str(output), on), frames=frames)
            finally:
                if frames is not None:
                    kept_mb = max(kept_mb, kept.used_bytes / 1e6)
                    frames.close()
            elapsed = time.perf_counter() - start
            s = series[name]
            s["elapsed_s"] += elapsed
            s["cpu_s"] += time.process_time() - cpu
            for stage, clock in result.stages.items():
                stage_cpu[name][stage] = stage_cpu[name].get(stage, 0.0) + clock.cpu_s
            s["detections"] += result.detections
            s["renders"].append(
                {"elapsed_s": elapsed, "detections": result.detections, "frames": result.frames}
            )
    stats = track_cache.stats()
    return {
        "series": series,
        "stage_cpu_s": {k: {s: round(v, 3) for s, v in d.items()} for k, d in stage_cpu.items()},
        "cache_hits": stats.hits,
        "cache_misses": stats.misses,
        "hashes_computed": stats.hashes_computed,
        "hashes_reused": stats.hashes_reused,
        "frames_kept_mb": round(kept_mb, 1),
        "frames_budget_mb": round(kept.max_bytes / 1e6, 1),
    }


def main() -> int:
    job = json.loads(sys.argv[1])
    if job.get("home"):
        os.environ["LIPSYNC_STUDIO_HOME"] = job["home"]  # a fresh cache: never the user's
    run = {
        "render": run_render,
        "sequential": run_sequential,
        "batch": run_batch,
        "audio": run_audio,
    }[job["kind"]]
    result = run(job)
    from bench.measure import peak_rss_mb

    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
