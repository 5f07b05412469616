"""What a media file holds: probe(), the stream infos, the constant rate a video decodes at."""

from __future__ import annotations

import logging
import os
import stat
import struct
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from av.audio.stream import AudioStream
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from app.engine.errors import InputError
from app.engine.render.media.container import (
    IMAGE_FPS,
    MAX_FPS,
    audio_stream,
    container_duration,
    display_rotation,
    first_frames,
    is_image_container,
    open_input,
    stream_duration,
    video_stream,
)

log = logging.getLogger(__name__)

# -- what a file holds -------------------------------------------------------------------


@dataclass(frozen=True)
class VideoInfo:
    width: int  # upright size, after rotation metadata
    height: int
    fps: float  # the constant rate frames() decodes at
    frame_count: int  # frames at that rate: duration * fps (an estimate), 1 for an image
    rotation: int  # 0/90/180/270, clockwise (see the module docstring)
    codec: str
    is_image: bool
    duration: float  # seconds


@dataclass(frozen=True)
class AudioInfo:
    sample_rate: int
    channels: int
    codec: str
    duration: float  # seconds
    # What the header claims when it claims more than FFmpeg reports (a WAV cut short:
    # FFmpeg clamps to the file's size, the RIFF header still says the whole length).
    declared_duration: float | None = None


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    format: str
    duration: float  # seconds
    video: VideoInfo | None
    audio: AudioInfo | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (`lipsync-studio probe FILE`)."""
        return {
            "path": str(self.path),
            "format": self.format,
            "duration": self.duration,
            "video": asdict(self.video) if self.video else None,
            "audio": asdict(self.audio) if self.audio else None,
        }


# A render probes its inputs several times (checks, plan, reader), a batch once per job,
# and each probe opens the file and decodes its first frames (~10 ms). A file that has
# not changed (same size, modification time and inode) gives the answer it gave.
_MEMO_SIZE = 256
_memo: OrderedDict[tuple[object, ...], MediaInfo] = OrderedDict()
_memo_lock = threading.Lock()


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Describe a media file, after checking that its first frames really decode.

    Raises InputError for a missing, empty, unreadable, truncated or undecodable file.
    """
    key = _file_key(path)
    if key is not None:
        with _memo_lock:
            known = _memo.get(key)
            if known is not None:
                _memo.move_to_end(key)
                return known
    info = _probe(Path(path))
    if key is not None:
        with _memo_lock:
            _memo[key] = info
            while len(_memo) > _MEMO_SIZE:
                _memo.popitem(last=False)
    return info


def _file_key(path: str | os.PathLike[str]) -> tuple[object, ...] | None:
    """The file as it is now, or None (not a file we can stat: probe says why)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return (os.fspath(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def _probe(path: Path) -> MediaInfo:
    name = str(path)
    with open_input(path) as container:
        vstream = video_stream(container)
        astream = audio_stream(container)
        if vstream is None and astream is None:
            raise InputError(f"{name}: has no audio or video stream")
        first_video = first_frames(container, name, [vstream, astream])
        video = _video_info(container, path, vstream, first_video) if vstream is not None else None
        audio = _audio_info(container, astream, path) if astream is not None else None
        duration = container_duration(container)
        if duration is None:
            duration = max(video.duration if video else 0.0, audio.duration if audio else 0.0)
        return MediaInfo(path, container.format.name, duration, video, audio)


def _video_info(
    container: InputContainer, path: Path, stream: VideoStream, first: VideoFrame | None
) -> VideoInfo:
    assert first is not None  # first_frames saw it
    rotation = display_rotation(first, stream)
    width, height = first.width, first.height
    if rotation in (90, 270):
        width, height = height, width
    is_image = is_image_container(container, path)
    codec = stream.codec_context.name
    if is_image:
        fps = IMAGE_FPS
        return VideoInfo(width, height, float(fps), 1, rotation, codec, True, float(1 / fps))
    fps = choose_rate(stream.average_rate, stream.guessed_rate)
    duration = stream_duration(stream)
    if duration is None:
        duration = container_duration(container) or 0.0
    frame_count = max(1, round(duration * fps))
    return VideoInfo(width, height, float(fps), frame_count, rotation, codec, False, duration)


def _audio_info(container: InputContainer, stream: AudioStream, path: Path) -> AudioInfo:
    duration = stream_duration(stream)
    if duration is None:
        duration = container_duration(container) or 0.0
    declared = _wav_declared_seconds(path) if container.format.name == "wav" else None
    if declared is not None and declared <= duration:
        declared = None
    return AudioInfo(stream.rate, stream.channels, stream.codec_context.name, duration, declared)


def _wav_declared_seconds(path: Path) -> float | None:
    """data chunk size / byte rate, from a RIFF WAVE header (None if it has none)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return None
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, byte_rate = 12, 0
    while pos + 8 <= len(head):
        chunk, size = head[pos : pos + 4], struct.unpack("<I", head[pos + 4 : pos + 8])[0]
        if chunk == b"fmt " and pos + 16 <= len(head):
            byte_rate = struct.unpack("<I", head[pos + 16 : pos + 20])[0]
        elif chunk == b"data":
            streaming = size in (0, 0xFFFFFFFF)  # written before the length was known
            return None if streaming or not byte_rate else size / byte_rate
        pos += 8 + size + size % 2
    return None


def cut_short(path: Path, audio: AudioInfo, decoded_s: float) -> str | None:
    """A warning when a file decodes to clearly less than its header says (a copy cut
    short, half a download): the render would silently be shorter."""
    header_s = max(audio.duration, audio.declared_duration or 0.0)
    if header_s - decoded_s <= max(0.1, 0.02 * header_s):
        return None
    return (
        f"{path}: the file says it lasts {header_s:.2f} s but only {decoded_s:.2f} s "
        "decode (cut short or damaged?); using the decodable part"
    )


def choose_rate(average: Fraction | None, guessed: Fraction | None) -> Fraction:
    """The constant rate to decode a stream at.

    FFmpeg's guessed rate (r_frame_rate: the finest regular grid the timestamps sit on)
    is the camera's rate even when frames were dropped (a "30 fps" clip with gaps averages
    less); it is taken unless it looks like a timestamp artefact (far above the average,
    as phones' VFR clips give), in which case the average rate is used.
    """
    avg = average if average and average > 0 else None
    guess = guessed if guessed and 0 < guessed <= MAX_FPS else None
    if guess is not None and (avg is None or guess <= 2 * avg):
        return Fraction(guess)
    if avg is not None and avg <= MAX_FPS:
        return Fraction(avg)
    return IMAGE_FPS  # no usable rate at all: a common default
