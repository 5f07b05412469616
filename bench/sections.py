"""The sections, in the order they run (SECTIONS; `--only` picks some). Measurements
that are compared run next to each other: each resolution's stages alone, then its
end-to-end renders, then (720p) the sequential baseline on the same input right after
our render of it."""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.engine.settings import RenderSettings
from app.engine.threads import thread_plan
from bench import (
    efficiency,
    encoder_quality,
    enhancer,
    large_frames,
    probe_cost,
    stage_costs,
    stages,
)
from bench.inputs import FPS, SIZES
from bench.measure import cores, disturbed, least_disturbed, run_child

if TYPE_CHECKING:
    from bench.__main__ import Run

CPU_DEFAULT_BATCH = 8  # onnx_runner._DEFAULT_BATCH["cpu"]; also stages.CHANNEL_FRAMES (up to 1080p)
MEMORY_TARGET = 1.2
BATCH_TARGET = 0.75  # issue 15: one presenter x 10 audios, reuse on / off, draft


def probe(run: Run) -> None:
    with run.section("1 probe"):
        run.quiet()
        run.results["probe"] = probe_cost.run(run.long["720p"], run.plan.probe_calls)


def stages_pipeline_baseline(run: Run) -> None:
    plan, results = run.plan, run.results
    results["stages"], results["efficiency"], results["sequential"] = {}, [], []
    best: int | None = None
    for res in SIZES:
        with run.section(f"2 stages {res}"):
            costs = stage_costs.run(
                run.clip[res],
                run.stage_audio,
                run.work,
                frames_n=plan.stage_frames,
                yunet=run.yunet,
                wav2lip=run.wav2lip,
                wav2lip_frames=plan.wav2lip_stage_frames,
                batch=best,
                sweep_frames=plan.sweep_frames,
                repeats=plan.repeats,
                quiet=run.quiet,
                retry=run.retry,
                haar_every_frame=plan.haar_every_frame,
            )
            gc.collect()  # the clip's frames
        results["stages"][res] = costs
        if best is None:
            best = costs["wav2lip_batches"]["best"]
            results["wav2lip_batches"] = costs["wav2lip_batches"]
        renders: list[tuple[str, int | None]] = [("draft", None)]
        if res == "720p":
            renders.append(("wav2lip", best))
            if best != CPU_DEFAULT_BATCH and not plan.quick:
                renders.append(("wav2lip", CPU_DEFAULT_BATCH))
        with run.section(f"3+4 pipeline and baseline {res}"):
            for model, batch_size in renders:
                name = f"{res}-{model}" + (f"-b{batch_size}" if batch_size else "")
                job = run.render_job(
                    f"e2e-{name}", run.long[res], run.e2e_audio[model], model, batch=batch_size
                )
                runs: list[dict] = []
                repeats = plan.repeats if model == "draft" else 1
                while len(runs) < repeats or (
                    model == "draft"
                    and len(runs) < repeats + 2
                    and run.retry()
                    and all(disturbed(x["others_cores"]) for x in runs)
                ):
                    run.log(f"  render {name}")
                    run.quiet()
                    runs.append(run_child(job))
                ours = least_disturbed(runs, lambda x: x["elapsed_s"], lambda x: x["others_cores"])
                alone = efficiency.alone_costs(costs, model, batch_size)
                floor = efficiency.floor_of(alone, cores())
                machine = efficiency.machine_floor(costs, model, cores())
                row = {
                    "resolution": res,
                    "model": model,
                    "batch": ours["batch"],
                    "seconds": ours["frames"] / FPS,
                    "floor": floor,
                    **efficiency.analyse(ours, alone, floor, machine),
                    "runs_fps": [round(x["fps"], 2) for x in runs],
                    "others_cores": _rounded(ours["others_cores"]),
                    "render": ours,
                }
                results["efficiency"].append(row)
                if res == "720p" and (model == "draft" or batch_size == best):
                    sessions: list[int | None] = [None]  # the app's session (threads.py)
                    if model == "wav2lip" and not plan.quick:
                        sessions.append(0)  # ONNX Runtime's defaults, as a plain script has
                    for threads in sessions:
                        run.log(
                            f"  sequential baseline {name}"
                            + (", ONNX Runtime's default threads" if threads == 0 else "")
                        )
                        baseline = dict(
                            job,
                            kind="sequential",
                            ort_threads=threads,
                            output=job["output"] + ".seq.mp4",
                        )
                        run.quiet()
                        theirs = run_child(baseline)
                        results["sequential"].append(
                            sequential_row(name, ours, theirs, model, threads)
                        )


def _rounded(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def sequential_row(name: str, ours: dict, theirs: dict, model: str, threads: int | None) -> dict:
    return {
        "render": name,
        "model": model,
        "frames": ours["frames"],
        "ours_s": round(ours["elapsed_s"], 3),
        "sequential_s": round(theirs["elapsed_s"], 3),
        "time_ratio": round(ours["elapsed_s"] / theirs["elapsed_s"], 3),
        "ours_peak_mb": round(ours["peak_rss_mb"], 1),
        "sequential_peak_mb": round(theirs["peak_rss_mb"], 1),
        "memory_ratio": round(ours["peak_rss_mb"] / theirs["peak_rss_mb"], 3),
        "sequential_phases_s": {k: round(v, 3) for k, v in theirs["phases_s"].items()},
        "others_cores": [_rounded(ours["others_cores"]), _rounded(theirs["others_cores"])],
        "ours_ort_threads": (
            f"{thread_plan('cpu').model_workers} x {thread_plan('cpu').model_intra_op}"
            if model == "wav2lip"
            else None
        ),
        "sequential_ort_threads": (
            ("ORT default" if threads == 0 else str(thread_plan("cpu").model_intra_op))
            if model == "wav2lip"
            else None
        ),
        "sequential_ort_default": threads == 0,
    }


def memory(run: Run) -> None:
    short_s, long_s = run.plan.memory_s
    with run.section("5 memory"):
        rows = []
        for seconds, audio in zip(run.plan.memory_s, run.memory_audio):
            run.log(f"  render {seconds:g} s")
            job = run.render_job(
                f"memory-{seconds:g}s", run.long["720p"], audio, "draft", track_cache=True
            )
            run.quiet()
            result = run_child(job)
            front = run_child({"kind": "audio", "audio": str(audio)})
            front_peak = front["before_mb"] + front["added_mb"]
            rows.append(
                {
                    "seconds": seconds,
                    "frames": result["frames"],
                    "peak_rss_mb": round(result["peak_rss_mb"], 1),
                    "fps": round(result["fps"], 2),
                    "elapsed_s": round(result["elapsed_s"], 2),
                    "others_cores": _rounded(result["others_cores"]),
                    "audio_front_end_mb": round(front["added_mb"], 1),
                    "audio_front_end_peak_mb": round(front_peak, 1),
                    "mel_chunks_mb": round(front["mel_chunks_mb"], 1),
                }
            )
        ratio = rows[1]["peak_rss_mb"] / rows[0]["peak_rss_mb"]
        run.results["memory"] = {
            "renders": rows,
            "ratio": round(ratio, 3),
            "target": MEMORY_TARGET,
            "met": ratio <= MEMORY_TARGET,
            "note": None
            if not run.plan.quick
            else f"--quick: {short_s:g} s vs {long_s:g} s, not 30 s vs 5 min",
        }


def encoder_table(run: Run) -> None:
    with run.section("7 encoders"):
        frames, _ = stages.decode(run.clip["720p"], run.plan.stage_frames)
        run.quiet()
        run.results["encoders"] = encoder_quality.run(frames, run.work, "720p")
        del frames
        gc.collect()


def batch(run: Run) -> None:
    plan = run.plan
    with run.section("6 batch"):
        out_dir = run.work / "batch"
        out_dir.mkdir()
        job = dict(
            run.render_job("batch", run.clip["720p"], run.batch_audio[0], "draft", interval=None),
            kind="batch",
            audios=[str(a) for a in run.batch_audio],
            out_dir=str(out_dir),
        )
        run.quiet()
        result = run_child(job)
        cached, uncached = result["series"]["cache"], result["series"]["no_cache"]
        run.results["batch"] = {
            "audios": plan.batch_audios,
            "audio_s": plan.batch_audio_s,
            "presenter_s": plan.base_s,
            "with_cache_s": round(cached["elapsed_s"], 3),
            "without_cache_s": round(uncached["elapsed_s"], 3),
            "time_ratio": round(cached["elapsed_s"] / uncached["elapsed_s"], 3),
            "target": BATCH_TARGET,
            "with_cache_cpu_s": round(cached.get("cpu_s", 0.0), 3),
            "without_cache_cpu_s": round(uncached.get("cpu_s", 0.0), 3),
            "stage_cpu_s": result.get("stage_cpu_s"),
            "with_cache_detections": cached["detections"],
            "without_cache_detections": uncached["detections"],
            "cache_hits": result["cache_hits"],
            "cache_misses": result["cache_misses"],
            "hashes_computed": result["hashes_computed"],
            "hashes_reused": result["hashes_reused"],
            "frames_kept_mb": result.get("frames_kept_mb"),
            "frames_budget_mb": result.get("frames_budget_mb"),
            "schedule": f"at least every {RenderSettings.detect_interval}th frame, more where "
            "the face moves (the app's default)",
            "renders": {"with_cache": cached["renders"], "without_cache": uncached["renders"]},
            "peak_rss_mb": round(result["peak_rss_mb"], 1),
            "others_cores": _rounded(result["others_cores"]),
        }


@dataclass(frozen=True)
class Section:
    name: str
    numbers: tuple[str, ...]  # the section numbers RESULTS.md gives what it measures
    run: Callable[[Run], None]
    inputs: frozenset[str]  # what Run.make_inputs must make for it


SECTIONS = (
    Section("probe", ("1",), probe, frozenset({"long-720p"})),
    Section(
        "stages",
        ("2", "3", "4"),
        stages_pipeline_baseline,
        frozenset(
            {"long-720p", "long-1080p", "stage_audio", "e2e_audio", "wav2lip"},
        ),
    ),
    Section("memory", ("5",), memory, frozenset({"long-720p", "memory_audio"})),
    Section("batch", ("6",), batch, frozenset({"clip-720p", "batch_audio"})),
    Section("encoders", ("7",), encoder_table, frozenset({"clip-720p"})),
    Section("large_frames", ("8",), large_frames.run, frozenset()),
    Section("enhancer", ("9",), enhancer.run, frozenset({"clip-1080p"})),
)


def select(only: str | None) -> list[Section]:
    """The sections `--only` names ("batch", "6", "enhancer,probe"), in the run's order;
    all of them for None. ValueError names an unknown one."""
    if only is None:
        return list(SECTIONS)
    wanted = {word.strip().lower() for word in only.split(",") if word.strip()}
    known = {key: s for s in SECTIONS for key in (s.name, *s.numbers)}
    unknown = sorted(wanted - known.keys())
    names = ", ".join(s.name for s in SECTIONS)
    if unknown:
        raise ValueError(f"--only {only!r}: unknown section {', '.join(unknown)} (known: {names})")
    if not wanted:
        raise ValueError(f"--only {only!r} names no section (known: {names})")
    chosen = {known[key].name for key in wanted}
    return [s for s in SECTIONS if s.name in chosen]
