"""Which server-side paths a request may name: only files inside the allowed folders.

A path is resolved to its real location first (symlinks followed, `..` folded), and that
real path must lie inside one of the roots (themselves resolved when the server started):
a link inside a root that points out of it is refused like `../`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from app.server.errors import BAD_INPUT, OUTSIDE_ALLOWED_DIRS, ApiError


def inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def resolve_allowed(raw: str, roots: Sequence[Path], what: str) -> Path:
    """The real path of `raw` if it lies inside a root; ApiError 403 (or 422) if not."""
    if not raw or "\x00" in raw:
        raise ApiError(422, BAD_INPUT, f"{what}: not a file path")
    given = Path(raw)
    if not given.is_absolute():
        raise ApiError(422, BAD_INPUT, f"{raw}: give an absolute path (the server's own)")
    real = Path(os.path.realpath(given))
    if not any(inside(real, root) for root in roots):
        raise ApiError(
            403,
            OUTSIDE_ALLOWED_DIRS,
            f"{raw}: outside the folders this server may read (serve --allow-dir)",
        )
    return real  # missing or unreadable: the probe says so, as the CLI would
