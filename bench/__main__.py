"""`python -m bench [--quick] [--only SECTION[,SECTION]] [--out DIR]`: the engine's
performance, as ratios measured side by side in one run, written to DIR/results.json and
DIR/RESULTS.md.

Sections: 1 probe (in-process vs ffprobe), 2 stages alone at 720p and 1080p,
3 pipeline efficiency (end-to-end fps / floor), 4 the sequential (Wav2Lip-script)
baseline, 5 flat memory (short vs long render), 6 batch with/without the face-track
cache, 7 encoders, 8 large frames (peak RSS of a 36 MP still and a 4K video,
large_frames.py), 9 the face enhancer's ms/frame at batch 8 on the CPU (enhancer.py).
`--only` runs some of them (names or numbers: probe, stages (2-4), memory, batch,
encoders, large_frames, enhancer; sections.SECTIONS) and makes only their inputs.
Inputs are made on the spot (inputs.py); everything the run writes besides the
two result files lives in a temporary folder, the app's cache included.
--quick is CI's smoke run (under 2 minutes on 2 cores): the same sections on shorter
inputs; its numbers are noisier and say so.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from bench import inputs, machine
from bench.measure import Quiet
from bench.sections import SECTIONS, select

DEFAULT_OUT = Path(__file__).resolve().parent / "out"


@dataclass(frozen=True)
class Plan:
    quick: bool
    base_s: float  # presenter clip (its motion loops at this length)
    stage_frames: int  # frames each stage runs on alone
    sweep_frames: int  # Wav2Lip frames per batch-size trial
    wav2lip_stage_frames: int  # Wav2Lip model-stage frames at the best batch size
    probe_calls: int
    e2e_draft_s: float  # end-to-end renders (and the sequential baseline)
    e2e_wav2lip_s: float
    memory_s: tuple[float, float]  # short and long render
    batch_audios: int
    batch_audio_s: float
    repeats: int  # runs of the cheap measurements (stages alone, draft renders): fastest kept
    quiet_wait_s: float  # before each measurement, wait up to this for other processes
    quiet_budget_s: float  # ... and this much in all
    retry_until_s: float  # rerun a cheap measurement that others disturbed, until then
    haar_every_frame: int  # frames for the (slow) Haar-on-every-frame row
    enhancer_frames: int  # 1080p frames the face enhancer is timed on (batches of 8)
    enhancer_warmup: int  # frames run through each enhancer stand-in before the clock

    @classmethod
    def of(cls, quick: bool) -> Plan:
        if quick:
            return cls(True, 2, 32, 16, 16, 20, 3, 2, (4, 20), 10, 1, 1, 0, 0, 0, 32, 8, 1)
        return cls(
            False, 10, 250, 96, 128, 100, 30, 20, (30, 300), 10, 8, 2, 15, 120, 540, 100, 32, 8
        )


class Run:
    """The run's folder, inputs, log and results."""

    def __init__(self, plan: Plan, work: Path) -> None:
        self.plan, self.work = plan, work
        self.started = time.perf_counter()
        self.sources = inputs.sources()
        self.yunet = self.sources.yunet
        self.results: dict = {}
        self.wav2lip: Path | None = None  # the Wav2Lip stand-in, when a section needs it
        self.timings: dict[str, float] = {}
        self.quiet = Quiet(plan.quiet_wait_s, plan.quiet_budget_s)

    def retry(self) -> bool:
        """Whether there is still time to rerun a measurement others disturbed."""
        return time.perf_counter() - self.started < self.plan.retry_until_s

    def log(self, message: str) -> None:
        print(
            f"[{time.perf_counter() - self.started:6.1f}s] {message}", file=sys.stderr, flush=True
        )

    def home(self, name: str) -> str:
        """A fresh app home (cache, data) for one child."""
        path = self.work / "homes" / name
        path.mkdir(parents=True, exist_ok=True)
        return str(path)

    def render_job(
        self,
        name: str,
        video: Path,
        audio: Path,
        model: str,
        batch: int | None = None,
        track_cache: bool = False,
        interval: int | None = 5,
    ) -> dict:
        """A child's render job; `interval` None: the app's default detection schedule."""
        return {
            "kind": "render",
            "video": str(video),
            "audio": str(audio),
            "output": str(self.work / f"{name}.mp4"),
            "model": model,
            "model_path": None if self.wav2lip is None else str(self.wav2lip),
            "batch": batch,
            "detector": "yunet" if self.yunet else "haar",
            "yunet_path": str(self.yunet) if self.yunet else None,
            "interval": interval,
            "track_cache": track_cache,
            "home": self.home(name),
        }

    def section(self, name: str):  # context manager timing one section
        run = self

        class _Section:
            def __enter__(self) -> None:
                self.t = time.perf_counter()
                self.load = machine.load_average()
                run.log(f"{name} ...")

            def __exit__(self, *exc: object) -> None:
                run.timings[name] = round(time.perf_counter() - self.t, 1)
                run.results.setdefault("load_average", {})[name] = {
                    "before": self.load,
                    "after": machine.load_average(),
                }

        return _Section()

    # -- inputs ----------------------------------------------------------------------------
    def make_inputs(self, needs: frozenset[str]) -> None:
        """The inputs named in `needs` (sections.Section.inputs): "clip-720p",
        "long-1080p", "stage_audio", "e2e_audio", "memory_audio", "batch_audio",
        "wav2lip"; a long clip brings its base clip."""
        p, w = self.plan, self.work
        from tests.support import standins

        self.clip = {
            res: inputs.write_presenter(w / f"presenter-{res}.mp4", res, p.base_s)
            for res in inputs.SIZES
            if {f"clip-{res}", f"long-{res}"} & needs
        }
        longest = {
            "720p": max(p.memory_s[1], p.e2e_draft_s, p.e2e_wav2lip_s),
            "1080p": p.e2e_draft_s,
        }
        self.long = {
            res: inputs.repeat_video(
                self.clip[res],
                w / f"presenter-{res}-long.mp4",
                math.ceil(longest[res] / p.base_s),
            )
            for res in inputs.SIZES
            if f"long-{res}" in needs
        }
        if "stage_audio" in needs:
            self.stage_audio = inputs.write_speech(
                w / "speech-stages.wav", p.stage_frames / inputs.FPS
            )
        if "e2e_audio" in needs:
            self.e2e_audio = {
                "draft": inputs.write_speech(w / "speech-e2e-draft.wav", p.e2e_draft_s),
                "wav2lip": inputs.write_speech(w / "speech-e2e-wav2lip.wav", p.e2e_wav2lip_s),
            }
        if "memory_audio" in needs:
            self.memory_audio = [
                inputs.write_speech(w / f"speech-{s:g}s.wav", s) for s in p.memory_s
            ]
        if "batch_audio" in needs:
            self.batch_audio = [
                inputs.write_speech(
                    w / f"speech-batch-{k:02d}.wav", p.batch_audio_s, offset_s=1.1 * k
                )
                for k in range(p.batch_audios)
            ]
        if "wav2lip" in needs:
            self.wav2lip = standins.build_wav2lip_fullsize(w / "wav2lip_fullsize_fp32.onnx")
        self.results["inputs"] = {
            "face_image": self.sources.face_image,
            "detector": "yunet (every 5th frame)"
            if self.yunet
            else "haar (every 5th frame): ../shared/models has no YuNet",
            "presenter": {
                res: f"{w}x{h}, {inputs.FPS} fps, {p.base_s:g} s base clip, "
                f"{self.clip[res].stat().st_size / 1e6:.2f} MB"
                for res, (w, h) in inputs.SIZES.items()
                if res in self.clip
            },
            "speech": "app/resources/samples/speech.wav looped",
        }
        if self.wav2lip is not None:
            self.results["inputs"]["wav2lip_standin"] = (
                "standins.build_wav2lip_fullsize (fp32, random weights, "
                "36.3 M parameters, 7.9 GFLOP/frame)"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="The engine benchmark: results.json and RESULTS.md in --out.",
    )
    parser.add_argument("--quick", action="store_true", help="CI's smoke run: short inputs")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"folder for results.json and RESULTS.md (default {DEFAULT_OUT}; "
        "bench/gpu with --device)",
    )
    parser.add_argument(
        "--device",
        default="cpu",
        help="cpu (the full benchmark) | cuda[:N] | dml[:N]: the GPU sections (bench/gpu.py)",
    )
    parser.add_argument(
        "--only",
        metavar="SECTION[,SECTION]",
        help="run only these sections, by name or number: "
        + ", ".join(f"{s.name} ({'/'.join(s.numbers)})" for s in SECTIONS),
    )
    args = parser.parse_args(argv)
    try:
        chosen = select(args.only)
    except ValueError as error:
        parser.error(str(error))
    command = "python -m bench" + "".join(
        f" {a}" for a in (argv if argv is not None else sys.argv[1:])
    )
    if args.device != "cpu":
        if args.only:
            parser.error("--only chooses among the CPU sections; --device runs bench/gpu.py")
        from bench import gpu

        return gpu.main(args.device, args.quick, args.out, command)
    args.out = args.out or DEFAULT_OUT
    plan = Plan.of(args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lipsync-bench-") as tmp:
        work = Path(tmp)
        # The app's cache (face tracks, hashes) of this process: never the user's.
        os.environ["LIPSYNC_STUDIO_HOME"] = str(work / "homes" / "main")
        run = Run(plan, work)
        results = run.results
        results.update(
            command=command,
            quick=plan.quick,
            date=datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
            machine=machine.describe(),
            plan=asdict(plan),
        )
        if args.only:
            results["only"] = [section.name for section in chosen]
        with run.section("inputs"):
            run.make_inputs(frozenset().union(*(section.inputs for section in chosen)))
        for section in chosen:
            section.run(run)
        results["timings_s"] = run.timings
        results["quiet_wait"] = {"waited_s": round(run.quiet.waited_s, 1), "calls": run.quiet.calls}
        results["total_s"] = round(time.perf_counter() - run.started, 1)
    from bench import report

    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "RESULTS.md").write_text(report.markdown(results))
    run.log(
        f"wrote {args.out / 'results.json'} and {args.out / 'RESULTS.md'} "
        f"in {results['total_s']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
