"""A local Ray instance for the render-farm tests (no network: one machine, started here)."""

from __future__ import annotations

import os
from pathlib import Path


def start_local_ray(node_home: Path, cpus: int = 2) -> str:
    """Start Ray in this process with `cpus` CPUs; return its address.

    Ray's worker processes inherit the environment of this moment, so their app home
    (models, track cache) is `node_home`, never the developer's real one.
    """
    import ray

    before = os.environ.get("LIPSYNC_STUDIO_HOME")
    os.environ["LIPSYNC_STUDIO_HOME"] = str(node_home)
    try:
        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    finally:
        if before is None:
            os.environ.pop("LIPSYNC_STUDIO_HOME", None)
        else:
            os.environ["LIPSYNC_STUDIO_HOME"] = before
    return str(ray.get_runtime_context().gcs_address)
