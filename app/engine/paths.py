"""Where the app keeps its files: platformdirs, or one folder under LIPSYNC_STUDIO_HOME.

XDG_DATA_HOME / XDG_CACHE_HOME / XDG_STATE_HOME move them on Linux (platformdirs);
LIPSYNC_STUDIO_HOME puts data/, cache/ and logs/ under one folder (tests, portable installs).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from app.engine.errors import InputError

APP_NAME = "lipsync-studio"
REPO_RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def _home() -> Path | None:
    home = os.environ.get("LIPSYNC_STUDIO_HOME")
    return Path(home) if home else None


def _ensure(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"{path}: cannot create this app folder ({exc.strerror or exc}); make it writable, "
            "or set LIPSYNC_STUDIO_HOME to a folder you can write"
        ) from None
    return path


def data_dir() -> Path:
    home = _home()
    return _ensure(home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME)))


def cache_dir() -> Path:
    home = _home()
    return _ensure(home / "cache" if home else Path(platformdirs.user_cache_dir(APP_NAME)))


def log_dir() -> Path:
    home = _home()
    return _ensure(home / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME)))


def models_dir() -> Path:
    return _ensure(data_dir() / "models")


def resources_dir() -> Path:
    """Bundled resources: beside the package in a checkout, or PyInstaller's _MEIPASS."""
    import sys

    frozen = getattr(sys, "_MEIPASS", None)
    return Path(frozen) / "resources" if frozen else REPO_RESOURCES
