"""The render recipe, written once: plan a job, settle a frame's face, lip-sync a batch.

- `plan_job`: everything a render decides before its first frame: the inputs' facts,
  the output frame count (it follows the audio), the mel chunk of every frame, the
  model, the face detector and the video's cached face track.
- `LipSync`: one batch of frames through crop -> infer -> paste (only what the model
  changed, blend.py) -> the optional face enhancer (enhance.py).
- `settle_face`: the source frame an output frame shows and its face, settled the way
  the render's forward pass settles it (tracked and smoothed, not a raw detection).

The pipeline's threads (pipeline.py), the one-frame preview (one_frame.py) and the
benchmarks (bench/stages.py, bench/sequential.py, bench/child.py) all call these, so a
change to the recipe changes every one of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.engine.errors import InputError
from app.engine.models.lipsync.base import LipSyncModel
from app.engine.models.lipsync.loader import load_model
from app.engine.models.registry import find_detector_model
from app.engine.render import media, track_cache, tracking
from app.engine.render.audio import mel_chunks, mel_spectrogram
from app.engine.render.blend import Pasted, PasteOptions, PastePrep, paste_face, prepare_paste
from app.engine.render.crop import estimate_alignment, warp_to_crop
from app.engine.render.enhance import EnhanceItem, FaceEnhancer, enhance_faces
from app.engine.render.face_choice import Anchor
from app.engine.render.face_track import FaceTrack, FaceTrackBuilder
from app.engine.render.faces import Face, FaceDetector, create_detector
from app.engine.render.frame_plan import FrameSource, source_index
from app.engine.settings import MASK_PRESETS, RenderSettings

log = logging.getLogger(__name__)

MIN_AUDIO_S = 0.5  # shorter than this is not speech worth a video
ANALYSIS_RATE = 16_000  # the mel spectrogram's sample rate


@dataclass
class JobPlan:
    """What one render works from, decided before its first frame."""

    settings: RenderSettings
    video: media.VideoInfo
    frames: int  # output frames: the audio's length at the video's rate
    mels: np.ndarray = field(repr=False)  # (frames, 80, 16): the speech under each frame
    model: LipSyncModel
    detector: FaceDetector
    face_track: FaceTrack | None  # this video's track so far (cached or given), or None
    track_entry: track_cache.TrackEntry | None  # where the track is stored after the render
    warnings: tuple[str, ...] = ()  # found while planning (an audio file cut short)
    anchor: Anchor | None = None  # the face under a `--face X,Y@SECONDS` point
    enhancer: FaceEnhancer | None = None  # the face enhancer after lip sync, if any

    def lipsync(self) -> LipSync:
        """The recipe's crop -> infer -> paste -> enhance for this plan."""
        settings = self.settings
        return LipSync(
            self.model, self.mels, paste_options(settings), self.enhancer, settings.enhancer_blend
        )

    @property
    def fps(self) -> float:
        return self.video.fps

    def new_builder(self) -> FaceTrackBuilder:
        """The track builder the job's frames go through: its face choice and schedule,
        going on from the cached track."""
        return tracking.new_builder(
            self.settings, self.detector, self.video, self.face_track, self.anchor
        )


def probe_inputs(settings: RenderSettings) -> media.VideoInfo:
    """The presenter's video facts; InputError when either input lacks its stream."""
    video = media.probe(settings.video)
    if video.video is None:
        raise InputError(f"{settings.video}: has no video stream")
    audio = media.probe(settings.audio)
    if audio.audio is None:
        raise InputError(f"{settings.audio}: has no audio stream")
    return video.video


def still_warnings(settings: RenderSettings, source: media.VideoInfo) -> tuple[str, ...]:
    """A line when the still presenter is scaled down for the render (media/stills.py)."""
    note = media.still_note(settings.video, source, settings.max_still_side)
    if note is not None:
        log.warning(note)
    return () if note is None else (note,)


def audio_warnings(audio: Path, decoded_s: float) -> tuple[str, ...]:
    """A warning when the audio decodes to clearly less than its header says: the
    render would silently be shorter than the speech the user meant."""
    info = media.probe(audio).audio
    cut = media.cut_short(audio, info, decoded_s) if info is not None else None
    if cut is not None:
        log.warning(cut)
    return () if cut is None else (cut,)


def check_look(settings: RenderSettings) -> None:
    """The mask, feather and enhancer blend are in range (a hand-edited job may not be)."""
    if settings.mask not in MASK_PRESETS:
        raise InputError(f"mask '{settings.mask}': must be one of {', '.join(MASK_PRESETS)}")
    for name, value in (("feather", settings.feather), ("enhancer blend", settings.enhancer_blend)):
        if not 0.0 <= value <= 1.0:
            raise InputError(f"{name} {value:g}: must be between 0 and 1")


def paste_options(settings: RenderSettings) -> PasteOptions:
    """How a render pastes lip-sync results (blend.py)."""
    return PasteOptions(settings.mask, settings.feather, settings.restore_detail)


def load_enhancer(settings: RenderSettings) -> FaceEnhancer | None:
    """The settings' face enhancer on the lip-sync model's device, sharing its session
    cache; None for "none" (then ONNX Runtime need not load at all)."""
    if settings.enhancer == "none":
        return None
    from app.engine.models.enhance.loader import load_enhancer as load
    from app.engine.models.lipsync.loader import sessions

    return load(settings.enhancer, settings.device, settings.batch_size, sessions())


def speech_mels(audio: Path, fps: float, frames: int | None = None) -> np.ndarray:
    """The mel chunk of each output frame: as many frames as the audio lasts at `fps`
    (or `frames`). InputError when the audio is too short to be speech."""
    return mels_of(load_speech(audio), fps, frames)


def load_speech(audio: Path) -> np.ndarray:
    """The audio at the analysis rate; InputError when it is too short to be speech."""
    wav = media.load_audio(audio, ANALYSIS_RATE)
    audio_s = len(wav) / ANALYSIS_RATE
    if audio_s < MIN_AUDIO_S:
        raise InputError(f"{audio}: audio too short ({audio_s:.2f} s; at least {MIN_AUDIO_S} s)")
    return wav


def mels_of(wav: np.ndarray, fps: float, frames: int | None = None) -> np.ndarray:
    n_out = frames if frames is not None else max(1, round(len(wav) / ANALYSIS_RATE * fps))
    return mel_chunks(mel_spectrogram(wav), fps, n_out)


def detector_path(settings: RenderSettings) -> Path | None:
    """The YuNet file a render uses: the settings' own, else the installed one (or None)."""
    if settings.detector_model is not None:
        return settings.detector_model
    return find_detector_model()


def make_detector(settings: RenderSettings) -> FaceDetector:
    """The face detector a render of `settings` uses (the GUI's smoke test reports it)."""
    return create_detector(settings.detector, detector_path(settings))


def plan_job(
    settings: RenderSettings,
    video: media.VideoInfo | None = None,
    *,
    model: LipSyncModel | None = None,
    detector: FaceDetector | None = None,
    face_track: FaceTrack | None = None,
    enhancer: FaceEnhancer | None = None,
) -> JobPlan:
    """Plan one render of `settings` (`video`: its probed facts, when already known).

    `model`, `detector`, `face_track` and `enhancer` replace what the settings would load. Without a
    `face_track`, `settings.track_cache` loads the video's track from the on-disk cache
    (track_cache.py); `track_entry` is where the caller stores it back. The plan's `video`
    is the size the render reads (an oversized still scaled down, media/stills.py).
    """
    check_look(settings)
    source = video or probe_inputs(settings)
    video = media.fit_still(source, settings.max_still_side)
    wav = load_speech(settings.audio)
    warnings = still_warnings(settings, source)
    warnings += audio_warnings(settings.audio, len(wav) / ANALYSIS_RATE)
    mels = mels_of(wav, video.fps)
    del wav
    model = model or load_model(settings.model, settings.device, settings.batch_size)
    model.prepare(mels)
    enhancer = enhancer or load_enhancer(settings)
    detector = detector or make_detector(settings)
    anchor = tracking.anchor_of(settings, detector, video)
    entry = None
    if face_track is None:
        entry = tracking.cache_entry(settings, detector, video)
        face_track = entry.load() if entry is not None else None
    return JobPlan(
        settings,
        video,
        len(mels),
        mels,
        model,
        detector,
        face_track,
        entry,
        warnings,
        anchor,
        enhancer,
    )


@dataclass(frozen=True)
class Generated:
    """One frame after the model: its result to paste (None: leave the frame as it is)."""

    index: int  # output frame number
    frame: np.ndarray = field(repr=False)
    mouth: np.ndarray | None = field(default=None, repr=False)  # the model's output crop
    crop: np.ndarray | None = field(default=None, repr=False)  # the model's input crop
    matrix: np.ndarray | None = field(default=None, repr=False)  # frame -> crop affine
    landmarks: np.ndarray | None = field(default=None, repr=False)  # the face's 5 points


Aligner = Callable[[int, np.ndarray, Face], tuple[np.ndarray, np.ndarray]]


class LipSync:
    """crop -> infer -> paste (-> enhance) for one job's model and mel chunks.

    `infer` and `paste_batch` are separate so the pipeline can run them in two threads;
    `run` does both for callers with one batch in hand.
    """

    def __init__(
        self,
        model: LipSyncModel,
        mels: np.ndarray,
        options: PasteOptions | None = None,
        enhancer: FaceEnhancer | None = None,
        enhancer_blend: float = 0.8,
    ) -> None:
        self.model = model
        self.mels = mels
        self.options = options or PasteOptions()
        self.enhancer = enhancer
        self.enhancer_blend = enhancer_blend
        # (output index, frame, face) -> align(frame, face), or what an earlier job of a
        # batch kept of it (pipeline.py); None: align every time.
        self.aligner: Aligner | None = None

    def with_model(self, model: LipSyncModel) -> LipSync:
        """The same recipe (mels, paste options, enhancer, aligner) over another model
        instance."""
        other = LipSync(model, self.mels, self.options, self.enhancer, self.enhancer_blend)
        other.aligner = self.aligner
        return other

    def align(self, frame: np.ndarray, face: Face) -> tuple[np.ndarray, np.ndarray]:
        """The face's alignment matrix to the model's template and the crop made with it."""
        size = self.model.crop_size
        matrix = estimate_alignment(face.landmarks, self.model.template, size)
        return matrix, warp_to_crop(frame, matrix, size)

    @property
    def paste_batch_size(self) -> int:
        """Frames `paste_batch` wants at once: the enhancer's batch, else one."""
        return self.enhancer.batch_size if self.enhancer is not None else 1

    def infer(self, batch: Sequence[tuple[int, np.ndarray, Face | None]]) -> list[Generated]:
        """(output index, frame, face or None) in -> the same frames with their mouths."""
        model = self.model
        todo = [(i, frame, face) for i, frame, face in batch if face is not None]
        results: dict[int, Generated] = {}
        if todo:
            aligned = [
                self.aligner(i, frame, face) if self.aligner else self.align(frame, face)
                for i, frame, face in todo
            ]
            matrices = [matrix for matrix, _ in aligned]
            crops = np.stack([crop for _, crop in aligned])
            indices = np.array([i for i, _, _ in todo], dtype=np.int64)
            mouths = model.infer(crops, self.mels[indices], indices)
            for k, (index, frame, face) in enumerate(todo):
                # An unchanged crop (identity model, draft in silence) leaves the frame
                # bit-exact: nothing to paste, unless an enhancer still works on the face.
                if self.enhancer is None and np.array_equal(mouths[k], crops[k]):
                    continue
                results[index] = Generated(
                    index, frame, mouths[k], crops[k], matrices[k], face.landmarks
                )
        return [results.get(index) or Generated(index, frame) for index, frame, _ in batch]

    def paste(self, item: Generated) -> np.ndarray:
        """The frame with its result pasted in (in place); untouched when there is none."""
        return self.paste_batch([item])[0]

    def paste_batch(self, items: Sequence[Generated]) -> list[np.ndarray]:
        """The frames with their results pasted in (in place), then the face enhancer
        over the pasted regions, in one batch; frames without a result are untouched."""
        to_enhance: list[EnhanceItem] = []
        for item in items:
            pasted = self.paste_apart(item, item.frame)
            if pasted is not None:
                assert item.landmarks is not None
                to_enhance.append(EnhanceItem(item.frame, item.landmarks, pasted))
        if self.enhancer is not None:
            enhance_faces(self.enhancer, to_enhance, self.enhancer_blend)
        return [item.frame for item in items]

    def prepare(self, item: Generated) -> PastePrep | None:
        """The audio-independent half of pasting `item` (blend.prepare_paste); None
        without a result or when its region misses the frame."""
        if item.mouth is None:
            return None
        assert item.crop is not None and item.matrix is not None
        assert item.landmarks is not None
        return prepare_paste(item.frame.shape, item.crop, item.matrix, item.landmarks, self.options)

    def paste_apart(
        self, item: Generated, into: np.ndarray, prep: PastePrep | None = None
    ) -> Pasted | None:
        """One result pasted with the pasted rectangle written `into` (frame-sized;
        `item.frame` itself: in place). With another array, `item.frame` stays untouched:
        a frame that others share (frame_cache.py). Returns where the paste lies (None,
        or `changed` False: nothing was written). `prep`: `prepare(item)`, when kept.
        No face enhancer: see paste_batch."""
        if item.mouth is None:
            return None
        assert item.crop is not None and item.matrix is not None
        assert item.landmarks is not None
        return paste_face(
            item.frame, item.mouth, item.crop, item.matrix, item.landmarks, self.options, into, prep
        )

    def run(self, batch: Sequence[tuple[int, np.ndarray, Face | None]]) -> list[np.ndarray]:
        return self.paste_batch(self.infer(batch))


@dataclass(frozen=True)
class SettledFrame:
    """An output frame's source frame and its face, as the render settles them."""

    index: int  # output frame number
    src_index: int  # the source frame it shows
    frame: np.ndarray = field(repr=False)
    face: Face | None


def settle_face(plan: JobPlan, source: FrameSource, index: int) -> SettledFrame:
    """Output frame `index` of `plan` with its face, without rendering the other frames.

    The face comes from a FaceTrackBuilder fed the video's forward pass, exactly as the
    render feeds it, stopped as soon as the frame is settled (at most 2 detect intervals
    later); frames the plan's cached track already knows cost a decode, no detection.
    A frame the audio reaches only by looping the video needs the whole forward pass
    (the source frame count is known only once it is decoded).
    """
    index = min(max(0, int(index)), plan.frames - 1)
    builder = plan.new_builder()
    wanted: np.ndarray | None = None
    n_src = 0
    settled = False
    with closing(source.frames(0)) as forward:
        for frame in forward:
            if n_src >= plan.frames:  # the render stops its forward pass here too
                break
            builder.push(n_src, frame)
            if n_src == index:
                wanted = frame
            n_src += 1
            if wanted is not None and index in builder.track:
                settled = True
                break
    if n_src == 0:
        raise InputError(f"{plan.settings.video}: no video frame could be decoded")
    if not settled:
        builder.finish()  # the end of the forward pass, as the render's faces stage does
    if plan.track_entry is not None:
        plan.track_entry.save(builder.track)
    src = index if wanted is not None else source_index(index, n_src, plan.settings.loop)
    if wanted is None:
        with closing(source.frames(src)) as again:
            wanted = next(again, None)
        if wanted is None:
            raise InputError(f"{plan.settings.video}: frame {src} could not be decoded")
    return SettledFrame(index, src, wanted, builder.track.get(src))
