"""`lipsync-studio` command line. Each sub-command lives in its own module with
`register(subparsers)`, which adds its parser and sets `handler=fn(args) -> int`.

Exit codes: 0 done, 1 failed, 2 bad input (one-line message naming the file),
130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from app import __version__
from app.engine.errors import InputError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

# Sub-command modules, in the order `--help` lists them.
COMMAND_MODULES = (
    "app.cli.render_cmd",
    "app.cli.probe_cmd",
    "app.cli.models_cmd",
    "app.cli.batch_cmd",
    "app.cli.queue_cmd",
    "app.cli.serve_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lipsync-studio",
        description="Offline lip-sync video tool. With no command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"lipsync-studio {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; `command` is None when none was given (the entry point opens
    the desktop app then, see app/launch.py)."""
    return build_parser().parse_args(sys.argv[1:] if argv is None else argv)


def setup_console_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def main(argv: list[str] | None = None) -> int:
    """Run one command; with none, print the help."""
    args = parse_args(argv)
    setup_console_logging(args.verbose)
    if args.command is None:
        build_parser().print_help()
        return EXIT_OK
    return run(args)


def run(args: argparse.Namespace) -> int:
    """The parsed command's handler, its errors turned into exit codes."""
    try:
        return int(args.handler(args))
    except InputError as exc:
        print(f"lipsync-studio: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("\nlipsync-studio: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
