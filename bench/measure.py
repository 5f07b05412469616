"""Clocks, peak memory and child processes: what every section measures with."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


@dataclass
class Cost:
    """Work done on `frames` frames: wall time, CPU of the whole process (every thread:
    FFmpeg's, x264's, OpenCV's, ONNX Runtime's) and CPU of the calling thread only."""

    frames: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    thread_cpu_s: float = 0.0
    others_cores: float | None = None  # cores other processes used meanwhile (Background)

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else float("inf")

    @property
    def wall_per_frame(self) -> float:
        return self.wall_s / self.frames if self.frames else 0.0

    @property
    def cpu_per_frame(self) -> float:
        return self.cpu_s / self.frames if self.frames else 0.0

    @property
    def thread_cpu_per_frame(self) -> float:
        return self.thread_cpu_s / self.frames if self.frames else 0.0

    def to_dict(self) -> dict:
        return {
            "frames": self.frames,
            "wall_s": round(self.wall_s, 4),
            "cpu_s": round(self.cpu_s, 4),
            "thread_cpu_s": round(self.thread_cpu_s, 4),
            "fps": round(self.fps, 2),
            "wall_ms_per_frame": round(1000 * self.wall_per_frame, 3),
            "cpu_ms_per_frame": round(1000 * self.cpu_per_frame, 3),
            "thread_cpu_ms_per_frame": round(1000 * self.thread_cpu_per_frame, 3),
            "others_cores": None if self.others_cores is None else round(self.others_cores, 2),
        }


class Meter:
    """`with Meter(cost, frames):` adds the block's wall/process-CPU/thread-CPU to `cost`."""

    def __init__(self, cost: Cost, frames: int = 0) -> None:
        self.cost, self.frames = cost, frames

    def __enter__(self) -> Meter:
        self._background = Background().__enter__()
        self._t = (time.perf_counter(), time.process_time(), time.thread_time())
        return self

    def __exit__(self, *exc: object) -> None:
        wall, cpu, thread = self._t
        self.cost.wall_s += time.perf_counter() - wall
        self.cost.cpu_s += time.process_time() - cpu
        self.cost.thread_cpu_s += time.thread_time() - thread
        self.cost.frames += self.frames
        self._background.__exit__()
        self.cost.others_cores = self._background.cores


def _busy_s() -> float | None:
    """CPU seconds all processes have run since boot (/proc/stat), or None off Linux."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return None
    # user nice system idle iowait irq softirq steal ...: all but idle and iowait
    jiffies = [int(x) for x in fields[:8]]
    busy = sum(jiffies) - jiffies[3] - jiffies[4]
    return busy / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class Background:
    """How many cores OTHER processes kept busy while the block ran (this process and
    its waited-for children excluded): the noise beside a measurement."""

    def __init__(self) -> None:
        self.cores: float | None = None

    def __enter__(self) -> Background:
        self._start = (time.perf_counter(), _busy_s(), _own_cpu_s())
        return self

    def __exit__(self, *exc: object) -> None:
        wall0, busy0, own0 = self._start
        busy1 = _busy_s()
        wall = time.perf_counter() - wall0
        if busy0 is None or busy1 is None or wall <= 0:
            return
        self.cores = max(0.0, (busy1 - busy0 - (_own_cpu_s() - own0)) / wall)


def wait_quiet(max_wait_s: float, threshold_cores: float = 0.25, window_s: float = 0.5) -> float:
    """Wait (at most `max_wait_s`) for a `window_s` in which other processes use fewer
    than `threshold_cores` cores; returns the seconds waited."""
    start = time.perf_counter()
    while time.perf_counter() - start < max_wait_s:
        with Background() as bg:
            time.sleep(window_s)
        if bg.cores is None or bg.cores < threshold_cores:
            break
    return time.perf_counter() - start


DISTURBED_CORES = 0.25  # other processes above this meanwhile: the measurement is suspect


def disturbed(others_cores: float | None) -> bool:
    return others_cores is not None and others_cores > DISTURBED_CORES


def least_disturbed(
    runs: list[Any], wall: Callable[[Any], float], others: Callable[[Any], float | None]
) -> Any:
    """The fastest of the runs other processes left alone, else the fastest of all."""
    calm = [r for r in runs if not disturbed(others(r))]
    return min(calm or runs, key=wall)


class Quiet:
    """Called before a measurement: waits for the machine to go quiet (wait_quiet), at
    most `per_call_s` each time and `budget_s` in all; 0 turns waiting off (--quick)."""

    def __init__(self, per_call_s: float, budget_s: float) -> None:
        self.per_call_s, self.budget_s = per_call_s, budget_s
        self.waited_s = 0.0
        self.calls = 0

    def __call__(self) -> None:
        allowed = min(self.per_call_s, self.budget_s - self.waited_s)
        if allowed > 0:
            self.waited_s += wait_quiet(allowed)
            self.calls += 1


def median_s(fn: Callable[[], object], calls: int) -> float:
    """Median wall seconds of one call, over `calls` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def run_child(job: dict, timeout_s: float = 1800) -> dict:
    """Run `python -m bench.child` with one job (a fresh process: its own peak memory);
    returns the JSON it prints, plus the child's wall time from here."""
    start = time.perf_counter()
    with Background() as background:
        done = subprocess.run(
            [sys.executable, "-m", "bench.child", json.dumps(job)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(
            f"bench.child {job.get('kind')} failed ({done.returncode}):\n{done.stderr[-3000:]}"
        )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = time.perf_counter() - start
    result["others_cores"] = background.cores
    return result
