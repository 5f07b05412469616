"""`lipsync-studio render` and `lipsync-studio demo`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli import arg_types
from app.cli.progress_bar import ProgressBar
from app.engine.errors import RenderCancelled
from app.engine.paths import resources_dir
from app.engine.settings import (
    DETECTORS,
    ENCODERS,
    HW_DECODERS,
    LOOP_MODES,
    MASK_PRESETS,
    PRESETS,
    RenderSettings,
)

DEFAULT_DEMO_OUTPUT = Path("lipsync-demo.mp4")


def register(subparsers: argparse._SubParsersAction) -> None:
    render = subparsers.add_parser("render", help="render one lip-synced video")
    render.add_argument(
        "--video", required=True, type=arg_types.path, help="presenter video or still image"
    )
    render.add_argument(
        "--audio",
        required=True,
        type=arg_types.path,
        help="speech audio (or a video's audio track)",
    )
    render.add_argument("-o", "--output", required=True, type=arg_types.path, help="output .mp4")
    add_render_options(render)
    render.set_defaults(handler=run_render)

    demo = subparsers.add_parser("demo", help="render the bundled sample (offline, draft model)")
    demo.add_argument(
        "-o",
        "--output",
        type=arg_types.path,
        default=DEFAULT_DEMO_OUTPUT,
        help=f"output .mp4 (default: {DEFAULT_DEMO_OUTPUT})",
    )
    add_render_options(demo, default_model="draft")
    demo.set_defaults(handler=run_demo)


def add_render_options(
    parser: argparse.ArgumentParser, default_model: str = RenderSettings.model
) -> None:
    """The options `render`, `demo` and `batch` share."""
    parser.add_argument(
        "--model",
        default=default_model,
        help=f"auto (best installed, else draft) | draft | a model name (default: {default_model})",
    )
    parser.add_argument(
        "--device",
        default=RenderSettings.device,
        type=arg_types.device,
        help="auto | cpu | cuda[:N] | dml[:N]",
    )
    parser.add_argument(
        "--crf", type=int, default=RenderSettings.crf, help="x264 quality, 0-51, lower is better"
    )
    parser.add_argument(
        "--preset", default=RenderSettings.preset, choices=PRESETS, help="x264 speed preset"
    )
    parser.add_argument(
        "--encoder",
        default=RenderSettings.encoder,
        choices=ENCODERS,
        help="video encoder: auto = the first hardware encoder that opens here, else libx264; "
        "one that cannot open falls back to libx264 (default: auto)",
    )
    parser.add_argument(
        "--reproducible",
        action="store_true",
        help="the same job gives the same bytes in every run (libx264; files are larger: "
        "x264's macroblock-tree rate control is off)",
    )
    parser.add_argument(
        "--hw-decode",
        default=RenderSettings.hw_decode,
        choices=HW_DECODERS,
        help="decode the video on a GPU (opt-in; falls back to the CPU; default: none)",
    )
    parser.add_argument(
        "--loop",
        default=RenderSettings.loop,
        choices=LOOP_MODES,
        help="how a video shorter than the audio is extended",
    )
    parser.add_argument(
        "--batch-size",
        type=arg_types.batch_size,
        default=RenderSettings.batch_size,
        help="frames per model call",
    )
    parser.add_argument(
        "--detect-every",
        type=int,
        default=RenderSettings.detect_interval,
        dest="detect_interval",
        help="run the face detector at least every N frames (more often where the face "
        f"moves, and at every shot cut; default {RenderSettings.detect_interval})",
    )
    parser.add_argument(
        "--face",
        default=RenderSettings.face,
        help="which face speaks: auto (the presenter; small or turned-away faces are left "
        "alone) | largest | center | left | right | X,Y@SECONDS (the face under that point "
        "of the video at that time, followed from there)",
    )
    parser.add_argument(
        "--detector",
        default=RenderSettings.detector,
        choices=DETECTORS,
        help="face detector: auto = YuNet (built in); haar = OpenCV's Haar cascades",
    )
    parser.add_argument(
        "--no-track-cache",
        action="store_false",
        dest="track_cache",
        help="detect faces again instead of reusing this video's cached track",
    )
    parser.add_argument(
        "--track-cache",
        type=Path,
        default=None,
        metavar="DIR",
        dest="track_cache_dir",
        help="keep face tracks in DIR (a shared folder lets a render farm's nodes share them)",
    )
    parser.add_argument(
        "--mask",
        default=RenderSettings.mask,
        choices=MASK_PRESETS,
        help="where the lip-sync result may land: the mouth only, or mouth, chin and jaw",
    )
    parser.add_argument(
        "--feather",
        type=float,
        default=RenderSettings.feather,
        help=f"soft edge of the mask, 0-1 (default {RenderSettings.feather:g})",
    )
    parser.add_argument(
        "--no-detail",
        action="store_false",
        dest="restore_detail",
        help="paste the model's low-resolution face as is (no skin/beard detail kept)",
    )
    parser.add_argument(
        "--enhancer",
        default=RenderSettings.enhancer,
        help="face enhancer after lip sync: none | gfpgan_1.4 | restoreformer_plus_plus | "
        "gpen_bfr_256 | gpen_bfr_512 (default none)",
    )
    parser.add_argument(
        "--enhancer-blend",
        type=float,
        default=RenderSettings.enhancer_blend,
        help="how much of the enhanced face is kept, 0-1 "
        f"(default {RenderSettings.enhancer_blend:g})",
    )


def settings_from_args(args: argparse.Namespace, video: Path, audio: Path) -> RenderSettings:
    from app.engine.errors import InputError
    from app.engine.models.lipsync.loader import check_device
    from app.engine.render.face_choice import FaceSpec

    if not 0 <= args.crf <= 51:
        raise InputError(f"--crf {args.crf}: must be between 0 and 51")
    if args.detect_interval < 1:
        raise InputError(f"--detect-every {args.detect_interval}: must be at least 1")
    for flag, value in (("--feather", args.feather), ("--enhancer-blend", args.enhancer_blend)):
        if not 0.0 <= value <= 1.0:
            raise InputError(f"{flag} {value:g}: must be between 0 and 1")
    check_device(args.model, args.device)
    return RenderSettings(
        video=video,
        audio=audio,
        output=args.output,
        model=args.model,
        device=args.device,
        crf=args.crf,
        preset=args.preset,
        encoder=args.encoder,
        reproducible=args.reproducible,
        hw_decode=args.hw_decode,
        loop=args.loop,
        batch_size=args.batch_size,
        detect_interval=args.detect_interval,
        face=str(FaceSpec.parse(args.face)),
        detector=args.detector,
        track_cache=args.track_cache,
        mask=args.mask,
        feather=args.feather,
        restore_detail=args.restore_detail,
        enhancer=args.enhancer,
        enhancer_blend=args.enhancer_blend,
        track_cache_dir=args.track_cache_dir.expanduser() if args.track_cache_dir else None,
        # A file already at -o is replaced (the user named it; batch only with --overwrite);
        # one that appears while rendering is kept and the render takes NAME_2.mp4.
        if_exists="replace"
        if getattr(args, "overwrite", False) or args.output.is_file()
        else "rename",
    )


def run_render(args: argparse.Namespace) -> int:
    return _render(settings_from_args(args, args.video, args.audio))


def run_demo(args: argparse.Namespace) -> int:
    samples = resources_dir() / "samples"
    return _render(settings_from_args(args, samples / "presenter.mp4", samples / "speech.wav"))


def _render(settings: RenderSettings) -> int:
    from app.engine.render.pipeline import render

    bar = ProgressBar(settings.output.name)
    try:
        result = render(settings, on_progress=lambda p: bar.frames(p.done, p.total, p.fps, p.eta_s))
    except RenderCancelled:
        return 130
    finally:
        bar.close()
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(
        f"{result.output}: {result.frames} frames, {result.duration_s:.2f} s, "
        f"{result.width}x{result.height} at {result.fps:g} fps; model {result.model}, "
        f"detector {result.detector}, {result.coverage.text}; "
        f"{result.frames / max(result.elapsed_s, 1e-9):.1f} fps",
        file=sys.stderr,
    )
    return 0
