"""Section 7: every video encoder that opens here, on the same frames at the same quality
setting: speed, CPU, file size and luma PSNR against the frames it was given."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from app.engine.render.media import encoders
from app.engine.settings import ENCODERS
from bench import stages
from bench.inputs import FPS
from tests.mediagen import luma_psnr

CRF = 18  # RenderSettings' default quality, mapped to each encoder's own scale


def mean_psnr(output: Path, frames: list[np.ndarray]) -> float:
    with av.open(str(output)) as container:
        decoded = (f.to_ndarray(format="bgr24") for f in container.decode(video=0))
        values = [luma_psnr(a, b) for a, b in zip(decoded, frames)]
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("inf")


def run(frames: list[np.ndarray], work: Path, label: str) -> dict:
    """One row per encoder that opens on this machine; the others with their reason."""
    rows, closed = [], {}
    for codec in ENCODERS:
        if codec == "auto":
            continue
        reason = encoders.open_error(codec, frames[0].shape[1], frames[0].shape[0])
        if reason is not None:
            closed[codec] = reason
            continue
        output = work / f"encoders-{label}-{codec}.mp4"
        cost = stages.encode(frames, output, FPS, audio=None, crf=CRF, encoder=codec)
        rows.append(
            {
                "encoder": codec,
                **cost.to_dict(),
                "size_mb": round(output.stat().st_size / 1e6, 3),
                "mbit_s": round(output.stat().st_size * 8 / 1e6 / (len(frames) / FPS), 2),
                "luma_psnr_db": round(mean_psnr(output, frames), 2),
            }
        )
    return {"resolution": label, "frames": len(frames), "crf": CRF, "rows": rows, "closed": closed}
