"""Per-job overhead of the Ray path vs the local scheduler: 10 short draft jobs each.

    .venv/bin/python bench/farm_overhead.py [--jobs 10] [--cpus 2]

Both run in this one process, side by side, on the same inputs: the local Scheduler
with render_runner on one CPU slot, then the Ray runner on a local Ray instance started
here (`ray.init(num_cpus=CPUS)`, not counted) with one CPU per job. Prints a markdown
table and writes bench/out/farm_overhead.json. The machine is shared: compare the two
columns of one run, not numbers across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

OUT = Path(__file__).resolve().parent / "out" / "farm_overhead.json"


def _queue(store, inputs: Path, out: Path, jobs: int) -> None:
    from app.engine.queue.jobstore import JobSpec
    from app.engine.settings import RenderSettings

    out.mkdir(parents=True, exist_ok=True)
    store.add_many(
        JobSpec(
            RenderSettings(
                inputs / "clip.mp4",
                inputs / "speech.wav",
                out / f"job{i}.mp4",
                model="draft",
                track_cache=False,
            )
        )
        for i in range(jobs)
    )


def _run(store, runner, slots: dict[str, int]) -> float:
    from app.engine.queue.scheduler import Scheduler

    scheduler = Scheduler(store, runner, slots=slots)
    start = time.perf_counter()
    scheduler.start()
    try:
        assert scheduler.run_until_idle(timeout=1800)
    finally:
        scheduler.stop()
    elapsed = time.perf_counter() - start
    assert store.count("done") == store.count(), "a job did not finish"
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="farm-bench-"))
    os.environ["LIPSYNC_STUDIO_HOME"] = str(home)  # before Ray starts: its workers inherit it
    import ray

    from app.engine.farm.runner import RayRunner
    from app.engine.queue.jobstore import JobStore
    from app.engine.queue.scheduler import render_runner
    from tests.unit.test_track_cache import (
        load_source_frames,
        load_speech,
        write_clip,
        write_speech,
    )

    inputs = home / "in"
    write_clip(inputs / "clip.mp4", load_source_frames()[:25])  # 1 s, 192 px
    write_speech(inputs / "speech.wav", load_speech(), 1.0, 1.0)  # 25 output frames

    with JobStore(home / "local.sqlite3") as store:
        _queue(store, inputs, home / "local", args.jobs)
        local_s = _run(store, render_runner, {"cpu": 1})
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    try:
        with JobStore(home / "ray.sqlite3") as store:
            _queue(store, inputs, home / "ray", args.jobs)
            # One job at a time, like the local run: the difference is the Ray round trip.
            ray_s = _run(store, RayRunner(cpus_per_job=1), {"cpu": 1})
            _queue(store, inputs, home / "ray2", args.jobs)
            ray_parallel_s = _run(store, RayRunner(cpus_per_job=1), {"cpu": args.cpus})
    finally:
        ray.shutdown()

    rows = [
        ("local scheduler, 1 slot", local_s),
        ("Ray, 1 job in flight", ray_s),
        (f"Ray, {args.cpus} jobs in flight", ray_parallel_s),
    ]
    print(f"| {args.jobs} draft jobs (1 s, 192 px) | s total | s per job |")
    print("|---|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} | {seconds / args.jobs:.3f} |")
    overhead = (ray_s - local_s) / args.jobs
    print(f"\nRay overhead per job (1 in flight vs local): {overhead:+.3f} s")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "jobs": args.jobs,
                "cpus": args.cpus,
                "seconds": dict(rows),
                "ray_overhead_per_job_s": overhead,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
