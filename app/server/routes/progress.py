"""A job's progress as Server-Sent Events, until it is done, failed or cancelled.

Events: `state` (the whole job, at the start and at each state change) and `progress`
(`done`, `total`, `fps`, `eta_s`, when they change). The job is read from the store, so
this works the same whether this server, the GUI or a `batch` runs the queue.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.engine.queue.jobstore import FINISHED_STATES, Job
from app.server.jobs import JobService
from app.server.routes import service
from app.server.schemas import JobOut, eta_s

router = APIRouter(tags=["jobs"])
POLL_S = 0.2  # the store has the scheduler's progress ~10 times a second
KEEPALIVE_S = 15.0  # a comment line now and then keeps proxies from closing the stream


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


@router.get(
    "/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def events(job_id: int, request: Request, jobs: Annotated[JobService, Depends(service)]):
    """Progress as Server-Sent Events (`state`, `progress`); ends when the job finishes."""
    first = await run_in_threadpool(jobs.job, job_id)  # 404 before the stream starts
    stopping = request.app.state.stopping

    async def stream() -> AsyncIterator[bytes]:
        job: Job | None = first
        state, progress, quiet = "", (0, 0, 0.0), 0.0
        while True:
            if job is None:
                yield sse("state", {"id": job_id, "state": "removed"})
                return
            if job.state != state:
                state = job.state
                yield sse("state", JobOut.of(job).model_dump())
                quiet = 0.0
            now = (job.done, job.total, round(job.fps, 1))
            if job.state == "running" and job.total and now != progress:
                progress = now
                yield sse(
                    "progress",
                    {
                        "id": job_id,
                        "done": job.done,
                        "total": job.total,
                        "fps": job.fps,
                        "eta_s": eta_s(job),
                    },
                )
                quiet = 0.0
            if job.state in FINISHED_STATES or stopping.is_set():
                return
            if quiet >= KEEPALIVE_S:
                yield b": keepalive\n\n"
                quiet = 0.0
            if await request.is_disconnected():
                return
            await asyncio.sleep(POLL_S)
            quiet += POLL_S
            job = await run_in_threadpool(jobs.store.get, job_id)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
