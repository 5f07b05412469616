"""Connecting to a Ray cluster and sizing the driver's scheduler slots to it."""

from __future__ import annotations

import logging
import socket

import ray

from app.engine.errors import InputError

log = logging.getLogger(__name__)

DEFAULT_CPUS_PER_JOB = 2  # decode/encode threads beside the model's: one job per 2 cores
# ray.init retries an address where nothing answers for about two minutes; a plain TCP
# connect says so in seconds (a cluster that answers is then joined by Ray as usual).
ANSWER_TIMEOUT_S = 5.0


def connect(address: str = "auto") -> None:
    """Join the cluster at `address` ("auto": the one `ray start` made on this machine;
    "local": start a private one-machine cluster). Already connected: nothing to do."""
    if ray.is_initialized():
        return
    check_answers(address)
    try:
        ray.init(
            address=None if address == "local" else address,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
    except ConnectionError as exc:
        raise InputError(
            f"{address}: no Ray cluster answers there ({exc}); start one with "
            "`ray start --head` or give HOST:PORT"
        ) from None
    log.info("joined Ray cluster at %s: %s", address, ray.cluster_resources())


def check_answers(address: str) -> None:
    """InputError at once when nothing listens at a HOST:PORT (or ray://HOST:PORT) address;
    "auto" and "local" are Ray's to resolve."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if address in ("auto", "local") or not sep or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), ANSWER_TIMEOUT_S).close()
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else exc.strerror or str(exc)
        raise InputError(
            f"{address}: no Ray cluster answers there ({reason}); start one "
            "with `ray start --head` or give HOST:PORT"
        ) from None


def slots(cpus_per_job: int = DEFAULT_CPUS_PER_JOB) -> dict[str, int]:
    """Scheduler slots for the cluster as it is now: one per GPU (jobs asking for "auto"
    or "cuda" go there), and one per `cpus_per_job` CPUs for CPU jobs. The slot count is
    how many jobs the driver keeps in flight, so Ray never queues one of ours."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    cpus = int(resources.get("CPU", 0))
    found: dict[str, int] = {}
    if gpus:
        found["cuda"] = gpus
    cpu_slots = cpus // max(1, cpus_per_job)
    if cpu_slots or not found:
        found["cpu"] = max(1, cpu_slots)
    return found


def node_name() -> str:
    """The node a task runs on, for messages."""
    return str(ray.util.get_node_ip_address())
