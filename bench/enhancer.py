"""Section 9: the face-enhancer stage's cost per frame at batch 8 on this machine's CPU.

The stage as a render runs it (render/enhance.py's enhance_faces through the real
FaceEnhancer runner, on the app's CPU session: providers.SessionCache, one intra-op
thread, in the blend thread): cut the face again at the enhancer's template and size,
run the batch, blend it back through the lip-sync paste region. On 1080p frames with a
face, each first given a changed 96 px mouth as after lip sync. Two stand-ins of the
real contract (512x512, [-1, 1], tests/support/standins.py): an identity (the stage's
own work: warps, scaling, the ONNX Runtime call, blend) and a convolutional
encoder-decoder of stated GFLOPs (the network's share). The registry's enhancers
(GFPGAN, RestoreFormer++, GPEN-BFR) cannot be fetched on this machine: their cost is
their GFLOP per frame / the rate measured here, plus the stage's own work.

    python -m bench --only enhancer [--quick]     # this section alone
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort

from app.engine.models.enhance.runner import ENHANCERS, FaceEnhancer
from app.engine.models.providers import SessionCache
from app.engine.render.blend import paste_face
from app.engine.render.crop import estimate_alignment, warp_to_crop
from app.engine.render.enhance import EnhanceItem, enhance_faces
from app.engine.render.faces import FaceDetector, create_detector
from bench import stages
from bench.measure import Cost, Meter
from tests.support import standins

if TYPE_CHECKING:
    from bench.__main__ import Run

BATCH = 8  # onnx_runner's CPU default: the batch a render on the CPU hands the stage
BLEND = 0.8  # RenderSettings.enhancer_blend's default
MOUTH_CROP = 96  # the lip-sync crop pasted first (Wav2Lip's)
REGISTRY_NOTE = (
    "not estimated: the registry's enhancers' GFLOP per frame cannot be counted without "
    "their .onnx files (not downloadable on this machine), and their authors publish no "
    "FLOP figure that was found; with G GFLOP per frame one costs about "
    "{stage:.0f} + 1000 x G / {rate:.1f} ms per frame here"
)


def run(run: Run) -> None:
    with run.section("9 enhancer"):
        frames, _ = stages.decode(run.clip["1080p"], run.plan.enhancer_frames)
        detector = create_detector("yunet" if run.yunet else "haar", run.yunet)
        run.results["enhancer"] = measure(
            frames, detector, warmup=run.plan.enhancer_warmup, quiet=run.quiet
        )
        run.results["enhancer"]["input"] = f"the 1080p presenter's first {len(frames)} frames"


def pasted_items(frames: list[np.ndarray], detector: FaceDetector) -> list[EnhanceItem]:
    """Each frame with its face found and a (changed) 96 px mouth pasted, as after lip
    sync. A frame without a face is left out, as the stage leaves it alone."""
    items = []
    for frame in frames:
        faces = detector.detect(frame)
        if not faces:
            continue
        landmarks = faces[0].landmarks
        matrix = estimate_alignment(landmarks, "wav2lip", MOUTH_CROP)
        crop = warp_to_crop(frame, matrix, MOUTH_CROP)
        pasted = paste_face(frame, 255 - crop, crop, matrix, landmarks)
        if pasted is not None:
            items.append(EnhanceItem(frame, landmarks, pasted))
    return items


def time_stage(
    path: Path, items: list[EnhanceItem], warmup: int, quiet: Callable[[], object]
) -> Cost:
    """enhance_faces over `items` in batches of BATCH after `warmup` frames untimed."""
    enhancer = FaceEnhancer(SessionCache().get(path, "cpu"), "gfpgan_1.4", batch_size=BATCH)
    enhance_faces(enhancer, items[:warmup], BLEND)
    quiet()
    cost = Cost()
    with Meter(cost, len(items)):
        for i in range(0, len(items), BATCH):
            enhance_faces(enhancer, items[i : i + BATCH], BLEND)
    return cost


def measure(
    frames: list[np.ndarray],
    detector: FaceDetector,
    *,
    warmup: int = BATCH,
    quiet: Callable[[], object] = lambda: None,
) -> dict:
    """The section's results for these frames (changed in place by the stage)."""
    items = pasted_items(frames, detector)
    if len(items) < BATCH:
        raise RuntimeError(f"a face in {len(items)} of {len(frames)} frames: need {BATCH}")
    height, width = frames[0].shape[:2]
    with tempfile.TemporaryDirectory(prefix="enhancer-") as tmp:
        identity = standins.build_face_enhancer(Path(tmp) / "identity.onnx")
        convnet, flops = standins.build_face_enhancer_convnet(Path(tmp) / "convnet.onnx")
        stage = time_stage(identity, items, warmup, quiet)
        network = time_stage(convnet, items, warmup, quiet)
    stage_ms, network_ms = 1000 * stage.wall_per_frame, 1000 * network.wall_per_frame
    gflop = flops / 1e9
    rate = gflop / ((network_ms - stage_ms) / 1000) if network_ms > stage_ms else None
    return {
        "frames": len(items),
        "frame_size": f"{width}x{height}",
        "batch": BATCH,
        "blend": BLEND,
        "session": "the app's CPU session (SessionCache: 1 intra-op thread), as a render's "
        "blend thread runs the stage",
        "onnxruntime": ort.__version__,
        "identity": stage.to_dict(),
        "convnet": network.to_dict(),
        "convnet_gflop_per_frame": round(gflop, 2),
        "network_gflop_per_s": None if rate is None else round(rate, 2),
        "registry": {
            name: {"crop": size, "gflop_per_frame": None}
            for name, (_template, size) in ENHANCERS.items()
        },
        "registry_note": REGISTRY_NOTE.format(stage=stage_ms, rate=rate)
        if rate is not None
        else "not estimated: the network stand-in was not slower than the identity",
    }
