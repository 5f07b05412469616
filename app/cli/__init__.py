"""`lipsync-studio` command line. Each sub-command lives in its own module with
`register(subparsers)`, which adds its parser and sets `handler=fn(args) -> int`.

Exit codes: 0 done, 1 failed, 2 bad input (one-line message naming the file),
128 + the signal's number when stopped by one: 130 Ctrl-C (SIGINT), 143 SIGTERM (systemd,
Docker, an IDE's stop button), 129 SIGHUP (the terminal closed). All three stop the same
way: the temporary output is removed, batch jobs go back to the queue.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from app import __version__
from app.engine.errors import InputError
from app.engine.logs import setup_console_logging

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


def main(argv: list[str] | None = None) -> int:
    """Run one command; with none, print the help."""
    args = parse_args(argv)
    setup_console_logging(args.verbose)
    if args.command is None:
        build_parser().print_help()
        return EXIT_OK
    return run(args)


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread where Ctrl-C's KeyboardInterrupt would
    be: every clean-up that handles Ctrl-C handles these the same way."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def _raise_stopped(signum: int, _frame: object) -> None:
    raise Stopped(signum)


@contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """While a command runs, SIGTERM and SIGHUP interrupt it as Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (and receives the signals)
        return
    previous = {sig: signal.signal(sig, _raise_stopped) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _silence_stdout() -> None:
    """Point stdout at the null device, so the interpreter's last flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (tests, a GUI build): nothing to flush
        pass


def run(args: argparse.Namespace) -> int:
    """The parsed command's handler, its errors turned into exit codes."""
    try:
        with stop_signals_interrupt():
            code = int(args.handler(args))
            sys.stdout.flush()  # a closed pipe shows here, not as noise at exit
            return code
    except BrokenPipeError:
        # `lipsync-studio models list | head -2`: the reader has gone; stop quietly, as a
        # process killed by SIGPIPE would.
        _silence_stdout()
        return 128 + 13
    except InputError as exc:
        print(f"lipsync-studio: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
        print(f"\nlipsync-studio: interrupted ({signal.Signals(signum).name})", file=sys.stderr)
        return 128 + int(signum)
