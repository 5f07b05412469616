"""`lipsync-studio probe FILE`: what the engine sees in a media file, as JSON.

`--faces` adds the face track a render of the video would use (per frame: shot, the
chosen face's box and 5 landmarks, detected or interpolated, the other faces seen);
its frames are the output frames of a render whose audio is as long as the video.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli import arg_types
from app.engine.settings import DETECTORS, RenderSettings

if TYPE_CHECKING:
    from app.engine.render.media import VideoInfo

RATE = 16_000  # enough to count seconds


def register(subparsers: argparse._SubParsersAction) -> None:
    probe = subparsers.add_parser("probe", help="print a media file's streams as JSON")
    probe.add_argument("file", type=arg_types.path)
    probe.add_argument(
        "--faces", action="store_true", help="also the face track a render would use"
    )
    probe.add_argument(
        "-o", "--output", type=arg_types.path, help="write the JSON to this file instead of stdout"
    )
    probe.add_argument(
        "--face", default=RenderSettings.face, help="as render's --face (with --faces)"
    )
    probe.add_argument(
        "--detector", default=RenderSettings.detector, choices=DETECTORS, help="as render's"
    )
    probe.add_argument("--detect-every", type=int, default=None, dest="detect_interval")
    probe.set_defaults(handler=run_probe)


def run_probe(args: argparse.Namespace) -> int:
    from app.engine.errors import InputError
    from app.engine.render.media import cut_short, load_audio, probe

    info = probe(args.file)
    facts = info.to_dict()
    if info.audio is not None:
        # The header's duration can lie (a file cut short): say what really decodes.
        decoded = len(load_audio(args.file, RATE)) / RATE
        facts["audio"]["decoded_duration"] = decoded
        warning = cut_short(args.file, info.audio, decoded)
        facts["audio"]["cut_short"] = warning is not None
        if warning is not None:
            print(f"warning: {warning}", file=sys.stderr)
    if args.faces:
        if info.video is None:
            raise InputError(f"{args.file}: has no video stream, so no faces")
        facts["faces"] = _faces(args, info.video)
    text = json.dumps(facts, indent=2)
    if args.output is None:
        print(text)
        return 0
    _write_atomically(args.output, text)
    frames = len(facts.get("faces", {}).get("frames", []))
    print(f"{args.output}: {frames} frames", file=sys.stderr)
    return 0


def _faces(args: argparse.Namespace, video: VideoInfo) -> dict:
    from app.engine.render import media, tracking
    from app.engine.render.face_choice import FaceSpec
    from app.engine.render.recipe import make_detector

    interval = args.detect_interval or RenderSettings.detect_interval
    if interval < 1:
        from app.engine.errors import InputError

        raise InputError(f"--detect-every {interval}: must be at least 1")
    # Only the video and the track settings matter here: nothing is rendered or written.
    settings = RenderSettings(
        args.file, args.file, args.file, detect_interval=interval, detector=args.detector
    )
    settings.face = str(FaceSpec.parse(args.face))
    track = tracking.track_until(settings, make_detector(settings))
    # A still over max_still_side is tracked scaled down, as the render reads it; the
    # report gives the file's pixels, the ones --face takes.
    tracked = media.fit_still(video, settings.max_still_side)
    return tracking.report(
        track,
        video.fps,
        settings.face,
        (video.width, video.height),
        (tracked.width, tracked.height),
    )


def _write_atomically(path: Path, text: str) -> None:
    from app.engine import outputs
    from app.engine.errors import InputError

    if not path.parent.is_dir():
        raise InputError(f"{path}: folder {path.parent} does not exist")
    part: Path | None = None
    try:
        part = outputs.create_temp(path)
        part.write_text(text + "\n", encoding="utf-8")
        outputs.publish(part, path, "replace")
    except OSError as exc:
        if part is not None:
            part.unlink(missing_ok=True)
        raise InputError(f"{path}: cannot write ({exc.strerror})") from None
