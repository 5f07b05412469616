"""Temporary output files as a crashed process leaves them (app/engine/outputs.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.engine import outputs


def dead_pid() -> int:
    """The pid of a process that has exited (a crashed render's)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def crashed_temp(output: Path, data: bytes = b"half a video", pid: int | None = None) -> Path:
    """A temporary file of `output` written by a process that is gone."""
    pid = dead_pid() if pid is None else pid
    path = output.with_name(outputs.temp_name(output, f"{pid}-0badf00d"))
    path.write_bytes(data)
    return path


def any_temp(output: Path) -> bool:
    """Whether any temporary file of `output` (live or stray) is in its folder."""
    return bool(outputs.temps_of(output))
