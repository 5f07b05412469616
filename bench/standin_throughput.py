"""Throughput of the full-size Wav2Lip stand-in on this machine's CPU.

Random weights, the real architecture (36.3 M parameters, ~7.9 GFLOP per frame),
fed through Wav2LipModel.infer as the pipeline feeds it, at batch 1, 8 and 32, for
fp32 and, where ONNX Runtime's CPU provider runs them, fp16 and dynamic int8.

    .venv/bin/python bench/standin_throughput.py [--seconds 3] [--json out.json]

Prints a markdown table of frames/s; --json also writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script

from app.engine.models.lipsync.wav2lip import Wav2LipModel  # noqa: E402
from tests.support import standins  # noqa: E402

BATCHES = (1, 8, 32)


def measure(path: Path, batch: int, seconds: float) -> float:
    """Frames per second through Wav2LipModel.infer, after one warm-up call."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model = Wav2LipModel(session, batch_size=batch)
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (batch, 96, 96, 3), dtype=np.uint8)
    mels = rng.uniform(-4, 4, (batch, 80, 16)).astype(np.float32)
    indices = np.arange(batch)
    model.infer(crops, mels, indices)  # warm-up: allocations, kernel choice
    frames, start = 0, time.perf_counter()
    while True:
        model.infer(crops, mels, indices)
        frames += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and frames >= 2 * batch:
            return frames / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per cell")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    cost = standins.wav2lip_cost()
    print(
        f"Wav2Lip stand-in: {cost.params / 1e6:.2f} M parameters, "
        f"{cost.flops / 1e9:.2f} GFLOP per frame"
    )
    print(
        f"onnxruntime {ort.__version__}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} logical CPUs\n"
    )

    results: dict[str, dict[str, float | str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = standins.build_wav2lip_fullsize(Path(tmp) / "fp32.onnx")
        variants = {
            "fp32": lambda: fp32,
            "fp16": lambda: standins.build_wav2lip_fullsize(Path(tmp) / "fp16.onnx", fp16=True),
            "int8": lambda: standins.quantize_int8(fp32, Path(tmp) / "int8.onnx"),
        }
        for name, build in variants.items():
            row: dict[str, float | str] = {}
            try:
                path = build()
                for batch in BATCHES:
                    row[str(batch)] = measure(path, batch, args.seconds)
            except Exception as exc:  # noqa: BLE001 - a variant this CPU EP cannot run
                row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
            results[name] = row

    print("| variant | " + " | ".join(f"batch {b}" for b in BATCHES) + " | best GFLOP/s |")
    print("|---|" + "---:|" * (len(BATCHES) + 1))
    for name, row in results.items():
        if "error" in row:
            print(f"| {name} | does not run: {row['error']} |")
            continue
        cells = " | ".join(f"{row[str(b)]:.1f} fps" for b in BATCHES)
        best = max(float(row[str(b)]) for b in BATCHES) * cost.flops / 1e9
        print(f"| {name} | {cells} | {best:.0f} |")
    if args.json:
        args.json.write_text(json.dumps({"cost_flops": cost.flops, "results": results}, indent=2))


if __name__ == "__main__":
    main()
