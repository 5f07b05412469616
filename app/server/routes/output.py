"""Downloading a finished job's output (HTTP Range supported: resume, seek in a player)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from app.server.jobs import JobService
from app.server.routes import service

router = APIRouter(tags=["jobs"])


@router.get(
    "/jobs/{job_id}/output",
    response_class=FileResponse,
    responses={200: {"content": {"video/mp4": {}}}, 206: {"description": "a byte range"}},
)
def output(job_id: int, jobs: Annotated[JobService, Depends(service)]) -> FileResponse:
    """The rendered MP4 of a done job; send `Range: bytes=A-B` for part of it."""
    path = jobs.output_file(job_id)
    return FileResponse(path, media_type="video/mp4", filename=path.name)
