"""One render job: decode -> faces -> model -> blend -> encode.

Decode, faces, model and blend are threads joined by bounded queues (see
stages.py); the encoder runs in the caller's thread, which is also where progress
is yielded, so the generator is the job (STYLE.md 2). Frames in flight are capped
in bytes as well as in number (frame_budget.py: the queues, the model's batches, the
face track's held frames), so memory grows neither with the video's length nor much
with its frame size.

What a render does to each frame is recipe.py (shared with the one-frame preview and
the benchmarks); this module runs it in threads. Output length follows the audio; a
shorter video is extended (frame_plan.py).
A frame with no face passes through untouched. A cancelled or failed render
leaves nothing at the output path: the writer works on a temporary file
(app/engine/outputs.py) and renames it when complete.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from av.video.frame import VideoFrame

from app.engine import heap, outputs
from app.engine.errors import InputError, RenderCancelled
from app.engine.models.lipsync.base import LipSyncModel
from app.engine.progress import FrameProgress
from app.engine.render import frame_budget, media, tracking
from app.engine.render.blend import PastePrep
from app.engine.render.coverage import FaceCoverage
from app.engine.render.enhance import FaceEnhancer
from app.engine.render.face_track import FaceTrack, Settled
from app.engine.render.faces import Face, FaceDetector
from app.engine.render.frame_cache import JobFrames, KeptCrop
from app.engine.render.frame_plan import plan_frames
from app.engine.render.media.yuv_patch import FORMAT as YUV420P
from app.engine.render.media.yuv_patch import YuvPatcher
from app.engine.render.model_workers import ModelWorkers
from app.engine.render.recipe import Generated, JobPlan, plan_job, probe_inputs
from app.engine.render.stages import (
    END,
    Channel,
    Stage,
    StageClock,
    StopPipeline,
    Timer,
    timed_iter,
)
from app.engine.settings import RenderSettings
from app.engine.threads import (
    ModelDevice,
    ThreadPlan,
    thread_plan,
    usable_cores,
    use_opencv_threads,
)

log = logging.getLogger(__name__)

PREVIEW_EVERY_S = 0.3
PREVIEW_MAX_SIDE = 480


@dataclass(frozen=True)
class RenderResult:
    output: Path
    frames: int
    fps: float
    width: int
    height: int
    model: str
    detector: str
    frames_with_face: int
    detections: int
    elapsed_s: float
    stages: dict[str, StageClock]
    warnings: tuple[str, ...] = ()
    encoder: str = "libx264"  # the video encoder used (settings.encoder, after any fallback)
    track: FaceTrack | None = field(default=None, repr=False, compare=False)

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps

    @property
    def coverage(self) -> FaceCoverage:
        return FaceCoverage(self.frames_with_face, self.frames)


def render(
    settings: RenderSettings,
    on_progress: Callable[[FrameProgress], None] | None = None,
    cancel: threading.Event | None = None,
    *,
    model: LipSyncModel | None = None,
    detector: FaceDetector | None = None,
    face_track: FaceTrack | None = None,
    frames: JobFrames | None = None,
) -> RenderResult:
    """Run a render to completion; see iter_render for the keyword components."""
    job = iter_render(
        settings, cancel, model=model, detector=detector, face_track=face_track, frames=frames
    )
    while True:
        try:
            progress = next(job)
        except StopIteration as done:
            return done.value
        if on_progress is not None:
            on_progress(progress)


def iter_render(
    settings: RenderSettings,
    cancel: threading.Event | None = None,
    *,
    model: LipSyncModel | None = None,
    detector: FaceDetector | None = None,
    face_track: FaceTrack | None = None,
    enhancer: FaceEnhancer | None = None,
    frames: JobFrames | None = None,
) -> Generator[FrameProgress, None, RenderResult]:
    """Yield a FrameProgress per written frame; return the RenderResult.

    `model`, `detector`, `face_track` (a cached track of this video) and `enhancer`
    replace what the settings would load; tests and the batch scheduler pass them. Without a
    `face_track`, `settings.track_cache` loads the video's track from the on-disk cache
    and stores it back after a successful render (track_cache.py). `frames`: the
    presenter's decoded frames kept in memory across a batch's jobs (frame_cache.py),
    read where kept and, when it says so, kept for the jobs that follow.
    """
    started = time.perf_counter()
    cancel = cancel or threading.Event()
    heap.return_large_blocks()  # freed frames leave the process (heap.py)
    plan = plan_job(
        settings,
        check_inputs(settings),
        model=model,
        detector=detector,
        face_track=face_track,
        enhancer=enhancer,
    )
    log.info(
        "render %s + %s -> %s: %d frames at %.3f fps, model %s, detector %s",
        settings.video.name,
        settings.audio.name,
        settings.output.name,
        plan.frames,
        plan.fps,
        plan.model.name,
        plan.detector.name,
    )

    threads = thread_plan(model_device(plan.model))
    use_opencv_threads(threads.opencv_threads)
    # The writer first: if it cannot open, no thread has started and no reader is open.
    writer = media.VideoWriter(
        output_now(settings),
        plan.video.width,
        plan.video.height,
        plan.fps,
        crf=settings.crf,
        preset=settings.preset,
        audio_path=settings.audio,
        duration=plan.frames / plan.fps,
        if_exists=settings.if_exists,
        encoder=settings.encoder,
        encoder_threads=threads.encoder_threads,
        audio_nice=threads.feeder_nice,
        reproducible=settings.reproducible,
    )
    run: _Run | None = None
    try:
        run = _Run(plan, cancel, writer.converter(), threads, frames)
        run.start()
        yield from run.encode_into(writer)
        if cancel.is_set():  # cancelled (or abandoned as stalled) after the last frame
            raise RenderCancelled(f"{settings.output}: render cancelled")
        output = writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        if run is not None:
            run.shutdown()
    assert run is not None  # the try above either set it or raised
    if plan.track_entry is not None:
        plan.track_entry.save(run.builder.track)

    warnings = list(plan.warnings)
    if output != settings.output:
        warnings.append(
            f"{settings.output}: a file is there (or appeared while rendering) and was kept; "
            f"this render is {output}"
        )
    short = _decoded_short(settings.video, plan.video, run.looped_after)
    if short is not None:
        warnings.append(short)
        log.warning(short)
    coverage_warning = FaceCoverage(run.frames_with_face, plan.frames).warning
    if coverage_warning is not None:
        warnings.append(f"{settings.video}: {coverage_warning}")
        log.warning(warnings[-1])
    return RenderResult(
        # yuv420p needs even sizes: the writer drops an odd last column/row.
        output=output,
        frames=plan.frames,
        fps=plan.fps,
        width=plan.video.width // 2 * 2,
        height=plan.video.height // 2 * 2,
        model=plan.model.name,
        detector=plan.detector.name,
        frames_with_face=run.frames_with_face,
        detections=run.builder.detections,
        elapsed_s=time.perf_counter() - started,
        stages=run.clocks(),
        warnings=tuple(warnings),
        encoder=writer.encoder,
        track=run.builder.track,
    )


def check_inputs(settings: RenderSettings) -> media.VideoInfo:
    """The checks of the inputs and the output path that can fail before any work
    starts; raises InputError."""
    video = probe_inputs(settings)
    check_output_path(settings.output, (settings.video, settings.audio))
    tracking.face_spec(settings)  # a bad --face fails before any work
    return video


def check_output_path(output: Path, inputs: tuple[Path, ...]) -> None:
    if output.is_dir():
        raise InputError(f"{output}: is a folder; give a file name such as {output / 'out.mp4'}")
    if output.suffix.lower() != ".mp4":
        raise InputError(f"{output}: the output must be an .mp4 file")
    for source in inputs:
        if output.resolve() == source.resolve():
            raise InputError(f"{output}: the output path is an input file; choose another name")
    folder = output.parent
    if not folder.is_dir():
        raise InputError(f"{output}: folder {folder} does not exist")
    try:  # the temporary file the writer will make: a new file, never an existing one
        outputs.create_temp(output).unlink()
    except OSError as exc:
        raise InputError(f"{output}: cannot write to folder {folder} ({exc.strerror})") from None


def model_device(model: LipSyncModel) -> ModelDevice:
    """Where the model runs, for the thread plan: an ONNX session off the CPU is a GPU."""
    runner = getattr(model, "runner", None)
    provider = getattr(runner, "provider", "CPUExecutionProvider")
    return "cpu" if provider == "CPUExecutionProvider" else "gpu"


def _decoded_short(video: Path, info: media.VideoInfo, decoded: int | None) -> str | None:
    """One line for a video that ran out of decodable frames well before its header's
    count (damaged or cut short): FFmpeg conceals the damage, the render loops early."""
    if decoded is None or info.is_image or decoded >= 0.9 * info.frame_count - 1:
        return None
    return (
        f"{video}: only {decoded} of about {info.frame_count} frames decode (damaged or cut "
        "short?); the render loops those"
    )


def output_now(settings: RenderSettings) -> Path:
    """Where this render goes: with if_exists="rename", a file that is already at the
    output path keeps it and the render takes the next free NAME_N.mp4."""
    if settings.if_exists == "rename":
        return outputs.next_free(settings.output)
    return settings.output


class _Run:
    """The threads of one render and the state they share."""

    def __init__(
        self,
        plan: JobPlan,
        cancel: threading.Event,
        convert: media.FrameConverter,
        threads: ThreadPlan,
        frames: JobFrames | None = None,
    ) -> None:
        settings = plan.settings
        self.settings, self.n_out, self.cancel = settings, plan.frames, cancel
        self.convert = convert
        self.lipsync = plan.lipsync()
        self.model_workers = ModelWorkers(self.lipsync, threads.model_workers)
        each = frame_budget.frame_bytes(plan.video)
        self.batch_size = frame_budget.batch_size(each, plan.model.batch_size)
        self.stop = threading.Event()
        self.builder = plan.new_builder()
        self.frames_with_face = 0
        self.looped_after: int | None = None  # source frames decoded before the video looped
        self.encode_clock = StageClock()
        capacity = frame_budget.channel_capacity(each)
        self.decoded = Channel(self.stop, capacity)
        self.with_faces = Channel(self.stop, capacity)
        self.generated = Channel(self.stop, capacity)
        self.blended = Channel(self.stop, capacity)
        decoder_threads = frame_budget.decoder_threads(
            each, threads.decoder_threads, usable_cores()
        )

        def open_reader() -> media.VideoReader:
            return media.open_video(
                settings.video, settings.hw_decode, decoder_threads, settings.max_still_side
            )

        # A batch's later job may find every frame it needs kept: open the file only
        # when one is not.
        self.reader: media.VideoReader | _OpenOnFirstRead = (
            open_reader() if frames is None else _OpenOnFirstRead(open_reader)
        )
        self.frames = frames
        self.source = frames.source(self.reader) if frames is not None else self.reader
        # Kept frames in the encoder's yuv420p: convert only the pasted rectangle. The
        # face enhancer works on whole frames, so with one every frame is converted.
        self.patcher: YuvPatcher | None = None
        if frames is not None and convert.pix_fmt == YUV420P and plan.enhancer is None:
            self.patcher = YuvPatcher(convert.width - convert.width % 2, convert.height // 2 * 2)
        self.src_of: dict[int, int] = {}  # output frame -> source frame, for the patcher
        if self.patcher is not None:  # a batch's later jobs reuse the model's crops too
            self.lipsync.aligner = self._aligned
        self.stages = [
            Stage("decode", self._decode, self.stop, threads.feeder_nice),
            Stage("faces", self._faces, self.stop, threads.feeder_nice),
            Stage("model", self._model, self.stop, threads.feeder_nice),
            Stage("blend", self._blend, self.stop, threads.feeder_nice),
        ]

    def start(self) -> None:
        for stage in self.stages:
            stage.start()

    # -- stages (each runs in its own thread) --------------------------------
    def _decode(self, clock: StageClock) -> None:
        plan = plan_frames(self.source, self.n_out, self.settings.loop, self.settings.video.name)
        for planned in timed_iter(plan, clock):
            if self.patcher is not None:
                self.src_of[planned.out_index] = planned.src_index
            self.decoded.put(planned)
        self.decoded.put(END)

    def _faces(self, clock: StageClock) -> None:
        forward_pass_open = True
        first_pass = 0
        for planned in self.decoded:
            if planned.first_visit:  # out_index == src_index on the first pass
                first_pass += 1
                with Timer(clock):
                    settled = self.builder.push(planned.src_index, planned.frame)
                self._put_faces(settled)
                continue
            if forward_pass_open:  # the video looped: every face of it is settled now
                self.looped_after = first_pass
                with Timer(clock, 0):
                    settled = self.builder.finish()
                self._put_faces(settled)
                forward_pass_open = False
            face = self.builder.track.get(planned.src_index)
            self.with_faces.put((planned.out_index, planned.frame, face))
        if forward_pass_open:
            with Timer(clock, 0):
                settled = self.builder.finish()
            self._put_faces(settled)
        self.with_faces.put(END)

    def _put_faces(self, settled: list[Settled]) -> None:
        for item in settled:
            self.with_faces.put(item)

    def _model(self, clock: StageClock) -> None:
        for batch, generated in self.model_workers.run(self._batches(), clock):
            self.frames_with_face += sum(face is not None for *_, face in batch)
            for item in generated:
                self.generated.put(item)
        self.generated.put(END)

    def _batches(self) -> Iterator[list[tuple[int, np.ndarray, Face | None]]]:
        batch: list[tuple[int, np.ndarray, Face | None]] = []
        for item in self.with_faces:
            batch.append(item)
            if len(batch) >= self.batch_size:  # counts faceless frames too: bounded
                yield batch
                batch = []
        if batch:
            yield batch

    def _blend(self, clock: StageClock) -> None:
        # In the batches the face enhancer wants (one frame at a time without one).
        size = self.lipsync.paste_batch_size
        batch: list[Generated] = []
        for item in self.generated:
            batch.append(item)
            if len(batch) >= size:
                self._blend_batch(batch, clock)
                batch = []
        self._blend_batch(batch, clock)
        self.blended.put(END)

    def _blend_batch(self, batch: list[Generated], clock: StageClock) -> None:
        """Paste the mouths back (and run the face enhancer), then convert to the
        encoder's format here: the encoder's thread is the pipeline's serial bottleneck
        on the CPU, this one is idle."""
        with Timer(clock, len(batch)):
            if self.patcher is not None:
                blended = [self._blend_kept(item, self.patcher) for item in batch]
            else:
                batch = [_writable(item) for item in batch]
                if any(item.mouth is not None for item in batch):
                    self.lipsync.paste_batch(batch)
                blended = [_Blended(item.frame, self.convert(item.frame)) for item in batch]
        for item in blended:
            self.blended.put(item)

    def _blend_kept(self, item: Generated, patcher: YuvPatcher) -> _Blended:
        """Blend a frame of a presenter whose frames are kept (self.frames): when its YUV
        is kept, convert only the pasted rectangle into a copy of it; otherwise paste
        and convert the whole frame, and keep its untouched YUV for the next jobs."""
        assert self.frames is not None
        src = self.src_of.pop(item.index)
        prep = self._paste_prep(src, item)
        yuv = self.frames.yuv(src, YUV420P)
        if yuv is not None:
            canvas = np.empty_like(item.frame)  # only the pasted rectangle is written
            pasted = self.lipsync.paste_apart(item, canvas, prep)
            if pasted is None or not pasted.changed:
                return _Blended(item.frame, patcher.frame(yuv))
            x, y, region = _patch_region(patcher, item.frame, canvas, pasted.rect)
            return _Blended(item.frame, patcher.frame(yuv, region, (x, y)), (x, y, region))
        item = _writable(item)
        pasted = self.lipsync.paste_apart(item, item.frame, prep)
        converted = self.convert(item.frame)
        if self.frames.keep:
            if pasted is None or not pasted.changed:
                self.frames.put_yuv(src, YUV420P, converted.to_ndarray())
            elif (untouched := self.frames.bgr(src)) is not None:
                x0, y0, x1, y1 = patcher.steady_rect(pasted.rect)
                yuv = patcher.patched(converted.to_ndarray(), untouched[y0:y1, x0:x1], (x0, y0))
                self.frames.put_yuv(src, YUV420P, yuv)
        return _Blended(item.frame, converted)

    def _aligned(self, index: int, frame: np.ndarray, face: Face) -> tuple[np.ndarray, np.ndarray]:
        """LipSync.align for output frame `index`: kept by an earlier job of this
        presenter, or made now (and kept for the next)."""
        assert self.frames is not None
        src = self.src_of[index]
        model = self.lipsync.model
        made_from = (face.landmarks.tobytes(), model.template, model.crop_size)
        kept = self.frames.reuse(
            "crop",
            src,
            made_from,
            lambda: KeptCrop(*self.lipsync.align(frame, face)),
            lambda crop: (crop.matrix, crop.pixels),
        )
        assert kept is not None  # align always makes one
        return kept.matrix, kept.pixels

    def _paste_prep(self, src: int, item: Generated) -> PastePrep | None:
        """The audio-independent half of pasting into source frame `src`'s face: kept
        by an earlier job of this presenter, or made now (and kept for the next)."""
        assert self.frames is not None
        if item.mouth is None:
            return None
        assert item.landmarks is not None and item.matrix is not None and item.crop is not None
        made_from = (
            item.landmarks.tobytes(),
            item.matrix.tobytes(),
            item.crop.shape,
            self.lipsync.options,
        )
        return self.frames.reuse(
            "paste",
            src,
            made_from,
            lambda: self.lipsync.prepare(item),
            lambda prep: (prep.alpha, prep.lips, prep.source),
        )

    # -- the caller's thread --------------------------------------------------
    def encode_into(self, writer: media.VideoWriter) -> Generator[FrameProgress, None, None]:
        done = 0
        rate = _Rate()
        next_preview = 0.0
        try:
            for blended in self.blended:
                if self.cancel.is_set():
                    raise RenderCancelled(f"{self.settings.output}: render cancelled")
                with Timer(self.encode_clock):
                    writer.write_frame(blended.converted)
                done += 1
                fps = rate.tick()
                now = time.monotonic()
                preview = None
                if now >= next_preview or done == self.n_out:
                    preview, next_preview = _preview(blended.picture()), now + PREVIEW_EVERY_S
                eta = (self.n_out - done) / fps if fps > 0 else float("inf")
                yield FrameProgress(done, self.n_out, fps, eta, preview)
        except StopPipeline:
            self._raise_stage_error()
            raise RenderCancelled(f"{self.settings.output}: render cancelled") from None
        self._raise_stage_error()
        if done != self.n_out:
            raise RuntimeError(f"pipeline wrote {done} of {self.n_out} frames")

    def _raise_stage_error(self) -> None:
        for stage in self.stages:
            if stage.error is not None:
                raise stage.error

    def shutdown(self) -> None:
        self.stop.set()
        for stage in self.stages:
            if stage.ident is not None:  # started
                stage.join()
        self.reader.close()

    def clocks(self) -> dict[str, StageClock]:
        clocks = {stage.stage_name: stage.clock for stage in self.stages}
        clocks["encode"] = self.encode_clock
        return clocks


class _OpenOnFirstRead:
    """A video reader opened by `open_reader` when frames are first asked of it."""

    def __init__(self, open_reader: Callable[[], media.VideoReader]) -> None:
        self._open = open_reader
        self._reader: media.VideoReader | None = None

    def frames(self, start: int = 0) -> Generator[np.ndarray, None, None]:
        if self._reader is None:
            self._reader = self._open()
        return self._reader.frames(start)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()


@dataclass(frozen=True)
class _Blended:
    """A frame ready for the encoder, and its picture for the preview."""

    frame: np.ndarray  # BGR; for a kept frame, without the paste (that is `patch`)
    converted: VideoFrame  # what the encoder gets
    patch: tuple[int, int, np.ndarray] | None = None  # x, y and the BGR pasted there

    def picture(self) -> np.ndarray:
        if self.patch is None:
            return self.frame
        x, y, region = self.patch
        picture = self.frame.copy()
        picture[y : y + region.shape[0], x : x + region.shape[1]] = region
        return picture


def _writable(item: Generated) -> Generated:
    """`item` with a frame of its own when a result is to be pasted into a kept one."""
    if item.mouth is None or item.frame.flags.writeable:
        return item
    return dataclasses.replace(item, frame=item.frame.copy())


def _patch_region(
    patcher: YuvPatcher, frame: np.ndarray, canvas: np.ndarray, rect: tuple[int, int, int, int]
) -> tuple[int, int, np.ndarray]:
    """The patcher's even-aligned BGR rectangle around `rect`: `frame`'s pixels with
    the pasted ones (`canvas` inside `rect`) over them; (x, y, region)."""
    ex0, ey0, ex1, ey1 = patcher.steady_rect(rect)
    x0, y0 = rect[0], rect[1]
    x1, y1 = min(rect[2], ex1), min(rect[3], ey1)  # an odd last column/row is not encoded
    region = frame[ey0:ey1, ex0:ex1].copy()
    region[y0 - ey0 : y1 - ey0, x0 - ex0 : x1 - ex0] = canvas[y0:y1, x0:x1]
    return ex0, ey0, region


class _Rate:
    """Frames per second over the last few seconds (an all-time average hides stalls)."""

    def __init__(self, window_s: float = 3.0) -> None:
        self.window_s = window_s
        self.times: list[float] = []

    def tick(self) -> float:
        now = time.perf_counter()
        self.times.append(now)
        while len(self.times) > 2 and now - self.times[0] > self.window_s:
            self.times.pop(0)
        span = now - self.times[0]
        return (len(self.times) - 1) / span if span > 0 else 0.0


def _preview(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    scale = PREVIEW_MAX_SIDE / max(h, w)
    if scale >= 1:
        return frame.copy()
    return cv2.resize(frame, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
