"""Request and response bodies (pydantic): what /docs shows and what a request is checked
against before anything runs. Defaults are RenderSettings' own."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.engine.queue.batch_plan import DEFAULT_NAME
from app.engine.queue.jobstore import Job
from app.engine.settings import DETECTORS, LOOP_MODES, PRESETS, RenderSettings

PairMode = Literal["each-video-each-audio", "by-name"]
_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(RenderSettings)}


class RenderOptions(BaseModel):
    """How to render; every field is optional."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str = Field(_DEFAULTS["model"], description="auto | draft | an installed model")
    device: str = Field(_DEFAULTS["device"], description="auto | cpu | cuda[:N] | dml[:N]")
    crf: int = Field(_DEFAULTS["crf"], ge=0, le=51, description="x264 quality, lower is better")
    preset: str = Field(_DEFAULTS["preset"], description="x264 speed preset")
    loop: str = Field(_DEFAULTS["loop"], description="pingpong | repeat")
    batch_size: int | None = Field(_DEFAULTS["batch_size"], ge=1)
    detect_every: int = Field(_DEFAULTS["detect_interval"], ge=1)
    detector: str = Field(_DEFAULTS["detector"], description="auto | yunet | haar")
    track_cache: bool = _DEFAULTS["track_cache"]
    priority: int = Field(0, description="higher runs first")
    name: str = Field(
        DEFAULT_NAME,
        description="output file name in the server's output folder; fields {video} "
        "{audio} {index}; a taken name gets _2, _3 …",
    )

    @field_validator("preset")
    @classmethod
    def _preset(cls, value: str) -> str:
        return _one_of(value, PRESETS)

    @field_validator("loop")
    @classmethod
    def _loop(cls, value: str) -> str:
        return _one_of(value, LOOP_MODES)

    @field_validator("detector")
    @classmethod
    def _detector(cls, value: str) -> str:
        return _one_of(value, DETECTORS)


def _one_of(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
    return value


class JobRequest(RenderOptions):
    """One render of files already on the server's disk (inside its allowed folders)."""

    video: str = Field(description="absolute path of the presenter video or still")
    audio: str = Field(description="absolute path of the speech audio")


class PairRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    video: str
    audio: str


class BatchRequest(RenderOptions):
    """Either `pairs`, or `videos` × `audios` paired as `lipsync-studio batch --pair` does."""

    pairs: list[PairRequest] | None = None
    videos: list[str] | None = None
    audios: list[str] | None = None
    pair: PairMode = "each-video-each-audio"

    @model_validator(mode="after")
    def _one_way(self) -> BatchRequest:
        if self.pairs is not None:
            if self.videos is not None or self.audios is not None:
                raise ValueError("give pairs, or videos and audios, not both")
            if not self.pairs:
                raise ValueError("pairs: empty")
        elif not self.videos or not self.audios:
            raise ValueError("give pairs, or both videos and audios")
        return self


class PriorityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    priority: int


class JobOut(BaseModel):
    id: int
    state: str
    priority: int
    video: str
    audio: str
    output: str
    model: str
    device: str
    settings: dict[str, Any]
    done: int = Field(description="frames written")
    total: int = Field(description="frames the render will write (0 until known)")
    fps: float
    eta_s: float | None = Field(description="seconds left at the current speed")
    error: str | None
    error_kind: str | None = Field(description="model_missing, bad_input, error, stalled …")
    warning: str | None = Field(description="a done job whose output needs a look, and why")
    face_frames: int | None = Field(description="frames with an animated face, once done")
    model_used: str | None = Field(description="the model that rendered it ('auto' resolved)")
    attempts: int
    created: float
    started: float | None
    finished: float | None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls(
            id=job.id,
            state=job.state,
            priority=job.priority,
            video=str(job.video),
            audio=str(job.audio),
            output=str(job.output),
            model=job.model,
            device=job.device,
            settings=dict(job.settings),
            done=job.done,
            total=job.total,
            fps=job.fps,
            eta_s=eta_s(job),
            error=job.error,
            error_kind=job.error_kind,
            warning=job.warning,
            face_frames=job.face_frames,
            model_used=job.model_used,
            attempts=job.attempts,
            created=job.created,
            started=job.started,
            finished=job.finished,
        )


def eta_s(job: Job) -> float | None:
    if job.state != "running" or not job.total or job.fps <= 0:
        return None
    return round(max(0, job.total - job.done) / job.fps, 2)


class JobPage(BaseModel):
    jobs: list[JobOut]
    total: int = Field(description="jobs matching the filter, on all pages")
    offset: int
    limit: int


class BatchOut(BaseModel):
    jobs: list[JobOut]
    warnings: list[str] = Field(description="e.g. by-name pairing left a file without a partner")


class QueueStatus(BaseModel):
    runs_queue: bool = Field(
        description="this server renders; false while the desktop app or a `batch` "
        "runs the queue (they render the jobs added here)"
    )
    counts: dict[str, int] = Field(description="jobs per state")


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


class ModelOut(BaseModel):
    model_config = ConfigDict(protected_namespaces=())
    name: str
    family: str
    status: str = Field(description="installed | missing | corrupt")
    licence: str
    non_commercial: bool
