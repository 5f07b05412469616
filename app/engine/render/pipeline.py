"""One render job: decode -> faces -> model -> blend -> encode.

Decode, faces, model and blend are threads joined by bounded queues (see
stages.py); the encoder runs in the caller's thread, which is also where progress
is yielded, so the generator is the job (STYLE.md 2). Frames in flight are capped
by the queue sizes, so memory does not grow with the video's length.

Output length follows the audio; a shorter video is extended (frame_plan.py).
A frame with no face passes through untouched. A cancelled or failed render
leaves nothing at the output path: the writer works on NAME.mp4.part.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from app.engine.errors import InputError, RenderCancelled
from app.engine.models.lipsync.base import LipSyncModel
from app.engine.models.lipsync.loader import load_model
from app.engine.models.registry import find_detector_model
from app.engine.progress import FrameProgress
from app.engine.render import media, track_cache
from app.engine.render.audio import mel_chunks, mel_spectrogram
from app.engine.render.blend import PasteOptions, paste_face
from app.engine.render.crop import estimate_alignment, warp_to_crop
from app.engine.render.enhance import EnhanceItem, FaceEnhancer, enhance_faces
from app.engine.render.faces import FaceDetector, FaceTrack, FaceTrackBuilder, create_detector
from app.engine.render.frame_plan import PlannedFrame, plan_frames
from app.engine.render.stages import (
    END,
    Channel,
    Stage,
    StageClock,
    StopPipeline,
    Timer,
    timed_iter,
)
from app.engine.settings import MASK_PRESETS, RenderSettings

log = logging.getLogger(__name__)

MIN_AUDIO_S = 0.5  # shorter than this is not speech worth a video
ANALYSIS_RATE = 16_000
PREVIEW_EVERY_S = 0.3
PREVIEW_MAX_SIDE = 480
QUEUE_FRAMES = 8  # frames waiting between two stages


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
    track: FaceTrack | None = field(default=None, repr=False, compare=False)

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps


def render(
    settings: RenderSettings,
    on_progress: Callable[[FrameProgress], None] | None = None,
    cancel: threading.Event | None = None,
    **components: object,
) -> RenderResult:
    """Run a render to completion; see iter_render for the keyword components."""
    job = iter_render(settings, cancel, **components)  # type: ignore[arg-type]
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
) -> Generator[FrameProgress, None, RenderResult]:
    """Yield a FrameProgress per written frame; return the RenderResult.

    `model`, `detector`, `face_track` (a cached track of this video) and `enhancer`
    replace what the settings would load; tests and the batch scheduler pass them. Without a
    `face_track`, `settings.track_cache` loads the video's track from the on-disk cache
    and stores it back after a successful render (track_cache.py).
    """
    started = time.perf_counter()
    cancel = cancel or threading.Event()
    video_info = check_inputs(settings)
    wav = media.load_audio(settings.audio, ANALYSIS_RATE)
    audio_s = len(wav) / ANALYSIS_RATE
    if audio_s < MIN_AUDIO_S:
        raise InputError(
            f"{settings.audio.name}: audio too short ({audio_s:.2f} s; at least {MIN_AUDIO_S} s)"
        )
    fps = video_info.fps
    n_out = max(1, round(audio_s * fps))
    mels = mel_chunks(mel_spectrogram(wav), fps, n_out)
    del wav
    model = model or load_model(settings.model, settings.device, settings.batch_size)
    model.prepare(mels)
    if enhancer is None and settings.enhancer != "none":
        enhancer = _load_enhancer(settings)
    detector = detector or create_detector(settings.detector, detector_path(settings))
    cached = None  # this video's entry in the face-track cache
    if face_track is None and settings.track_cache:
        cached = track_cache.entry(
            settings.video, track_cache.TrackSettings.of(detector, settings.detect_interval, fps)
        )
        face_track = cached.load() if cached is not None else None
    log.info(
        "render %s + %s -> %s: %d frames at %.3f fps, model %s, detector %s",
        settings.video.name,
        settings.audio.name,
        settings.output.name,
        n_out,
        fps,
        model.name,
        detector.name,
    )

    run = _Run(settings, model, enhancer, detector, face_track, mels, n_out, cancel)
    writer = media.VideoWriter(
        settings.output,
        video_info.width,
        video_info.height,
        fps,
        crf=settings.crf,
        preset=settings.preset,
        audio_path=settings.audio,
        duration=n_out / fps,
    )
    try:
        yield from run.encode_into(writer)
        if cancel.is_set():  # cancelled (or abandoned as stalled) after the last frame
            raise RenderCancelled(f"{settings.output.name}: render cancelled")
        output = writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        run.shutdown()
    if cached is not None:
        cached.save(run.builder.track)

    warnings: list[str] = []
    if run.frames_with_face == 0:
        warnings.append(
            f"{settings.video.name}: no face found in any frame; the video was rendered unchanged"
        )
        log.warning(warnings[-1])
    return RenderResult(
        # yuv420p needs even sizes: the writer drops an odd last column/row.
        output=output,
        frames=n_out,
        fps=fps,
        width=video_info.width // 2 * 2,
        height=video_info.height // 2 * 2,
        model=model.name,
        detector=detector.name,
        frames_with_face=run.frames_with_face,
        detections=run.builder.detections,
        elapsed_s=time.perf_counter() - started,
        stages=run.clocks(),
        warnings=tuple(warnings),
        track=run.builder.track,
    )


def check_inputs(settings: RenderSettings) -> media.VideoInfo:
    """Every check that can fail before any work starts; raises InputError."""
    video = media.probe(settings.video)
    if video.video is None:
        raise InputError(f"{settings.video.name}: has no video stream")
    audio = media.probe(settings.audio)
    if audio.audio is None:
        raise InputError(f"{settings.audio.name}: has no audio stream")
    check_output_path(settings.output, (settings.video, settings.audio))
    check_look(settings)
    return video.video


def check_look(settings: RenderSettings) -> None:
    """The mask, feather and enhancer blend are in range (a hand-edited job may not be)."""
    if settings.mask not in MASK_PRESETS:
        raise InputError(f"mask '{settings.mask}': must be one of {', '.join(MASK_PRESETS)}")
    for name, value in (("feather", settings.feather), ("enhancer blend", settings.enhancer_blend)):
        if not 0.0 <= value <= 1.0:
            raise InputError(f"{name} {value:g}: must be between 0 and 1")


def check_output_path(output: Path, inputs: tuple[Path, ...]) -> None:
    if output.suffix.lower() != ".mp4":
        raise InputError(f"{output}: the output must be an .mp4 file")
    for source in inputs:
        if output.resolve() == source.resolve():
            raise InputError(f"{output}: the output path is an input file; choose another name")
    folder = output.parent
    if not folder.is_dir():
        raise InputError(f"{output}: folder {folder} does not exist")
    probe = folder / f".lipsync-write-test-{os.getpid()}-{threading.get_ident()}"
    try:
        probe.open("wb").close()
        probe.unlink()
    except OSError as exc:
        raise InputError(f"{output}: cannot write to folder {folder} ({exc.strerror})") from None


def _load_enhancer(settings: RenderSettings) -> FaceEnhancer | None:
    """The settings' face enhancer on the lip-sync model's device, sharing its session
    cache (imported here: ONNX Runtime is not needed for a draft render)."""
    from app.engine.models.enhance.loader import load_enhancer
    from app.engine.models.lipsync.factory import SESSIONS

    return load_enhancer(settings.enhancer, settings.device, settings.batch_size, SESSIONS)


def paste_options(settings: RenderSettings) -> PasteOptions:
    """How this render pastes lip-sync results (blend.py)."""
    return PasteOptions(settings.mask, settings.feather, settings.restore_detail)


def detector_path(settings: RenderSettings) -> Path | None:
    """The YuNet file a render uses: the settings' own, else the installed one (or None)."""
    if settings.detector_model is not None:
        return settings.detector_model
    return find_detector_model()


class _Run:
    """The threads of one render and the state they share."""

    def __init__(
        self,
        settings: RenderSettings,
        model: LipSyncModel,
        enhancer: FaceEnhancer | None,
        detector: FaceDetector,
        face_track: FaceTrack | None,
        mels: np.ndarray,
        n_out: int,
        cancel: threading.Event,
    ) -> None:
        self.settings, self.model, self.mels, self.n_out = settings, model, mels, n_out
        self.enhancer = enhancer
        self.cancel = cancel
        self.stop = threading.Event()
        self.builder = FaceTrackBuilder(detector, settings.detect_interval, track=face_track)
        self.frames_with_face = 0
        self.encode_clock = StageClock()
        self.decoded = Channel(self.stop, QUEUE_FRAMES)
        self.with_faces = Channel(self.stop, QUEUE_FRAMES)
        self.generated = Channel(self.stop, QUEUE_FRAMES)
        self.blended = Channel(self.stop, QUEUE_FRAMES)
        self.reader = media.open_video(settings.video)
        self.stages = [
            Stage("decode", self._decode, self.stop),
            Stage("faces", self._faces, self.stop),
            Stage("model", self._model, self.stop),
            Stage("blend", self._blend, self.stop),
        ]
        for stage in self.stages:
            stage.start()

    # -- stages (each runs in its own thread) --------------------------------
    def _decode(self, clock: StageClock) -> None:
        plan = plan_frames(self.reader, self.n_out, self.settings.loop, self.settings.video.name)
        for planned in timed_iter(plan, clock):
            self.decoded.put(planned)
        self.decoded.put(END)

    def _faces(self, clock: StageClock) -> None:
        forward_pass_open = True
        for planned in self.decoded:
            planned: PlannedFrame
            if planned.first_visit:  # out_index == src_index on the first pass
                with Timer(clock):
                    settled = self.builder.push(planned.src_index, planned.frame)
                self._put_faces(settled)
                continue
            if forward_pass_open:  # the video looped: every face of it is settled now
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

    def _put_faces(self, settled: list) -> None:
        for item in settled:
            self.with_faces.put(item)

    def _model(self, clock: StageClock) -> None:
        batch: list = []
        for item in self.with_faces:
            batch.append(item)
            if len(batch) >= self.model.batch_size:  # counts faceless frames too: bounded
                self._run_batch(batch, clock)
                batch = []
        self._run_batch(batch, clock)
        self.generated.put(END)

    def _run_batch(self, batch: list, clock: StageClock) -> None:
        model, size = self.model, self.model.crop_size
        with Timer(clock, len(batch)):
            todo = [(i, frame, face) for i, frame, face in batch if face is not None]
            results: dict[int, tuple[np.ndarray, ...]] = {}
            if todo:
                matrices = [estimate_alignment(f.landmarks, model.template, size) for *_, f in todo]
                crops = np.stack(
                    [warp_to_crop(frame, m, size) for (_, frame, _), m in zip(todo, matrices)]
                )
                indices = np.array([i for i, _, _ in todo], dtype=np.int64)
                mouths = model.infer(crops, self.mels[indices], indices)
                for k, (index, _, face) in enumerate(todo):
                    results[index] = (mouths[k], crops[k], matrices[k], face.landmarks)
        self.frames_with_face += len(todo)
        for index, frame, _ in batch:
            self.generated.put((index, frame, results.get(index)))

    def _blend(self, clock: StageClock) -> None:
        # Batches as the enhancer wants them (or one frame at a time without one).
        size = self.enhancer.batch_size if self.enhancer is not None else 1
        batch: list = []
        for item in self.generated:
            batch.append(item)
            if len(batch) >= size:
                self._blend_batch(batch, clock)
                batch = []
        self._blend_batch(batch, clock)
        self.blended.put(END)

    def _blend_batch(self, batch: list, clock: StageClock) -> None:
        options, enhancer = paste_options(self.settings), self.enhancer
        to_enhance: list[EnhanceItem] = []
        with Timer(clock, len(batch)):
            for _, frame, result in batch:
                if result is None:
                    continue
                mouth, crop, matrix, landmarks = result
                # An unchanged crop (identity model, draft in silence) leaves the frame
                # bit-exact; only an enhancer still wants to know where the face is.
                if enhancer is None and np.array_equal(mouth, crop):
                    continue
                pasted = paste_face(frame, mouth, crop, matrix, landmarks, options)
                if pasted is not None:
                    to_enhance.append(EnhanceItem(frame, landmarks, pasted))
            if enhancer is not None:
                enhance_faces(enhancer, to_enhance, self.settings.enhancer_blend)
        for index, frame, _ in batch:
            self.blended.put((index, frame))

    # -- the caller's thread --------------------------------------------------
    def encode_into(self, writer: media.VideoWriter) -> Generator[FrameProgress, None, None]:
        done = 0
        rate = _Rate()
        next_preview = 0.0
        try:
            for _index, frame in self.blended:
                if self.cancel.is_set():
                    raise RenderCancelled(f"{self.settings.output.name}: render cancelled")
                with Timer(self.encode_clock):
                    writer.write(frame)
                done += 1
                fps = rate.tick()
                now = time.monotonic()
                preview = None
                if now >= next_preview or done == self.n_out:
                    preview, next_preview = _preview(frame), now + PREVIEW_EVERY_S
                eta = (self.n_out - done) / fps if fps > 0 else float("inf")
                yield FrameProgress(done, self.n_out, fps, eta, preview)
        except StopPipeline:
            self._raise_stage_error()
            raise RenderCancelled(f"{self.settings.output.name}: render cancelled") from None
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
            stage.join()
        self.reader.close()

    def clocks(self) -> dict[str, StageClock]:
        clocks = {stage.stage_name: stage.clock for stage in self.stages}
        clocks["encode"] = self.encode_clock
        return clocks


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
