"""Section 9 of the benchmark (bench/enhancer.py) on real footage: the face-enhancer
stage's ms/frame at batch 8 on this machine's CPU, on ../shared/media's v05 (a 1080x1920
real presenter) instead of the bench's generated 1080p presenter.

    .venv/bin/python bench/enhancer_cost.py [--frames 32] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script

from app.engine.render.faces import create_detector  # noqa: E402
from bench import enhancer, stages  # noqa: E402
from bench.report import enhancer_markdown  # noqa: E402
from tests.support.paths import SHARED_MEDIA, YUNET_PATH  # noqa: E402

VIDEO = SHARED_MEDIA / "video/v05_latentsync_demo1_woman_outdoor_1080x1920_hevc.mp4"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=32, help="frames timed (multiple of 8)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    frames, _ = stages.decode(VIDEO, args.frames)
    result = enhancer.measure(frames, create_detector("yunet", YUNET_PATH))
    result["input"] = f"{VIDEO.name}'s first {len(frames)} frames"
    print(enhancer_markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
