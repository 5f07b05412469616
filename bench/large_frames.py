"""Section 8: peak memory of a render of large frames, a 36 MP still and a 4K video.

Memory is bounded by design (issue 11 item 12): the stage queues hold a byte budget of
frames (frame_budget.py), and a still whose long side exceeds 4096 px is scaled
to 4096 once, when it is read (RenderSettings.max_still_side). Each render runs in a
fresh process (bench.child), so its peak RSS (VmHWM) is the render's own. A few seconds
of frames reach the steady state: what is in flight no longer grows after the queues fill.

    python -m bench.large_frames [--quick]     # this section alone, a table on stdout
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from app.engine.settings import RenderSettings
from bench import inputs
from bench.measure import run_child

if TYPE_CHECKING:
    from bench.__main__ import Run

STILL_SIZE = (7360, 4912)  # 36.2 MP: a full-frame camera's photo
VIDEO_SIZE = (3840, 2160)  # 4K UHD
# Targets (issue 11 item 12), in GB of 10^9 bytes: peak RSS of the whole render process.
TARGET_GB = {"still": 1.5, "video": 1.2}
SECONDS = {True: 1.0, False: 5.0}  # speech per render: --quick (CI smoke), full


def run(run: Run) -> None:
    with run.section("8 large frames"):
        run.results["large_frames"] = measure(
            run.work, run.plan.quick, run.yunet, run.home, run.log, run.quiet
        )


def measure(
    work: Path,
    quick: bool,
    yunet: Path | None,
    home: Callable[[str], str],
    log: Callable[[str], None],
    quiet: Callable[[], object] = lambda: None,
) -> dict:
    """Make the inputs, render each in a child, return the section's results."""
    seconds = SECONDS[quick]
    still = inputs.write_still(work / "still-36mp.jpg", STILL_SIZE)
    video = inputs.write_face_clip(work / "presenter-4k.mp4", VIDEO_SIZE, seconds)
    audio = inputs.write_speech(work / "speech-large.wav", seconds)
    cases = [
        ("still", "36 MP still (scaled to 4096)", still, False),
        ("video", "4K video", video, False),
    ]
    if not quick:  # side by side: what the byte budget saves at 4K
        cases.append(("video", "4K video, frames in flight capped by count (before)", video, True))
    rows = []
    for kind, label, source, unbounded in cases:
        log(f"  render {label}")
        name = f"large-{len(rows)}"
        job = {
            "kind": "render",
            "video": str(source),
            "audio": str(audio),
            "output": str(work / f"{name}.mp4"),
            "model": "draft",
            "detector": "yunet" if yunet else "haar",
            "yunet_path": str(yunet) if yunet else None,
            "interval": RenderSettings.detect_interval,  # the app's defaults
            "track_cache": False,
            "home": home(name),
            "unbounded": unbounded,
        }
        quiet()
        result = run_child(job)
        peak_gb = result["peak_rss_mb"] * 2**20 / 1e9
        target = None if unbounded else TARGET_GB[kind]
        rows.append(
            {
                "input": label,
                "source": f"{STILL_SIZE[0]}x{STILL_SIZE[1]}"
                if kind == "still"
                else f"{VIDEO_SIZE[0]}x{VIDEO_SIZE[1]}",
                "rendered": f"{result['width']}x{result['height']}",
                "frames": result["frames"],
                "queue_frames": result["queue_frames"],
                "peak_rss_gb": round(peak_gb, 3),
                "fps": round(result["fps"], 2),
                "warnings": result["warnings"],
                "target_gb": target,
                "met": None if target is None else peak_gb <= target,
            }
        )
    return {"seconds": seconds, "renders": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.large_frames", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter renders")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lipsync-bench-large-") as tmp:
        work = Path(tmp)
        os.environ["LIPSYNC_STUDIO_HOME"] = str(work / "homes" / "main")

        def home(name: str) -> str:
            path = work / "homes" / name
            path.mkdir(parents=True, exist_ok=True)
            return str(path)

        def log(message: str) -> None:
            print(message, file=sys.stderr, flush=True)

        section = measure(work, args.quick, inputs.sources().yunet, home, log)
    from bench.report import large_frames_markdown

    print(large_frames_markdown(section))
    print(json.dumps(section, indent=2))
    return 0 if all(x["met"] is not False for x in section["renders"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
