"""A cross-process lock file: one process runs the job queue at a time.

The CLI's `batch` and the desktop app take the same lock (`RUNNER_LOCK` in the data
folder), so one's crash recovery never takes the other's running jobs for crashed ones.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

RUNNER_LOCK = "queue.lock"  # held by the process running the queue


class FileLock:
    """An exclusive lock on a file, released by the OS when the process dies (even by
    SIGKILL), so a crash never leaves the queue locked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, blocking: bool = False) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if sys.platform == "win32":
                import msvcrt

                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError:
            os.close(fd)
            if blocking:
                raise
            return False
        self._fd = fd
        if os.name != "nt":  # on Windows the locked byte cannot be read by others anyway
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if sys.platform == "win32":
                import msvcrt

                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def holder(self) -> str:
        """The pid written by the holder, or '?'."""
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"
