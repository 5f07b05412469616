"""The face-enhancer stage's cost per frame at batch 8 on this machine's CPU.

The stage as the pipeline runs it (render/enhance.py: cut the face again at the
enhancer's template and size, run the batch, blend it back through the paste region)
on real 1080x1920 frames (../shared/media v05) with two stand-ins of the real contract
(512x512, [-1, 1]): an identity (the stage's own work: warps, scaling, blend) and a
convolutional encoder-decoder of stated GFLOPs (the network's share; real GFPGAN /
GPEN weights cannot be fetched on this machine, so scale by their own GFLOPs).

    .venv/bin/python bench/enhancer_cost.py [--frames 32] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script

from app.engine.models.enhance.runner import FaceEnhancer  # noqa: E402
from app.engine.render import media  # noqa: E402
from app.engine.render.blend import paste_face  # noqa: E402
from app.engine.render.crop import estimate_alignment, warp_to_crop  # noqa: E402
from app.engine.render.enhance import EnhanceItem, enhance_faces  # noqa: E402
from app.engine.render.faces import create_detector  # noqa: E402
from tests.support import standins  # noqa: E402
from tests.support.paths import SHARED_MEDIA, YUNET_PATH  # noqa: E402

VIDEO = SHARED_MEDIA / "video/v05_latentsync_demo1_woman_outdoor_1080x1920_hevc.mp4"
BATCH = 8


def pasted_items(frames: list[np.ndarray]) -> list[EnhanceItem]:
    """Each frame with its face found and a (changed) 96 px mouth pasted, as after lip sync."""
    detector = create_detector("yunet", YUNET_PATH)
    items = []
    for frame in frames:
        face = detector.detect(frame)[0]
        matrix = estimate_alignment(face.landmarks, "wav2lip", 96)
        crop = warp_to_crop(frame, matrix, 96)
        pasted = paste_face(frame, 255 - crop, crop, matrix, face.landmarks)
        assert pasted is not None
        items.append(EnhanceItem(frame, face.landmarks, pasted))
    return items


def ms_per_frame(path: Path, items: list[EnhanceItem]) -> float:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    enhancer = FaceEnhancer(session, "gfpgan_1.4", batch_size=BATCH)
    enhance_faces(enhancer, items[:BATCH], 0.8)  # warm-up
    start = time.perf_counter()
    for i in range(0, len(items), BATCH):
        enhance_faces(enhancer, items[i : i + BATCH], 0.8)
    return (time.perf_counter() - start) * 1000 / len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=32, help="frames timed (multiple of 8)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    with media.open_video(VIDEO) as reader:
        frames = [f for _, f in zip(range(args.frames), reader.frames())]
    items = pasted_items(frames)
    with tempfile.TemporaryDirectory() as tmp:
        identity = standins.build_face_enhancer(Path(tmp) / "id.onnx")
        convnet, flops = standins.build_face_enhancer_convnet(Path(tmp) / "conv.onnx")
        stage = ms_per_frame(identity, items)
        network = ms_per_frame(convnet, items)
    gflops = flops / 1e9
    rate = gflops / ((network - stage) / 1000) if network > stage else float("nan")
    print(f"onnxruntime {ort.__version__}; {len(items)} frames of 1080x1920, batch {BATCH}, CPU")
    print("| enhancer stand-in (512x512) | ms/frame |")
    print("|---|---:|")
    print(f"| identity: the stage's own work (warps, scaling, blend) | {stage:.1f} |")
    print(f"| conv encoder-decoder, {gflops:.1f} GFLOP/frame | {network:.1f} |")
    print(f"\nnetwork throughput ~{rate:.0f} GFLOP/s: a real enhancer costs about")
    print("(its GFLOP per frame) / that rate, plus the stage's own work above.")
    if args.json:
        result = {"stage_ms": stage, "convnet_ms": network, "convnet_gflop": gflops}
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
