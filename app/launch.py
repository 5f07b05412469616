"""`lipsync-studio` and `python -m app`: a command runs the command line (app.cli); no
command opens the desktop app (app.ui). The one place that knows both front ends."""

from __future__ import annotations

import sys

from app import cli
from app.engine.logs import setup_console_logging


def main(argv: list[str] | None = None) -> int:
    args = cli.parse_args(sys.argv[1:] if argv is None else argv)
    setup_console_logging(args.verbose)
    if args.command is not None:
        return cli.run(args)
    try:
        from app.ui.main import run_gui
    except ImportError:  # the desktop app is not part of this build
        cli.build_parser().print_help()
        return cli.EXIT_OK
    return run_gui()
