"""`lipsync-studio probe FILE`: what the engine sees in a media file, as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

RATE = 16_000  # enough to count seconds


def register(subparsers: argparse._SubParsersAction) -> None:
    probe = subparsers.add_parser("probe", help="print a media file's streams as JSON")
    probe.add_argument("file", type=Path)
    probe.set_defaults(handler=run_probe)


def run_probe(args: argparse.Namespace) -> int:
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
    print(json.dumps(facts, indent=2))
    return 0
