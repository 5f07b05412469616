"""The explicit settings object one render job gets (no globals)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from app.engine.outputs import IfExists

LoopMode = Literal["pingpong", "repeat"]
LOOP_MODES: tuple[str, ...] = ("pingpong", "repeat")
MASK_PRESETS: tuple[str, ...] = ("mouth", "lower-face")  # see render/masks.py
DETECTORS: tuple[str, ...] = ("auto", "yunet", "haar")
PRESETS: tuple[str, ...] = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)

# Video encoders (media/encoders.py): auto = the first hardware one that opens, else libx264.
ENCODERS: tuple[str, ...] = (
    "auto",
    "libx264",
    "h264_nvenc",
    "hevc_nvenc",
    "h264_qsv",
    "h264_amf",
    "h264_mf",
    "h264_videotoolbox",
)
# Hardware decoding (media/hw_decode.py), opt-in: none = FFmpeg's CPU decoder.
HW_DECODERS: tuple[str, ...] = ("none", "auto", "cuda", "d3d11va", "videotoolbox", "vaapi", "qsv")


@dataclass
class RenderSettings:
    video: Path
    audio: Path
    output: Path
    model: str = "auto"  # auto | draft | a registry or imported model name
    device: str = "auto"  # auto | cpu | cuda[:N] | dml[:N]
    crf: int = 18
    preset: str = "veryfast"
    encoder: str = "auto"  # one of ENCODERS; one that cannot open here falls back to libx264
    reproducible: bool = False  # same job, same bytes (libx264; larger files: encoders.py)
    hw_decode: str = "none"  # one of HW_DECODERS; opt-in, falls back to the CPU decoder
    loop: LoopMode = "pingpong"
    batch_size: int | None = None  # None: the model's default for the device
    # The face detector runs at least every k-th source frame, more often where the face
    # moves (face_track.py); adaptive_detection=False: exactly every k-th (and at cuts).
    detect_interval: int = 10
    adaptive_detection: bool = True
    face: str = "auto"  # which face speaks: auto | largest | center | left | right | X,Y@SECONDS
    detector: str = "auto"  # auto = yunet (ships with the app) | haar (only when asked for)
    detector_model: Path | None = None  # YuNet ONNX file; None: the model registry's copy
    track_cache: bool = True  # reuse and keep the video's face track (track_cache.py)
    mask: str = "lower-face"  # where a lip-sync result may land: mouth | lower-face
    feather: float = 0.3  # 0..1: how much of the mask fades out at its edge
    restore_detail: bool = True  # keep the frame's skin/beard detail under the change
    enhancer: str = "none"  # none | a face-enhancer model name (gfpgan_1.4, ...)
    enhancer_blend: float = 0.8  # 0..1: how much of the enhanced face is kept
    track_cache_dir: Path | None = None  # None: the cache folder; a shared folder on a farm
    # A file at `output`: "replace" it (atomically), or "rename" = never replace a file,
    # take the next free NAME_2.mp4 … (checked at the start and at the final rename).
    if_exists: IfExists = "rename"

    def __post_init__(self) -> None:
        self.video, self.audio, self.output = Path(self.video), Path(self.audio), Path(self.output)
        if self.detector_model is not None:
            self.detector_model = Path(self.detector_model)
        if self.track_cache_dir is not None:
            self.track_cache_dir = Path(self.track_cache_dir)

    def to_dict(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
