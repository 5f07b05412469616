"""Submitting, listing and steering jobs."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from app.engine.queue.jobstore import JobState
from app.server import uploads
from app.server.errors import INVALID_REQUEST, MALFORMED_JSON, ApiError, validation_message
from app.server.jobs import JobService
from app.server.routes import service
from app.server.schemas import (
    BatchOut,
    BatchRequest,
    JobOut,
    JobPage,
    JobRequest,
    PriorityRequest,
    QueueStatus,
    RenderOptions,
)

router = APIRouter(tags=["jobs"])
Service = Annotated[JobService, Depends(service)]
MAX_PAGE = 1000


@router.post("/jobs", status_code=201, response_model=JobOut)
def submit(request: JobRequest, jobs: Service) -> JobOut:
    """Queue one render of files on the server's disk (inside its allowed folders)."""
    return JobOut.of(jobs.submit(request))


@router.post("/jobs/upload", status_code=201, response_model=JobOut)
async def submit_upload(
    jobs: Service,
    video: Annotated[UploadFile, File(description="presenter video or still")],
    audio: Annotated[UploadFile, File(description="speech audio")],
    options: Annotated[
        str, Form(description='RenderOptions as JSON, e.g. {"model":"draft"}')
    ] = "{}",
) -> JobOut:
    """Queue one render of files sent with the request (multipart/form-data)."""
    settings = _options(options)
    folder = uploads.new_folder(jobs.config.uploads_dir)
    try:
        video_path = await uploads.save(video, folder, "video")
        audio_path = await uploads.save(audio, folder, "audio", avoid=video_path.name)
    except BaseException:
        await run_in_threadpool(uploads.remove, folder)
        raise
    job = await run_in_threadpool(jobs.submit_upload, video_path, audio_path, settings)
    return JobOut.of(job)


def _options(text: str) -> RenderOptions:
    try:
        return RenderOptions.model_validate_json(text or "{}")
    except ValidationError as exc:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            raise ApiError(422, MALFORMED_JSON, "options: not valid JSON") from None
        raise ApiError(422, INVALID_REQUEST, f"options.{validation_message(errors)}") from None


@router.post("/batches", status_code=201, response_model=BatchOut)
def submit_batch(request: BatchRequest, jobs: Service) -> BatchOut:
    """Queue many renders: explicit pairs, or videos × audios paired like `batch --pair`."""
    submitted = jobs.submit_batch(request)
    return BatchOut(jobs=[JobOut.of(j) for j in submitted.jobs], warnings=submitted.warnings)


@router.get("/jobs", response_model=JobPage)
def list_jobs(
    jobs: Service,
    state: JobState | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    order: Literal["priority", "created"] = "priority",
) -> JobPage:
    """A page of jobs in the order the queue runs them (as `queue list`), or by creation."""
    page = jobs.store.page(offset=offset, limit=limit, order=order, state=state)
    return JobPage(
        jobs=[JobOut.of(j) for j in page],
        total=jobs.store.count(state),
        offset=offset,
        limit=limit,
    )


@router.get("/queue", response_model=QueueStatus)
def queue_status(jobs: Service) -> QueueStatus:
    """Who renders the queue, and how many jobs are in each state."""
    return QueueStatus(
        runs_queue=jobs.runner.runs_queue,
        counts={s: jobs.store.count(s) for s in get_args(JobState)},
    )


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: int, jobs: Service) -> JobOut:
    return JobOut.of(jobs.job(job_id))


@router.delete("/jobs/{job_id}", status_code=204)
def remove(job_id: int, jobs: Service) -> Response:
    """Forget a job that is not running (its output stays); uploaded inputs are deleted."""
    jobs.remove(job_id)
    return Response(status_code=204)


@router.post("/jobs/{job_id}/cancel", response_model=JobOut)
def cancel(job_id: int, jobs: Service) -> JobOut:
    """Cancel a queued or running job; a running one stops within a second, no file left."""
    return JobOut.of(jobs.cancel(job_id))


@router.post("/jobs/{job_id}/retry", response_model=JobOut)
def retry(job_id: int, jobs: Service) -> JobOut:
    """Queue a done, failed or cancelled job again."""
    return JobOut.of(jobs.retry(job_id))


@router.put("/jobs/{job_id}/priority", response_model=JobOut)
def set_priority(job_id: int, request: PriorityRequest, jobs: Service) -> JobOut:
    """Higher runs first; FIFO within a priority."""
    return JobOut.of(jobs.set_priority(job_id, request.priority))
