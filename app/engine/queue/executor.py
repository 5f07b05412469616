"""Where the scheduler's jobs run: something that starts a callable on a thread of its own.

The scheduler decides which job runs on which slot; an Executor only provides the thread.
`ThreadExecutor` (the CLI, the HTTP API, tests) starts a daemon thread per job; the desktop
app passes `workers.PoolExecutor`, which runs each job as a QRunnable on the window's
QThreadPool.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol


class Executor(Protocol):
    def start(self, work: Callable[[], None], name: str) -> None:
        """Run `work()` on a thread of its own, now (`name` is for logs and debuggers)."""
        ...

    def abandoned(self) -> None:
        """A started `work` ignored its cancel and is given up on: its thread stays busy,
        so a pool makes room for one more."""
        ...

    def close(self) -> None:
        """The scheduler has stopped: give back what `start` reserved."""
        ...


class ThreadExecutor:
    """A daemon thread per job: a runner stuck in native code never keeps the process from
    exiting."""

    def start(self, work: Callable[[], None], name: str) -> None:
        threading.Thread(target=work, name=name, daemon=True).start()

    def abandoned(self) -> None:
        pass  # every job has a thread of its own anyway

    def close(self) -> None:
        pass
