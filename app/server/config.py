"""What `lipsync-studio serve` was told: address, allowed folders, output folder, limits."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from app.engine import paths
from app.engine.errors import InputError
from app.engine.outputs import make_output_folder

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_MAX_UPLOAD_MB = 2048
OUTPUT_FOLDER_NAME = "Lipsync Studio"  # inside the user's Videos folder, as the GUI does


def default_output_dir() -> Path:
    return Path(platformdirs.user_videos_dir()) / OUTPUT_FOLDER_NAME


def default_allow_dirs(output_dir: Path) -> list[Path]:
    """The user's Videos and Music folders and the output folder."""
    return [
        Path(platformdirs.user_videos_dir()),
        Path(platformdirs.user_music_dir()),
        output_dir,
    ]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


@dataclass(frozen=True)
class ServerConfig:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    output_dir: Path = field(default_factory=default_output_dir)
    allow_dirs: tuple[Path, ...] = ()  # real paths; see build_config
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
    run_queue: bool = True  # run the queue here when no other process does

    @property
    def uploads_dir(self) -> Path:
        return paths.data_dir() / "uploads"


def build_config(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    allow_dirs: Sequence[Path] = (),
    output_dir: Path | None = None,
    allow_remote: bool = False,
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
    run_queue: bool = True,
) -> ServerConfig:
    """Check the options; InputError names the one that is wrong."""
    if not allow_remote and not is_loopback(host):
        raise InputError(
            f"--host {host}: not a loopback address; anyone on the network could reach the "
            "queue (give --allow-remote to mean it)"
        )
    if not 0 <= port <= 65535:
        raise InputError(f"--port {port}: must be between 0 and 65535")
    if max_upload_mb <= 0:
        raise InputError(f"--max-upload-mb {max_upload_mb:g}: must be more than 0")
    output = Path(os.path.abspath(output_dir or default_output_dir()))
    try:
        make_output_folder(output)
    except InputError as exc:
        raise InputError(f"--output-dir {exc}") from None
    roots = list(allow_dirs) if allow_dirs else default_allow_dirs(output)
    for root in allow_dirs:
        if not root.is_dir():
            raise InputError(f"--allow-dir {root}: not a folder")
    real = dict.fromkeys(Path(os.path.realpath(r)) for r in [*roots, output])
    return ServerConfig(
        host=host,
        port=port,
        output_dir=output,
        allow_dirs=tuple(real),
        max_upload_bytes=int(max_upload_mb * 1024 * 1024),
        run_queue=run_queue,
    )
