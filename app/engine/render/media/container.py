"""Opening and checking media inputs: one-line InputErrors for every FFmpeg failure."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import av
import av.error
from av.audio.stream import AudioStream
from av.codec.hwaccel import HWAccel
from av.container import InputContainer
from av.stream import Disposition
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from app.engine.errors import InputError

log = logging.getLogger(__name__)

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp"})
IMAGE_FPS = Fraction(25)  # the rate a still image "plays" at
MAX_FPS = 240  # a guessed rate above this is a timestamp artefact, not a frame rate
MAX_BAD_PACKETS = 50  # undecodable packets tolerated (and skipped) before a file counts as corrupt
SEEK_MARGINS_S: tuple[float | None, ...] = (0.0, 2.0, 10.0, None)  # None: from the start
OUT_AUDIO_RATE = 48_000
OUT_AUDIO_BITRATE = 160_000
AAC_FRAME = 1024  # samples per AAC frame
COLORSPACE_UNSPECIFIED = 2  # AVCOL_SPC_UNSPECIFIED
BT709 = 1  # AVCOL_SPC_BT709 / AVCOL_PRI_BT709 / AVCOL_TRC_BT709
RANGE_MPEG = 1  # AVCOL_RANGE_MPEG: limited ("TV") range
_ISO_BMFF_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"styp")

_T = TypeVar("_T")


@contextmanager
def open_input(path: Path, hwaccel: HWAccel | None = None) -> Iterator[InputContainer]:
    """av.open for reading, with every failure turned into a one-line InputError.
    `hwaccel`: decode video on that device (hw_decode.choose made sure it works)."""
    name = str(path)  # as the user gave it: two takes/talk.mp4 are not one talk.mp4
    if not path.exists():
        raise InputError(f"{name}: file not found")
    if path.is_dir():
        raise InputError(f"{name}: is a folder, not a file")
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
    except PermissionError:
        raise InputError(f"{name}: cannot read the file (permission denied)") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read the file ({exc.strerror or exc})") from None
    if not head:
        raise InputError(f"{name}: file is empty (0 bytes)")
    try:
        container = av.open(str(path), "r", metadata_errors="replace", hwaccel=hwaccel)
    except av.error.FFmpegError as exc:
        log.debug("av.open(%s) failed: %r", path, exc)
        raise InputError(_open_failure(path, head, exc)) from None
    assert isinstance(container, InputContainer)
    try:
        with _translate(name):
            _check_complete(container, path)
            yield container
    finally:
        container.close()


@contextmanager
def _translate(name: str) -> Iterator[None]:
    """FFmpeg errors while reading an opened file -> InputError."""
    try:
        yield
    except av.error.DecoderNotFoundError as exc:
        raise InputError(f"{name}: no decoder for this file's codec ({_reason(exc)})") from None
    except av.error.FFmpegError as exc:
        log.debug("%s: %r", name, exc)
        raise InputError(f"{name}: truncated or corrupt ({_reason(exc)})") from None


def _open_failure(path: Path, head: bytes, exc: av.error.FFmpegError) -> str:
    name = str(path)
    if isinstance(exc, av.error.PermissionError):
        return f"{name}: cannot read the file (permission denied)"
    if not _looks_like_media(head):
        return f"{name}: not a media file FFmpeg can read"
    if head[4:8] in _ISO_BMFF_BOXES:
        missing = _mp4_problem(path)
        if missing:
            return f"{name}: truncated or corrupt ({missing})"
    return f"{name}: truncated or corrupt ({_reason(exc)})"


def _reason(exc: av.error.FFmpegError) -> str:
    return exc.strerror or type(exc).__name__


def _looks_like_media(head: bytes) -> bool:
    """Whether the first bytes carry a known container/codec signature (then a failure
    to open means a damaged file rather than something that never was media)."""
    signatures = (
        b"RIFF",
        b"fLaC",
        b"OggS",
        b"ID3",
        b"\x1a\x45\xdf\xa3",
        b"FLV",
        b"caff",
        b"FORM",
        b"\x30\x26\xb2\x75",
        b"\x89PNG",
        b"\xff\xd8\xff",
        b"BM",
        b"GIF8",
        b"#!AMR",
    )
    if head.startswith(signatures) or head[4:8] in _ISO_BMFF_BOXES:
        return True
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0  # MPEG audio sync


def _mp4_problem(path: Path) -> str | None:
    """Walk an ISO-BMFF file's top-level boxes: a missing index or a cut-off box."""
    size = path.stat().st_size
    pos, boxes = 0, set()
    with path.open("rb") as fh:
        while pos + 8 <= size:
            fh.seek(pos)
            header = fh.read(16)
            box_size, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if box_size == 1 and len(header) >= 16:
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:
                box_size = size - pos  # runs to the end of the file
            if box_size < 8:
                return f"bad box at byte {pos}"
            boxes.add(kind)
            if pos + box_size > size and kind == b"moov":
                return f"the file ends at byte {size:,}, inside its index (the 'moov' box)"
            if pos + box_size > size:
                lost = "the index is missing" if b"moov" not in boxes else "data is missing"
                box = kind.decode("latin-1")
                return f"the file ends at byte {size:,}, inside its '{box}' box; {lost}"
            pos += box_size
    if b"moov" not in boxes:
        return "no 'moov' index: the file was cut short or never finished writing"
    return None


def _check_complete(container: InputContainer, path: Path) -> None:
    """A truncated MP4/MOV whose index survived (moov first) still opens and decodes at
    the start; its index then points past the end of the file."""
    if not is_mp4(container):
        return  # other formats' indexes are sparse or approximate
    problem = _mp4_problem(path)  # an index cut short can look like "no streams" to FFmpeg
    if problem is not None:
        raise InputError(f"{path}: truncated or corrupt ({problem})")
    size = path.stat().st_size
    needed = 0
    for stream in container.streams:
        entries = stream.index_entries
        n = len(entries) if entries is not None else 0
        for k in range(max(0, n - 2), n):  # samples are stored in order: the last suffice
            entry = entries[k]
            needed = max(needed, entry.pos + entry.size)
    if needed > size:
        raise InputError(
            f"{path}: truncated or corrupt (the file ends at byte {size:,} "
            f"but its index needs {needed:,})"
        )


def first_frames(
    container: InputContainer, name: str, streams: list[VideoStream | AudioStream | None]
) -> VideoFrame | None:
    """Decode the first frame of each stream (proof that the file is readable); return
    the first video frame, which carries the display matrix."""
    wanted = [s for s in streams if s is not None]
    found: dict[int, object] = {}
    for stream in wanted:
        stream.codec_context.thread_type = "AUTO"
    for packet in container.demux(wanted):
        if packet.stream.index in found:
            continue
        try:
            frames = packet.decode()
        except av.error.DecoderNotFoundError:
            raise
        except av.error.FFmpegError as exc:
            raise InputError(f"{name}: truncated or corrupt ({_reason(exc)})") from None
        if frames:
            found[packet.stream.index] = frames[0]
            if len(found) == len(wanted):
                break
    first_video = None
    for stream in wanted:
        if stream.index not in found:
            raise InputError(
                f"{name}: truncated or corrupt (no {stream.type} frame could be decoded)"
            )
        if isinstance(found[stream.index], VideoFrame):
            first_video = found[stream.index]
    return first_video  # type: ignore[return-value]


@dataclass
class DecodeStats:
    bad_packets: int = 0


def decode_packets(
    container: InputContainer, stream: Any, name: str, stats: DecodeStats | None = None
) -> Iterator[av.frame.Frame]:
    """Frames of one stream; skips a few undecodable packets (as players do) with a warning."""
    stats = stats if stats is not None else DecodeStats()
    with _translate(name):
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError as exc:
                stats.bad_packets += 1
                if stats.bad_packets > MAX_BAD_PACKETS:
                    raise InputError(
                        f"{name}: truncated or corrupt ({stats.bad_packets} undecodable packets)"
                    ) from None
                log.warning("%s: skipped an undecodable %s packet (%s)", name, stream.type, exc)
                continue
            yield from frames


def video_stream(container: InputContainer) -> VideoStream | None:
    """The main video stream; cover art in an audio file (attached_pic) does not count."""
    candidates = [
        s for s in container.streams.video if not s.disposition & Disposition.attached_pic
    ]
    if not candidates:
        return None
    best = container.streams.best("video")
    return best if best in candidates else candidates[0]  # type: ignore[return-value]


def audio_stream(container: InputContainer) -> AudioStream | None:
    if not container.streams.audio:
        return None
    best = container.streams.best("audio")
    return best if isinstance(best, AudioStream) else container.streams.audio[0]


def is_mp4(container: InputContainer) -> bool:
    return "mp4" in container.format.name or "mov" in container.format.name


def is_image_container(container: InputContainer, path: Path) -> bool:
    fmt = container.format.name
    return fmt == "image2" or fmt.endswith("_pipe") or path.suffix.lower() in IMAGE_SUFFIXES


def display_rotation(frame: VideoFrame, stream: VideoStream) -> int:
    """Clockwise display rotation from the display matrix, else the legacy `rotate` tag."""
    ccw = frame.rotation  # FFmpeg copies the stream's display matrix onto each frame
    if ccw:
        return _clockwise(-ccw)
    for key, value in stream.metadata.items():
        if key.lower() == "rotate":
            try:
                return _clockwise(float(value))
            except ValueError:
                log.warning("ignoring a rotate tag that is not a number: %r", value)
    return 0


def _clockwise(degrees: float) -> int:
    """Snap to 0/90/180/270 clockwise (display matrices of other angles are not used)."""
    snapped = int(round(degrees / 90.0)) * 90 % 360
    if abs((degrees - snapped + 180) % 360 - 180) > 1:
        log.warning("rotation of %.1f degrees treated as %d", degrees, snapped)
    return snapped


def stream_duration(stream: Any) -> float | None:
    if stream.duration is None or stream.time_base is None:
        return None
    return float(stream.duration * stream.time_base)


def container_duration(container: InputContainer) -> float | None:
    return container.duration / av.time_base if container.duration is not None else None


def chain(first: list[_T], rest: Iterator[_T]) -> Iterator[_T]:
    yield from first
    yield from rest
