"""Uploaded inputs: stored under the data folder's uploads/, one folder per submission,
under a name made safe (no folders, no odd characters; the extension kept for the probe)."""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path

from fastapi import UploadFile
from starlette.concurrency import run_in_threadpool

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
MAX_NAME = 120


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
