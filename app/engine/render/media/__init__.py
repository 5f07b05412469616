"""All media I/O, in-process with PyAV: probe, decode to numpy, load audio, encode + mux.

Conventions:
- Frames are upright BGR uint8 H×W×3 arrays (rotation metadata already applied).
- `VideoInfo.rotation` is in the legacy `rotate`-tag sense: degrees CLOCKWISE a player
  turns the coded picture to show it (a phone's portrait clip says 90). FFmpeg's display
  matrix (and PyAV's `frame.rotation`) counts counter-clockwise; `container._clockwise`
  converts.
- A video is decoded at one constant rate (`VideoInfo.fps`); variable-frame-rate sources
  are resampled by timestamp, so output frame i always means time i / fps.
- Every problem with an input file raises `InputError("NAME: problem")`; FFmpeg's own
  exceptions never leave this package.
- A still larger than a render's `max_still_side` is scaled down once, when read
  (`stills`): the reader's `info` is the size it yields, `source_info` the file's.
- The writer encodes H.264 (libx264, or a hardware encoder: `encoders`; BT.709) + AAC
  into a temporary file and renames it on close(), so a failed or cancelled render
  leaves nothing at the output path.

Modules: `container` (opening and checking inputs), `probe`, `video_reader`, `stills`,
`audio_reader`, `writer`, `encoders`. Callers use the names re-exported here.
"""

from app.engine.render.media.audio_reader import load_audio
from app.engine.render.media.container import IMAGE_SUFFIXES, OUT_AUDIO_BITRATE, OUT_AUDIO_RATE
from app.engine.render.media.probe import (
    AudioInfo,
    MediaInfo,
    VideoInfo,
    choose_rate,
    cut_short,
    probe,
)
from app.engine.render.media.stills import fit_still, still_note, still_size
from app.engine.render.media.video_reader import VideoReader, open_video, resample
from app.engine.render.media.writer import FrameConverter, VideoWriter

__all__ = [
    "IMAGE_SUFFIXES",
    "OUT_AUDIO_BITRATE",
    "OUT_AUDIO_RATE",
    "AudioInfo",
    "FrameConverter",
    "MediaInfo",
    "VideoInfo",
    "VideoReader",
    "VideoWriter",
    "choose_rate",
    "cut_short",
    "fit_still",
    "load_audio",
    "open_video",
    "probe",
    "resample",
    "still_note",
    "still_size",
]
