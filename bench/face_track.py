"""`python -m bench.face_track [--repeats N]`: the face-track schedule's cost and placement,
new default (adaptive keys, at least every 10th frame, shot cuts) against the old one
(every 5th frame), side by side on the same clips, alternating so machine noise hits
both alike. Writes bench/face_track.json and bench/FACE_TRACK.md.

- 720p end to end: the benchmark's own 720p presenter (bench/inputs.py: a real face
  with gentle head motion), draft model, 10 s, render fps (best of the repeats).
- Placement on real clips with a03's speech (bench/placement.py): h06 (quick head
  motion), h02 (turned head, 720p), v07, v08: the share of drawn mouths more than 0.4
  mouth widths from YuNet's mouth on the source frame, and the render fps.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench import inputs
from bench.placement import render_and_measure

HERE = Path(__file__).resolve().parent
SHARED_MEDIA = inputs.SHARED / "media"
SPEECH = SHARED_MEDIA / "audio/a03_en_latentsync_demo1_audio.wav"
CLIPS = {
    "h06": "hard/h06_liveportrait_d11_quick_head_motion.mp4",
    "h02": "hard/h02_liveportrait_s32_woman_turned_head_1280x720.mp4",
    "v07": "video/v07_liveportrait_d14_woman_talking.mp4",
    "v08": "video/v08_liveportrait_d13_man_selfie_720x1280_noaudio.mp4",
}
SCHEDULES = {
    "new": {},  # RenderSettings' defaults
    "old": {"detect_interval": 5, "adaptive_detection": False},
}


def _fps_720p(folder: Path, repeats: int) -> dict[str, dict[str, float]]:
    from app.engine.render.pipeline import render
    from app.engine.settings import RenderSettings

    video = inputs.write_presenter(folder / "presenter720.mp4", "720p", 10.0)
    audio = inputs.write_speech(folder / "speech.wav", 10.0)
    best: dict[str, dict[str, float]] = {}
    for _ in range(repeats):
        for name, schedule in SCHEDULES.items():
            result = render(
                RenderSettings(
                    video,
                    audio,
                    folder / f"out-{name}.mp4",
                    model="draft",
                    device="cpu",
                    detector="yunet",
                    detector_model=inputs.YUNET,
                    track_cache=False,
                    **schedule,  # type: ignore[arg-type]
                )
            )
            fps = result.frames / result.elapsed_s
            if fps > best.get(name, {}).get("fps", 0.0):
                best[name] = {"fps": round(fps, 2), "detections": result.detections}
    return best


def _placement(folder: Path, repeats: int) -> dict[str, dict[str, dict[str, float]]]:
    rows: dict[str, dict[str, dict[str, float]]] = {}
    for clip, relative in CLIPS.items():
        rows[clip] = {}
        for name, schedule in SCHEDULES.items():
            fps = 0.0
            for _ in range(repeats):
                placement, result = render_and_measure(
                    SHARED_MEDIA / relative, SPEECH, inputs.YUNET, folder, **schedule
                )
                fps = max(fps, result.frames / result.elapsed_s)
            rows[clip][name] = {
                **placement.summary(),
                "detections": result.detections,
                "fps": round(fps, 2),
            }
    return rows


def _markdown(results: dict) -> str:
    e2e = results["fps_720p"]
    ratio = e2e["new"]["fps"] / e2e["old"]["fps"]
    lines = [
        "# Face track: new schedule vs every 5th frame",
        "",
        f"`python -m bench.face_track`, {results['when']}, {results['repeats']} repeats "
        "(best fps kept), schedules alternated.",
        "",
        "## Draft model, 720p end to end (bench presenter, 10 s)",
        "",
        "| schedule | fps | detections |",
        "|---|---|---|",
        *(f"| {n} | {r['fps']} | {r['detections']} |" for n, r in e2e.items()),
        "",
        f"new / old fps: **{ratio:.2f}** "
        + (f"({(1 - ratio) * 100:.0f} % slower)" if ratio < 1 else "(not slower)"),
        "",
        "## Placement (draft, a03 speech; mouths > 0.4 mouth widths off YuNet's mouth)",
        "",
        "| clip | schedule | off / openings | off % | median | p95 | jitter p90 | detections "
        "| fps |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for clip, by_schedule in results["placement"].items():
        for name, r in by_schedule.items():
            lines.append(
                f"| {clip} | {name} | {r['off']} / {r['openings']} | {r['off_pct']} | "
                f"{r['median']} | {r['p95']} | {r['jitter_p90']} | {r['detections']} | "
                f"{r['fps']} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results = {
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "repeats": args.repeats,
            "fps_720p": _fps_720p(folder, args.repeats),
            "placement": _placement(folder, 1),
        }
    (HERE / "face_track.json").write_text(json.dumps(results, indent=2) + "\n")
    (HERE / "FACE_TRACK.md").write_text(_markdown(results))
    print(_markdown(results))


if __name__ == "__main__":
    main()
