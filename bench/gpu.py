"""`python -m bench --device cuda|dml [--quick] [--out DIR]`: the same questions on a GPU.

1. The Wav2Lip stand-in's model stage alone on the GPU provider at batch 8, 32 and
   128, IO binding on and off (fps, and the CPU it still costs per frame).
2. End-to-end renders at 720p and 1080p with the model on the GPU, libx264 beside the
   hardware encoder `--encoder auto` picks (fps, CPU use, size, luma PSNR).
Writes DIR/results.json and DIR/RESULTS.md (default bench/gpu) and prints the table.
Without the provider it says why in one line and exits 2 (tools/gpu_check.sh runs it).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from bench import inputs, machine
from bench.encoder_quality import mean_psnr
from bench.measure import Cost, Meter, run_child

BATCHES = (8, 32, 128)
DEFAULT_OUT = Path(__file__).resolve().parent / "gpu"


def model_stage(model_path: Path, device: str, frames: int) -> list[dict]:
    """The stand-in alone on `device`: fps and CPU per frame at each batch, IO binding
    on and off (random crops and mels: the speed does not depend on the pixels)."""
    from app.engine.models.lipsync.wav2lip import Wav2LipModel
    from app.engine.models.providers import SessionCache

    session = SessionCache().get(model_path, device)
    rng = np.random.default_rng(0)
    rows = []
    for batch in BATCHES:
        n = max(frames, 2 * batch)
        crops = rng.integers(0, 256, (n, 96, 96, 3), dtype=np.uint8)
        mels = rng.random((n, 80, 16), dtype=np.float32)
        for io_binding in (True, False):
            model = Wav2LipModel(session, batch_size=batch, io_binding=io_binding)
            model.infer(crops[:batch], mels[:batch], np.arange(batch))  # warm-up (cuDNN tuning)
            cost = Cost()
            with Meter(cost, n):
                for start in range(0, n, batch):
                    stop = min(start + batch, n)
                    model.infer(crops[start:stop], mels[start:stop], np.arange(start, stop))
            rows.append({"batch": batch, "io_binding": io_binding, **cost.to_dict()})
    return rows


def renders(work: Path, model_path: Path, device: str, seconds: float) -> list[dict]:
    from app.engine.render.media import encoders

    hardware = encoders.choose("auto")
    audio = inputs.write_speech(work / "speech.wav", seconds)
    yunet = inputs.sources().yunet
    rows = []
    for res in inputs.SIZES:
        clip = inputs.write_presenter(work / f"presenter-{res}.mp4", res, seconds)
        with_frames = _frames(clip)
        for encoder in dict.fromkeys(("libx264", hardware)):
            output = work / f"render-{res}-{encoder}.mp4"
            job = {
                "kind": "render",
                "video": str(clip),
                "audio": str(audio),
                "output": str(output),
                "model": "wav2lip",
                "model_path": str(model_path),
                "batch": None,
                "device": device,
                "encoder": encoder,
                "detector": "yunet" if yunet else "haar",
                "yunet_path": str(yunet) if yunet else None,
                "interval": 5,
                "track_cache": False,
                "home": str(work / "home"),
            }
            result = run_child(job)
            rows.append(
                {
                    "resolution": res,
                    "encoder": result.get("encoder", encoder),
                    "frames": result["frames"],
                    "fps": round(result["fps"], 2),
                    "batch": result["batch"],
                    "cpu_cores_used": round(result["cpu_s"] / result["elapsed_s"], 2),
                    "size_mb": round(output.stat().st_size / 1e6, 3),
                    "luma_psnr_vs_source_db": round(mean_psnr(output, with_frames), 2),
                    "others_cores": result["others_cores"],
                    "stages_busy": {
                        k: round(v["wall_s"] / result["elapsed_s"], 2)
                        for k, v in result["stages"].items()
                    },
                }
            )
    return rows


def _frames(clip: Path) -> list[np.ndarray]:
    from app.engine.render import media

    with media.open_video(clip) as reader:
        return list(reader.frames())


def markdown(r: dict) -> str:
    lines = [
        f"# GPU benchmark ({r['device']})\n",
        f"- Command: `{r['command']}`; date {r['date']}; {r['machine']['cpu']}, "
        f"{r['machine']['cores']} cores; onnxruntime {r['machine']['onnxruntime']}.\n",
        "## Wav2Lip stand-in alone on the GPU\n",
        "| batch | IO binding | fps | wall ms/frame | CPU ms/frame |",
        "|---:|---|---:|---:|---:|",
    ]
    for x in r["model_stage"]:
        lines.append(
            f"| {x['batch']} | {'on' if x['io_binding'] else 'off'} | {x['fps']:.1f} | "
            f"{x['wall_ms_per_frame']:.2f} | {x['cpu_ms_per_frame']:.2f} |"
        )
    lines += [
        "\n## End to end: model on the GPU, libx264 vs the hardware encoder\n",
        "| render | encoder | fps | CPU cores used | size MB | luma PSNR dB | busiest stage |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for x in r["renders"]:
        busiest = max(x["stages_busy"], key=x["stages_busy"].get)
        lines.append(
            f"| {x['resolution']} | {x['encoder']} | {x['fps']:.1f} | {x['cpu_cores_used']:.2f} "
            f"| {x['size_mb']:.2f} | {x['luma_psnr_vs_source_db']:.2f} | "
            f"{busiest} {x['stages_busy'][busiest]:.0%} |"
        )
    return "\n".join(lines) + "\n"


def main(device: str, quick: bool, out: Path | None, command: str) -> int:
    from app.engine.errors import InputError
    from app.engine.models.providers import resolve_device

    try:
        choice = resolve_device(device)
    except InputError as exc:
        print(f"python -m bench --device {device}: {exc}", file=sys.stderr)
        return 2
    if choice.kind == "cpu":
        print(f"python -m bench --device {device}: not a GPU device", file=sys.stderr)
        return 2
    out = out or DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lipsync-bench-gpu-") as tmp:
        work = Path(tmp)
        os.environ["LIPSYNC_STUDIO_HOME"] = str(work / "home")
        from tests.support import standins

        model_path = standins.build_wav2lip_fullsize(work / "wav2lip_fullsize_fp32.onnx")
        results = {
            "command": command,
            "device": choice.label,
            "date": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
            "machine": machine.describe(),
            "model_stage": model_stage(model_path, device, 64 if quick else 512),
            "renders": renders(work, model_path, device, 4.0 if quick else 20.0),
        }
    results["total_s"] = round(time.perf_counter() - started, 1)
    text = markdown(results)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "RESULTS.md").write_text(text)
    print(text)
    return 0
