"""Section 3: end-to-end render fps against the floor the stages alone allow.

The target is against the MACHINE floor: cores / the sum of every stage's CPU seconds
per frame alone, each stage at its best thread count (the one costing the least CPU
per frame; thread_costs.py). It asks how close the render comes to keeping every core
busy with useful work, whatever threads the app gave each stage.
The old floor is kept beside it: min(the slowest stage's fps alone, cores / the sum of
CPU per frame), both at the threads the app gives each stage; it hides a stage that
was given too few threads (it is then simply "the slowest").

The render runs in a child process (bench.child) with the same model and detector
settings as the stages alone (YuNet every 5th frame; the track cache off, so every
render detects), and its RenderResult.stages say where each thread spent its time.
"""

from __future__ import annotations

from bench.measure import disturbed
from bench.thread_costs import best_of

STAGES = ("decode", "faces", "model", "blend", "encode")
TARGET = 0.85


def alone_costs(stage_costs: dict, model: str, batch: int | None = None) -> dict[str, dict]:
    """The section-2 cost of each stage as the render with `model` (at `batch`) runs it."""
    model_cost = stage_costs["model"][model]
    if batch is not None and batch != model_cost["batch"]:  # from the batch-size sweep
        model_cost = stage_costs["wav2lip_batches"]["costs"][str(batch)]
    return {
        "decode": stage_costs["decode"],
        "faces": stage_costs["faces"][stage_costs["track_from"]],
        "model": model_cost,
        "blend": stage_costs["blend"][model],
        "encode": stage_costs["encode"],
    }


def machine_floor(stage_costs: dict, model: str, cores: int) -> dict:
    """cores / sum of CPU per frame, each stage at the thread count that costs least."""
    threads = stage_costs["threads"]
    keys = {
        "decode": "decode",
        "faces": "faces",
        "model": f"model/{model}",
        "blend": f"blend/{model}",
        "encode": "encode",
    }
    best = {stage: best_of(threads[key]) for stage, key in keys.items()}
    cpu = sum(cost["cpu_ms_per_frame"] for _, cost in best.values()) / 1000
    return {
        "fps": round(cores / cpu, 2),
        "cpu_ms_per_frame": round(1000 * cpu, 3),
        "cores": cores,
        "threads": {stage: label for stage, (label, _) in best.items()},
        "stage_cpu_ms": {stage: cost["cpu_ms_per_frame"] for stage, (_, cost) in best.items()},
    }


def floor_of(alone: dict[str, dict], cores: int) -> dict:
    slowest = min(STAGES, key=lambda s: alone[s]["fps"])
    cpu_per_frame = sum(alone[s]["cpu_ms_per_frame"] for s in STAGES) / 1000
    by_cpu = cores / cpu_per_frame
    return {
        "slowest_stage": slowest,
        "slowest_fps": alone[slowest]["fps"],
        "cpu_ms_per_frame": round(1000 * cpu_per_frame, 3),
        "cores": cores,
        "cores_over_cpu_fps": round(by_cpu, 2),
        "floor_fps": round(min(alone[slowest]["fps"], by_cpu), 2),
        "bound": "slowest stage" if alone[slowest]["fps"] <= by_cpu else "CPU",
    }


def analyse(render: dict, alone: dict[str, dict], floor: dict, machine: dict) -> dict:
    """The efficiency against the machine floor (the target) and the old floor, and per
    stage: alone vs in the pipeline, and how busy it was."""
    frames, elapsed = render["frames"], render["elapsed_s"]
    per_stage = {}
    for name in STAGES:
        clock = render["stages"][name]
        wall = 1000 * clock["wall_s"] / frames
        per_stage[name] = {
            "alone_wall_ms": alone[name]["wall_ms_per_frame"],
            "alone_cpu_ms": alone[name]["cpu_ms_per_frame"],
            "alone_thread_cpu_ms": alone[name]["thread_cpu_ms_per_frame"],
            "pipeline_wall_ms": round(wall, 3),
            "pipeline_thread_cpu_ms": round(1000 * clock["cpu_s"] / frames, 3),
            "busy": round(clock["wall_s"] / elapsed, 3),
            "wall_vs_alone": round(wall / alone[name]["wall_ms_per_frame"], 2)
            if alone[name]["wall_ms_per_frame"]
            else None,
        }
    bottleneck = max(STAGES, key=lambda s: per_stage[s]["busy"])
    fps = render["fps"]
    others_alone = max((alone[s].get("others_cores") or 0.0) for s in STAGES)
    return {
        "fps": round(fps, 2),
        "machine_floor_fps": machine["fps"],
        "machine_efficiency": round(fps / machine["fps"], 3),
        "machine_floor": machine,
        "floor_fps": floor["floor_fps"],
        "efficiency": round(fps / floor["floor_fps"], 3),
        "steady_fps": round(render["steady_fps"], 2),
        "steady_efficiency": round(render["steady_fps"] / floor["floor_fps"], 3),
        "first_frame_s": round(render["first_frame_s"], 3),
        "cpu_ms_per_frame": round(1000 * render["cpu_s"] / frames, 3),
        "cpu_utilisation": round(render["cpu_s"] / elapsed / floor["cores"], 3),
        "bottleneck": bottleneck,
        "stages": per_stage,
        "met": fps / machine["fps"] >= TARGET,
        "others_alone_max": round(others_alone, 2),
        "disturbed": disturbed(render.get("others_cores")) or disturbed(others_alone),
    }
