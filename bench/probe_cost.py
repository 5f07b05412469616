"""Section 1: a media file's duration in-process (media.probe) vs a subprocess ffprobe."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from app.engine.render import media
from bench.measure import median_s


def run(path: Path, calls: int) -> dict:
    in_process = median_s(lambda: media.probe(path).duration, calls)
    result: dict = {
        "file": path.name,
        "calls": calls,
        "duration_s": round(media.probe(path).duration, 3),
        "in_process_ms": round(1000 * in_process, 3),
    }
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        result["ffprobe"] = "not installed: skipped"
        return result
    command = [
        ffprobe,
        "-v",
        "error",
        "-show_entries",
        "format=duration",
        "-of",
        "default=noprint_wrappers=1:nokey=1",
        str(path),
    ]

    def call() -> float:
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        return float(done.stdout.strip())

    result["ffprobe_duration_s"] = round(call(), 3)
    subprocess_s = median_s(call, calls)
    result["ffprobe_ms"] = round(1000 * subprocess_s, 3)
    result["ffprobe_over_in_process"] = round(subprocess_s / in_process, 2)
    return result
