"""`lipsync-studio probe FILE`: what the engine sees in a media file, as JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    probe = subparsers.add_parser("probe", help="print a media file's streams as JSON")
    probe.add_argument("file", type=Path)
    probe.set_defaults(handler=run_probe)


def run_probe(args: argparse.Namespace) -> int:
    from app.engine.render.media import probe

    print(json.dumps(probe(args.file).to_dict(), indent=2))
    return 0
