"""What runs on a cluster node: check the job can run there, then the local pipeline.

A node sees the job's files only through storage every node shares; one that cannot see
an input (or the output folder) fails that job with a message naming the node and the
path. Neural models are re-hashed on the node before each render, so a node with a
missing or damaged model fails the job with the `models pull` hint instead of rendering
with the wrong weights.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError

from app.engine import outputs
from app.engine.errors import InputError
from app.engine.farm.cluster import node_name
from app.engine.progress import FrameProgress
from app.engine.settings import RenderSettings

REPORT_EVERY_S = 2.0  # progress reaches the driver this often ("coarse")
DRIVER_CHECK_S = 0.5  # how often a task makes sure its driver (the board's owner) lives
BUILT_IN_MODELS = ("draft",)


def check_visible(settings: RenderSettings, node: str) -> None:
    """InputError unless this node sees the inputs and can write the output folder."""
    for what, path in (("video", settings.video), ("audio", settings.audio)):
        if not path.is_file():
            raise InputError(
                f"{path}: the {what} is not visible on node {node}; inputs and outputs must "
                "be on storage every node sees (the same path on each)"
            )
    folder = settings.output.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise InputError(
            f"{folder}: the output folder is not writable on node {node}; it must be on "
            "storage every node sees (the same path on each)"
        )


def verify_model(name: str, node: str) -> None:
    """Re-hash the job's model on this node (built-in models have nothing to check)."""
    if name in BUILT_IN_MODELS:
        return
    from app.engine.models import registry

    installed = registry.resolve(name)  # ModelNotInstalled: says how to get it
    if not registry.verify(name):
        raise InputError(
            f"model {name} at {installed.path} on node {node} fails its checksum; run "
            f"`lipsync-studio models pull {name}` on that node"
        )


def remove_earlier_attempts(output: Path) -> None:
    """Delete temporary files an earlier attempt of this job left (a killed worker, a dead
    driver's cancelled task), which would make this render pick NAME_2.mp4.

    The driver's queue runs a job once at a time, so a temporary file of its output is
    an earlier attempt's when its writer is gone, or is a Ray worker process (Ray reuses
    a worker whose task was cancelled). Another program's live render is left alone.
    """
    for temp in outputs.temps_of(output):
        pid = outputs.writer_pid(temp)
        if pid != os.getpid() and (not outputs.process_alive(pid) or _is_ray_worker(pid)):
            temp.unlink(missing_ok=True)


def _is_ray_worker(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"ray::")
    except OSError:  # no /proc (macOS, Windows), or gone: not known to be one of ours
        return False


def watch_driver(board: Any, cancel: threading.Event, stop: threading.Event) -> None:
    """Set `cancel` once the board is dead: its owner, the driver, is gone (a slow answer
    from a busy cluster is not that).

    Ray ends a dead driver's tasks, but only after a while; meanwhile an orphan would
    finish and publish an output the resumed batch does not know about, or be killed
    mid-render and leave its temporary file behind. Cancelled, it cleans up and stops.
    """
    while not stop.wait(DRIVER_CHECK_S):
        try:
            ray.get(board.ping.remote(), timeout=10 * DRIVER_CHECK_S)
        except GetTimeoutError:  # a busy cluster: not a reason to drop a render
            continue
        except RayActorError:  # the board died with its driver: no one to render for
            cancel.set()
            return


@ray.remote(max_retries=2, retry_exceptions=False)  # retried only when a node or worker dies
def render_job(job_id: int, settings: RenderSettings, board: Any) -> dict[str, Any]:
    """Render one job on this node. Returns {"status": "done", "result": fields} or
    {"status": "input_error", "message": ...}; anything else raises (and is retried by
    the driver's policy, as a local render's would be)."""
    from app.engine.queue.scheduler import result_fields
    from app.engine.render import pipeline

    node = node_name()
    ray.get(board.started.remote(job_id, os.getpid(), node))
    cancel = threading.Event()
    stop_watch = threading.Event()
    watcher = threading.Thread(
        target=watch_driver, args=(board, cancel, stop_watch), name="driver-watch", daemon=True
    )
    watcher.start()
    last = 0.0

    def report(progress: FrameProgress) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= REPORT_EVERY_S or progress.done >= progress.total > 0:
            last = now
            if ray.get(
                board.report.remote(
                    job_id, progress.done, progress.total, progress.fps, progress.eta_s
                )
            ):
                cancel.set()

    try:
        check_visible(settings, node)
        verify_model(settings.model, node)
        remove_earlier_attempts(settings.output)
        result = pipeline.render(settings, on_progress=report, cancel=cancel)
    except InputError as exc:
        return {"status": "input_error", "message": str(exc)}
    finally:
        stop_watch.set()
    return {"status": "done", "result": result_fields(result)}
