"""`lipsync-studio serve`: the local automation API (needs the `[server]` extra).

FastAPI and uvicorn are imported only when the command runs, so the rest of the app
works without them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.engine.errors import InputError
from app.server.config import DEFAULT_HOST, DEFAULT_MAX_UPLOAD_MB, DEFAULT_PORT  # no FastAPI


def register(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="run the local HTTP API (queue, follow and fetch renders from scripts)",
        description="Serve the job queue over HTTP on this machine. Every endpoint but "
        "/v1/health needs the bearer token kept in the data folder (server-token).",
    )
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address (default {DEFAULT_HOST})")
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"0 picks a free one (default {DEFAULT_PORT})",
    )
    serve.add_argument(
        "--allow-dir",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="a folder whose files requests may name (repeat it; default: your Videos and "
        "Music folders and the output folder)",
    )
    serve.add_argument(
        "--output-dir",
        type=Path,
        metavar="DIR",
        help="where renders go (default: Videos/Lipsync Studio)",
    )
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host that other machines can reach (the token is then all that "
        "guards the queue; plain HTTP)",
    )
    serve.add_argument(
        "--max-upload-mb",
        type=float,
        default=DEFAULT_MAX_UPLOAD_MB,
        metavar="MB",
        help=f"largest upload accepted (default {DEFAULT_MAX_UPLOAD_MB})",
    )
    serve.add_argument(
        "--no-render",
        action="store_false",
        dest="run_queue",
        help="only queue jobs; the desktop app or `batch --resume` renders them",
    )
    serve.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    try:
        from app.server.config import build_config  # noqa: I001  (serve first: it needs FastAPI)
        from app.server.serve import serve
    except ImportError as exc:
        raise InputError(
            f"serve needs the server extra ({exc.name} is missing): "
            "pip install 'lipsync-studio[server]'"
        ) from None
    config = build_config(
        host=args.host,
        port=args.port,
        allow_dirs=args.allow_dir,
        output_dir=args.output_dir,
        allow_remote=args.allow_remote,
        max_upload_mb=args.max_upload_mb,
        run_queue=args.run_queue,
    )
    return serve(config)
