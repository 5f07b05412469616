"""Uploaded inputs: stored under the data folder's uploads/, one folder per submission,
under a name made safe (no folders, no odd characters; the extension kept for the probe)."""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

from fastapi import UploadFile
from starlette.concurrency import run_in_threadpool

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
MAX_NAME = 120
# An upload folder no job refers to is an orphan once it is this old; a younger one may
# be a submission that another server process has not queued yet.
ORPHAN_AGE_S = 3600.0


def safe_name(filename: str | None, fallback: str) -> str:
    name = Path((filename or "").replace("\\", "/")).name
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name or name.startswith("."):
        name = fallback + Path(name).suffix
    stem, suffix = Path(name).stem, Path(name).suffix[:16]
    return stem[: MAX_NAME - len(suffix)] + suffix


def new_folder(uploads_dir: Path) -> Path:
    folder = uploads_dir / secrets.token_hex(8)
    folder.mkdir(parents=True, mode=0o700)
    return folder


async def save(upload: UploadFile, folder: Path, fallback: str, avoid: str = "") -> Path:
    """Copy an upload into `folder`; `avoid`: a name already used there."""
    name = safe_name(upload.filename, fallback)
    if name.casefold() == avoid.casefold():
        name = f"{fallback}-{name}"
    path = folder / name
    await run_in_threadpool(_copy, upload, path)
    return path


def _copy(upload: UploadFile, path: Path) -> None:
    upload.file.seek(0)
    with path.open("xb") as out:
        shutil.copyfileobj(upload.file, out, 1024 * 1024)


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def remove_orphans(uploads_dir: Path, referenced: Iterable[str]) -> int:
    """Delete upload folders no job refers to any more (jobs removed from the desktop
    app or `queue clear-done`, which leave the server's copies); returns how many."""
    try:
        folders = [p for p in uploads_dir.iterdir() if p.is_dir()]
    except OSError:  # no uploads yet
        return 0
    used = {Path(os.path.realpath(path)).parent for path in referenced}
    old = time.time() - ORPHAN_AGE_S
    orphans = [
        f for f in folders if Path(os.path.realpath(f)) not in used and f.stat().st_mtime < old
    ]
    for folder in orphans:
        remove(folder)
    if orphans:
        log.info("deleted %d uploaded input folder(s) no job uses any more", len(orphans))
    return len(orphans)
