"""The bearer token: made on first start, kept in the data folder, readable by the user only.

Any web page in the user's browser can send requests to 127.0.0.1, so even a loopback
server asks for it. A script reads it from the file (`token_path()`).
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from app.engine import paths

log = logging.getLogger(__name__)

TOKEN_FILE = "server-token"
TOKEN_BYTES = 32


def token_path() -> Path:
    return paths.data_dir() / TOKEN_FILE


def load_or_create_token(path: Path | None = None) -> str:
    """The token in `path`, made (0600, never readable by others) if there is none."""
    path = path or token_path()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with os.fdopen(fd, "w") as file:
        file.write(token + "\n")
    log.info("made a new API token in %s", path)
    return token


def _read(path: Path) -> str:
    if os.name != "nt":
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:  # copied or restored with loose permissions: tighten them
            log.warning("%s was readable by others (mode %o); made it user-only", path, mode)
            path.chmod(0o600)
    token = path.read_text(encoding="utf-8").strip()
    if len(token) < 16:  # emptied or truncated by hand: make a new one
        token = secrets.token_urlsafe(TOKEN_BYTES)
        path.write_text(token + "\n", encoding="utf-8")
        log.warning("%s held no usable token; made a new one", path)
    return token


def matches(given: str | None, token: str) -> bool:
    """Constant-time comparison (no timing hints about the token)."""
    return given is not None and secrets.compare_digest(given.encode(), token.encode())
