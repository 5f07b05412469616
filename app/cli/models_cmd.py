"""`lipsync-studio models list|pull|import|verify|delete`: manage the model weights."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from app.cli import arg_types
from app.engine.models import registry as models
from app.engine.models.download import DEFAULT_TIMEOUT_S, MIRROR_ENV, download
from app.engine.models.importing import import_model

EXIT_OK, EXIT_FAILED = 0, 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list, download, import, verify or delete model weights",
        description="Manage the lip-sync and face-detector model weights.",
    )
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    p = sub.add_parser("list", help="every known model with its status, size and licence")
    p.set_defaults(handler=_list)

    p = sub.add_parser(
        "pull",
        help="download a model, resuming and verifying it",
        epilog=f"${MIRROR_ENV}: base URLs (space-separated) to fetch from instead of "
        "the published ones, e.g. an in-house mirror.",
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--retries",
        type=arg_types.int_between(0, 100),
        default=4,
        metavar="N",
        help="extra attempts per URL, resuming each time (default 4)",
    )
    p.add_argument(
        "--timeout",
        type=arg_types.seconds,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"seconds to wait to connect and for each read (default {DEFAULT_TIMEOUT_S:g})",
    )
    p.set_defaults(handler=_pull)

    p = sub.add_parser("import", help="install a model file you already have")
    p.add_argument("path", metavar="PATH", type=arg_types.path)
    p.add_argument(
        "--as",
        dest="as_name",
        metavar="NAME",
        help="registry model this file is, or a new name for your own model",
    )
    p.add_argument(
        "--family", choices=models.LIPSYNC_FAMILIES, help="model family of a new (custom) model"
    )
    p.set_defaults(handler=_import)

    p = sub.add_parser("verify", help="re-check installed files against their checksums")
    p.add_argument("name", metavar="NAME", nargs="?")
    p.set_defaults(handler=_verify)

    p = sub.add_parser("delete", help="remove a model's file (and forget an imported model)")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(handler=_delete)


def _list(args: argparse.Namespace) -> int:
    rows = [("NAME", "FAMILY", "STATUS", "SIZE", "LICENCE")]
    for entry in models.load_registry():
        licence = entry.licence + (
            " (non-commercial)"
            if entry.non_commercial and "commercial" not in entry.licence.lower()
            else ""
        )
        size = _size(entry.size) if entry.size_exact else f"~{_size(entry.size)}"
        rows.append((entry.name, entry.family, models.status(entry.name), size, licence))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
    return EXIT_OK


def _pull(args: argparse.Namespace) -> int:
    entry = models.load_registry().get(args.name)
    state = models.status(entry.name)
    if state == "installed":
        print(f"{entry.name} is already installed at {models.model_path(entry.name)}")
        return EXIT_OK
    if state == "corrupt":
        print(
            f"{entry.name}: the installed file fails its checksum; fetching it again",
            file=sys.stderr,
        )
    if entry.non_commercial:
        print(f"{entry.name}: licence {entry.licence}. {entry.licence_note}", file=sys.stderr)
    bar = ProgressBar(sys.stderr, entry.name)
    try:
        path = download(
            entry.name,
            progress=bar,
            retries=args.retries,
            timeout=args.timeout,
            on_retry=lambda message: bar.note(f"{entry.name}: {message}"),
        )
    finally:
        bar.close()
    print(f"installed {entry.name} at {path}")
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    installed = import_model(args.path, as_name=args.as_name, family=args.family)
    print(f"installed {installed.name} ({installed.family}) at {installed.path}")
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    if args.name:
        names = [models.load_registry().get(args.name).name]
        if models.status(names[0]) == "missing":
            raise models.ModelNotInstalled(f"model {names[0]} is not installed: nothing to verify")
    else:
        names = [n for n in models.load_registry().names() if models.status(n) != "missing"]
    failed = 0
    for name in names:
        ok = models.verify(name)
        failed += not ok
        print(f"{name}: {'ok' if ok else 'CORRUPT (run: lipsync-studio models pull ' + name + ')'}")
    if not names:
        print("no models installed")
    return EXIT_FAILED if failed else EXIT_OK


def _delete(args: argparse.Namespace) -> int:
    path = models.model_path(args.name)
    models.delete(args.name)
    print(f"deleted {args.name} ({path})")
    return EXIT_OK


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1000
        if value < 1000 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


class ProgressBar:
    """`name [#####-----]  48%  70.1/145.0 MB` on one line of a stream, at most ~10 redraws a
    second (a fast local copy would otherwise spend its time printing)."""

    WIDTH = 30

    def __init__(self, stream: TextIO, label: str, min_interval: float = 0.1) -> None:
        self._stream, self._label, self._min_interval = stream, label, min_interval
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if not finished and now - self._last_draw < self._min_interval:
            return
        self._last_draw = now
        if total:
            filled = min(self.WIDTH, self.WIDTH * done // total)
            line = (
                f"{self._label} [{'#' * filled}{'-' * (self.WIDTH - filled)}] "
                f"{100 * done // total:3d}%  {_size(done)}/{_size(total)}"
            )
        else:
            line = f"{self._label} {_size(done)}"
        self._stream.write("\r" + line)
        self._stream.flush()
        self._drawn = True

    def note(self, line: str) -> None:
        """A line of its own (a retry), below the bar if one is drawn."""
        self.close()
        self._stream.write(line + "\n")
        self._stream.flush()

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False
