"""Submitting and steering jobs for the API: paths checked against the allowed folders,
inputs probed before anything is queued, outputs named in the output folder by the same
rules as `lipsync-studio batch` (and under the same lock, so a `batch` adding at the same
moment never picks the same name).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from app.engine.errors import InputError
from app.engine.queue import batch_plan
from app.engine.queue.jobstore import FINISHED_STATES, Job, JobStore
from app.engine.settings import RenderSettings
from app.server import uploads
from app.server.config import ServerConfig
from app.server.errors import NO_JOB, OUTSIDE_ALLOWED_DIRS, WRONG_STATE, ApiError
from app.server.queue_runner import QueueRunner
from app.server.roots import inside, resolve_allowed
from app.server.schemas import BatchRequest, JobRequest, RenderOptions

Pair = tuple[Path, Path]
T = TypeVar("T")
CHECKED_MAX = 10_000  # file pairs remembered as probed
_FileKey = tuple[str, int, int]  # (real path, size, mtime_ns): a file not changed since


@dataclass(frozen=True)
class Submitted:
    jobs: list[Job]
    warnings: list[str]


class JobService:
    def __init__(self, store: JobStore, config: ServerConfig, runner: QueueRunner) -> None:
        self.store = store
        self.config = config
        self.runner = runner
        self._checked: set[tuple[_FileKey, _FileKey]] = set()  # probed pairs that passed

    # -- reading ------------------------------------------------------------------------

    def job(self, job_id: int) -> Job:
        job = self.store.get(job_id)
        if job is None:
            raise ApiError(404, NO_JOB, f"no job {job_id}")
        return job

    def output_file(self, job_id: int) -> Path:
        job = self.job(job_id)
        if job.state != "done":
            raise ApiError(409, WRONG_STATE, f"job {job_id}: is {job.state}; no output to fetch")
        real = Path(os.path.realpath(job.output))
        if not any(inside(real, root) for root in self.config.allow_dirs):
            raise ApiError(
                403,
                OUTSIDE_ALLOWED_DIRS,
                f"job {job_id}: its output {job.output} is outside the server's folders",
            )
        if not real.is_file():
            raise ApiError(409, WRONG_STATE, f"job {job_id}: {job.output.name} is gone")
        return real

    # -- steering -----------------------------------------------------------------------

    def cancel(self, job_id: int) -> Job:
        job = self.job(job_id)
        if not self.runner.cancel(job_id):
            raise ApiError(409, WRONG_STATE, f"job {job_id}: is {job.state}, nothing to cancel")
        return self.job(job_id)

    def retry(self, job_id: int) -> Job:
        job = self.job(job_id)
        if job.state not in FINISHED_STATES or not self.runner.retry(job_id):
            raise ApiError(
                409,
                WRONG_STATE,
                f"job {job_id}: is {job.state}, only finished jobs can be retried",
            )
        return self.job(job_id)

    def set_priority(self, job_id: int, priority: int) -> Job:
        self.job(job_id)
        self.runner.set_priority(job_id, priority)
        return self.job(job_id)

    def remove(self, job_id: int) -> None:
        """Forget a job that is not running, and delete its uploaded inputs (not its
        output: that is the user's file now)."""
        job = self.job(job_id)
        if not self.runner.remove(job_id):
            raise ApiError(409, WRONG_STATE, f"job {job_id}: is {job.state}; cancel it first")
        uploads_dir = Path(os.path.realpath(self.config.uploads_dir))
        folder = Path(os.path.realpath(job.video.parent))
        if folder.parent == uploads_dir and inside(Path(os.path.realpath(job.audio)), folder):
            uploads.remove(folder)

    # -- submitting ---------------------------------------------------------------------

    def submit(self, request: JobRequest) -> Job:
        roots = self.config.allow_dirs
        video = resolve_allowed(request.video, roots, "video")
        audio = resolve_allowed(request.audio, roots, "audio")
        return self.submit_pairs([(video, audio)], request).jobs[0]

    def submit_upload(self, video: Path, audio: Path, options: RenderOptions) -> Job:
        """Files the server wrote itself (uploads/): no root check; removed if refused."""
        try:
            return self.submit_pairs([(video, audio)], options).jobs[0]
        except InputError as exc:
            uploads.remove(video.parent)
            # Messages name files by the path given; the client gave a file, not our path.
            message = str(exc)
            for path in (video, audio):
                message = message.replace(str(path), path.name)
            raise InputError(message) from None
        except BaseException:
            uploads.remove(video.parent)
            raise

    def submit_batch(self, request: BatchRequest) -> Submitted:
        roots = self.config.allow_dirs
        warnings: list[str] = []
        if request.pairs is not None:
            pairs = [
                (
                    resolve_allowed(p.video, roots, "video"),
                    resolve_allowed(p.audio, roots, "audio"),
                )
                for p in request.pairs
            ]
        else:
            videos = _unique([resolve_allowed(v, roots, "video") for v in request.videos or ()])
            audios = _unique([resolve_allowed(a, roots, "audio") for a in request.audios or ()])
            if request.pair == "by-name":
                pairs, lonely_videos, lonely_audios = batch_plan.pair_by_name(videos, audios)
                warnings += [f"no audio named like {p.name}" for p in lonely_videos]
                warnings += [f"no video for {p.name}" for p in lonely_audios]
                if not pairs:
                    raise InputError(
                        "pair by-name: no audio file name starts with a video's name "
                        f"(videos: {', '.join(v.name for v in videos)})"
                    )
            else:
                pairs = batch_plan.pair_each(videos, audios)
        return Submitted(self.submit_pairs(pairs, request).jobs, warnings)

    def submit_pairs(self, pairs: Sequence[Pair], options: RenderOptions) -> Submitted:
        """Check everything, then queue one job per pair; nothing is queued if one fails.
        Output names and the queueing are the engine's batch plan, as for `batch`."""
        names = _named("name", _names, options.name, pairs)
        _check_model_and_device(options)
        out = self.config.output_dir
        for pair, name in zip(pairs, names):
            self._check_inputs(pair, out / name, options)
        ids = batch_plan.queue_pairs(
            self.store,
            pairs,
            out,
            options.name,
            lambda video, audio, output: _settings(video, audio, output, options),
            priority=options.priority,
            submit=self.runner.submit_many,
        )
        return Submitted([self.job(i) for i in ids], [])

    def _check_inputs(self, pair: Pair, output: Path, options: RenderOptions) -> None:
        """Probe both files (the pipeline's own checks) unless this pair passed unchanged."""
        from app.engine.render.pipeline import check_inputs

        key = (_file_key(pair[0]), _file_key(pair[1]))
        if key in self._checked:
            return
        check_inputs(_settings(*pair, output, options))
        if len(self._checked) >= CHECKED_MAX:  # a long-running server: start over
            self._checked.clear()
        self._checked.add(key)


def _names(template: str, pairs: Sequence[Pair]) -> list[str]:
    batch_plan.check_name_template(template)
    return [batch_plan.format_name(template, v, a, i) for i, (v, a) in enumerate(pairs, 1)]


def _named(field: str, fn: Callable[..., T], *args: object) -> T:
    """fn(...), its InputError told as a problem with the request's `field` (as the CLI
    names its option)."""
    try:
        return fn(*args)
    except InputError as exc:
        raise InputError(f"{field} {exc}") from None


def _settings(video: Path, audio: Path, output: Path, options: RenderOptions) -> RenderSettings:
    return RenderSettings(
        video=video,
        audio=audio,
        output=output,
        model=options.model,
        device=options.device,
        crf=options.crf,
        preset=options.preset,
        loop=options.loop,  # type: ignore[arg-type]  # checked against LOOP_MODES
        batch_size=options.batch_size,
        detect_interval=options.detect_every,
        detector=options.detector,
        track_cache=options.track_cache,
    )


def _check_model_and_device(options: RenderOptions) -> None:
    """A model that is not installed or a device this machine lacks: say so now."""
    from app.engine.models import registry
    from app.engine.models.providers import resolve_device

    if options.model not in ("auto", "draft"):
        registry.resolve(options.model)  # InputError: unknown or not installed, and how
    resolve_device(options.device)


def _file_key(path: Path) -> _FileKey:
    try:
        st = path.stat()
    except OSError:
        return (str(path), -1, -1)  # the probe reports it
    return (str(path), st.st_size, st.st_mtime_ns)


def _unique(items: list[Path]) -> list[Path]:
    return list(dict.fromkeys(items))
