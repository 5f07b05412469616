"""JobStore at batch scale: enqueue 100,000 jobs, then time what the GUI and scheduler ask.

    .venv/bin/python bench/bench_jobstore.py [--jobs 100000] [--repeat 20]

Prints a markdown table and writes bench/out/jobstore.json. The database lives in a
temporary folder (never the user's queue). Target: a page of 200 well under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from app.engine.queue.jobstore import JobSpec, JobStore  # noqa: E402
from app.engine.settings import RenderSettings  # noqa: E402

OUT = Path(__file__).resolve().parent / "out" / "jobstore.json"
DEVICES = ("auto", "auto", "cuda:0", "cpu")  # a mix, so claims filter by device


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    n, repeat = args.jobs, args.repeat
    rows: list[tuple[str, float, str]] = []

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        specs = [
            JobSpec(
                RenderSettings(
                    f"/videos/v{i % 500}.mp4",
                    f"/audio/a{i}.wav",
                    f"/renders/out{i}.mp4",
                    device=DEVICES[i % len(DEVICES)],
                ),
                priority=i % 10,
            )
            for i in range(n)
        ]
        build_s = time.perf_counter() - t
        with JobStore(Path(tmp) / "jobs.sqlite3") as store:
            t = time.perf_counter()
            store.add_many(specs)
            add_s = time.perf_counter() - t
            rows.append((f"add_many({n:,}) one transaction", add_s * 1000, "once"))
            rows.append((f"  (building {n:,} RenderSettings, caller side)", build_s * 1000, "once"))
            deep = n // 2
            rows += [
                (
                    "page(0, 200) by priority",
                    median_ms(lambda: store.page(0, 200), repeat),
                    f"median of {repeat}",
                ),
                (
                    f"page({deep:,}, 200) by priority",
                    median_ms(lambda: store.page(deep, 200), repeat),
                    f"median of {repeat}",
                ),
                (
                    f"page({deep // 2:,}, 200, state='queued')",
                    median_ms(lambda: store.page(deep // 2, 200, state="queued"), repeat),
                    f"median of {repeat}",
                ),
                (
                    f"page({deep:,}, 200) by created",
                    median_ms(lambda: store.page(deep, 200, order="created"), repeat),
                    f"median of {repeat}",
                ),
                ("count()", median_ms(store.count, repeat), f"median of {repeat}"),
                (
                    "count('queued')",
                    median_ms(lambda: store.count("queued"), repeat),
                    f"median of {repeat}",
                ),
                (
                    "claim_next('cuda:0')",
                    median_ms(lambda: store.claim_next("cuda:0"), repeat),
                    f"median of {repeat}",
                ),
                (
                    "claim_next('cpu', accept=('cpu',))",
                    median_ms(lambda: store.claim_next("cpu", accept=("cpu",)), repeat),
                    f"median of {repeat}",
                ),
            ]
            running = store.page(0, 1, state="running")[0].id
            frame = iter(range(10**9))
            rows.append(
                (
                    "update_progress (one job)",
                    median_ms(
                        lambda: store.update_progress(running, next(frame), 10**6, 25.0),
                        repeat * 10,
                    ),
                    f"median of {repeat * 10}",
                )
            )
            db_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6

    print(
        f"JobStore, {n:,} jobs, SQLite {sqlite3.sqlite_version}, Python "
        f"{platform.python_version()}, {platform.machine()}; database {db_mb:.1f} MB\n"
    )
    print("| operation | ms | |\n|---|---:|---|")
    for name, ms, note in rows:
        print(f"| {name} | {ms:.3f} | {note} |")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "jobs": n,
                "sqlite": sqlite3.sqlite_version,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "db_mb": round(db_mb, 2),
                "results_ms": {name.strip(): round(ms, 4) for name, ms, _ in rows},
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
