"""All media I/O, in-process with PyAV: probe, decode to numpy, load audio, encode + mux.

Conventions:
- Frames are upright BGR uint8 H×W×3 arrays (rotation metadata already applied).
- `VideoInfo.rotation` is in the legacy `rotate`-tag sense: degrees CLOCKWISE a player
  turns the coded picture to show it (a phone's portrait clip says 90). FFmpeg's display
  matrix (and PyAV's `frame.rotation`) counts counter-clockwise; `_clockwise` converts.
- A video is decoded at one constant rate (`VideoInfo.fps`); variable-frame-rate sources
  are resampled by timestamp, so output frame i always means time i / fps.
- Every problem with an input file raises `InputError("NAME: problem")`; FFmpeg's own
  exceptions never leave this module.
- The writer encodes H.264 (libx264, yuv420p, BT.709) + AAC into NAME.mp4.part and renames
  it on close(), so a failed or cancelled render leaves nothing at the output path.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from weakref import WeakSet

import av
import av.error
import cv2
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.stream import Disposition
from av.video.frame import VideoFrame
from av.video.reformatter import ColorRange, Colorspace, VideoReformatter
from av.video.stream import VideoStream

from app.engine.errors import InputError
from app.engine.settings import PRESETS

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp"})
IMAGE_FPS = Fraction(25)  # the rate a still image "plays" at
MAX_FPS = 240  # a guessed rate above this is a timestamp artefact, not a frame rate
MAX_BAD_PACKETS = 50  # undecodable packets tolerated (and skipped) before a file counts as corrupt
SEEK_MARGINS_S: tuple[float | None, ...] = (0.0, 2.0, 10.0, None)  # None: from the start
OUT_AUDIO_RATE = 48_000
OUT_AUDIO_BITRATE = 160_000
AAC_FRAME = 1024  # samples per AAC frame
_COLORSPACE_UNSPECIFIED = 2  # AVCOL_SPC_UNSPECIFIED
_BT709 = 1  # AVCOL_SPC_BT709 / AVCOL_PRI_BT709 / AVCOL_TRC_BT709
_RANGE_MPEG = 1  # AVCOL_RANGE_MPEG: limited ("TV") range
_ISO_BMFF_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"styp")

_T = TypeVar("_T")


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


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    format: str
    duration: float  # seconds
    video: VideoInfo | None
    audio: AudioInfo | None

    def to_dict(self) -> dict:
        """JSON-ready (`lipsync-studio probe FILE`)."""
        return {
            "path": str(self.path),
            "format": self.format,
            "duration": self.duration,
            "video": asdict(self.video) if self.video else None,
            "audio": asdict(self.audio) if self.audio else None,
        }


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Describe a media file, after checking that its first frames really decode.

    Raises InputError for a missing, empty, unreadable, truncated or undecodable file.
    """
    path = Path(path)
    name = path.name
    with _open_input(path) as container:
        vstream = _video_stream(container)
        astream = _audio_stream(container)
        if vstream is None and astream is None:
            raise InputError(f"{name}: has no audio or video stream")
        first_video = _first_frames(container, name, [vstream, astream])
        video = (
            _video_info(container, path, vstream, first_video) if vstream is not None else None
        )
        audio = _audio_info(container, astream) if astream is not None else None
        duration = _container_duration(container)
        if duration is None:
            duration = max(video.duration if video else 0.0, audio.duration if audio else 0.0)
        return MediaInfo(path, container.format.name, duration, video, audio)


def _video_info(
    container: InputContainer, path: Path, stream: VideoStream, first: VideoFrame | None
) -> VideoInfo:
    assert first is not None  # _first_frames saw it
    rotation = _rotation(first, stream)
    width, height = first.width, first.height
    if rotation in (90, 270):
        width, height = height, width
    is_image = _is_image(container, path)
    codec = stream.codec_context.name
    if is_image:
        fps = IMAGE_FPS
        return VideoInfo(width, height, float(fps), 1, rotation, codec, True, float(1 / fps))
    fps = choose_rate(stream.average_rate, stream.guessed_rate)
    duration = _stream_duration(stream)
    if duration is None:
        duration = _container_duration(container) or 0.0
    frame_count = max(1, round(duration * fps))
    return VideoInfo(width, height, float(fps), frame_count, rotation, codec, False, duration)


def _audio_info(container: InputContainer, stream: AudioStream) -> AudioInfo:
    duration = _stream_duration(stream)
    if duration is None:
        duration = _container_duration(container) or 0.0
    return AudioInfo(stream.rate, stream.channels, stream.codec_context.name, duration)


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


# -- decoding video ----------------------------------------------------------------------


def open_video(path: str | os.PathLike[str]) -> VideoReader:
    return VideoReader(path)


class VideoReader:
    """Upright BGR frames of a video (or a still image) at a constant rate.

    Each frames() call opens its own decoder, so several iterators may be alive at once
    (the pipeline re-reads stretches backwards while extending a short video).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        media = probe(self.path)
        if media.video is None:
            raise InputError(f"{self.path.name}: has no video stream")
        self.info: VideoInfo = media.video
        # The exact rate; the writer derives the same Fraction from the float.
        self._fps = Fraction(self.info.fps).limit_denominator(1001)
        self._live: WeakSet[Iterator[np.ndarray]] = WeakSet()
        self._closed = False

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the decoders of frames() iterators still open (call from the reading thread)."""
        self._closed = True
        for frames in list(self._live):
            frames.close()  # type: ignore[attr-defined]

    def frames(self, start: int = 0) -> Iterator[np.ndarray]:
        """Frames from output index `start` to the end of the stream, one at a time.

        Output frame i shows the latest source frame whose timestamp is <= i / fps
        (within a quarter frame), so a variable-rate source has frames repeated or
        dropped. A still image yields exactly one frame. Arrays are C-contiguous, owned
        and writable: callers may draw on them.
        """
        if start < 0:
            raise ValueError(f"start must be >= 0, not {start}")
        if self._closed:
            raise RuntimeError(f"{self.path.name}: the video reader is closed")
        frames = self._image(start) if self.info.is_image else self._video(start)
        self._live.add(frames)
        return frames

    def _image(self, start: int) -> Iterator[np.ndarray]:
        if start > 0:
            return
        with _open_input(self.path) as container:
            stream = _video_stream(container)
            assert stream is not None  # probe saw it
            for frame in _decode(container, stream, self.path.name):
                yield _BgrConverter(self.info.rotation)(frame)
                return
        raise InputError(f"{self.path.name}: no image could be decoded")

    def _video(self, start: int) -> Iterator[np.ndarray]:
        name = self.path.name
        fps = self._fps
        tol = float(0.25 / fps)  # timestamps are rounded to the stream's time base
        target = float(start / fps)
        can_seek = True
        for margin in SEEK_MARGINS_S:
            if not can_seek and margin is not None:
                continue
            with _open_input(self.path) as container:
                stream = _video_stream(container)
                assert stream is not None  # probe saw it
                stream.codec_context.thread_type = "AUTO"
                origin = stream.start_time or 0
                convert = _BgrConverter(self.info.rotation)
                # The frame shown at `target` is the last one at or before target + tol.
                seek_to = None if margin is None else target + tol - margin
                seeking = can_seek and start > 0 and seek_to is not None and seek_to > 0
                if seeking:
                    assert seek_to is not None
                    offset = origin + int(seek_to / (stream.time_base or Fraction(1, 90_000)))
                    try:
                        container.seek(offset, stream=stream, backward=True)
                    except av.error.FFmpegError as exc:  # raw streams cannot seek
                        log.debug("%s: cannot seek (%s); decoding from the start", name, exc)
                        can_seek = False
                        continue  # a fresh container: the failed seek may have moved this one
                timed = _timed(_decode(container, stream, name), stream, origin, fps)
                if seeking:
                    first = next(timed, None)
                    if first is None or first[0] > target + tol:
                        # Nothing decodable after the seek point (MPEG-TS seeks by bytes and
                        # may land past the last keyframe), or it landed after the frame we
                        # need (a keyframe shown after it is decoded, a poor index): go back
                        # further. Past the end of the stream this ends up yielding nothing.
                        log.debug("%s: seek to frame %d fell short; going back", name, start)
                        continue
                    timed = _chain([first], timed)
                for _, frame in resample(timed, fps, start):
                    yield convert(frame)
                return


def resample(
    timed: Iterable[tuple[float, float, _T]], fps: Fraction, start: int = 0
) -> Iterator[tuple[int, _T]]:
    """Map source frames (time, duration, payload), in display order, to a constant rate.

    Yields (i, payload) for i = start, start+1, … where the payload is the latest
    source frame whose time is <= i/fps + a quarter frame; output frames before the
    first source frame show that first frame. The last source frame is held until
    its end time (time + duration).
    """
    tol = float(0.25 / fps)
    step = 1 / fps
    i = start
    pending: _T | None = None
    have = False
    end = 0.0
    for t, duration, payload in timed:
        # Output frames whose time comes before this source frame show the previous one.
        while float(i * step) + tol < t:
            yield i, (pending if have else payload)  # type: ignore[misc]
            i += 1
        pending, have = payload, True
        end = t + (duration if duration > 0 else float(step))
    if not have:
        return
    while float(i * step) < end - tol:
        yield i, pending  # type: ignore[misc]
        i += 1


def _timed(
    frames: Iterator[av.frame.Frame], stream: VideoStream, origin: int, fps: Fraction
) -> Iterator[tuple[float, float, av.frame.Frame]]:
    """(seconds from the stream's start, duration in seconds, frame)."""
    tb = stream.time_base or Fraction(1, 90_000)
    step = float(1 / fps)
    last: float | None = None
    for frame in frames:
        if frame.pts is None:  # some raw streams: assume the nominal rate
            t = 0.0 if last is None else last + step
        else:
            t = float((frame.pts - origin) * tb)
        duration = float(frame.duration * tb) if frame.duration else step
        last = t
        yield t, duration, frame


class _BgrConverter:
    """Decoded frame -> upright, owned BGR array (one swscale context per iterator)."""

    def __init__(self, rotation: int) -> None:
        self._reformatter = VideoReformatter()
        self._rotate = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180,
                        270: cv2.ROTATE_90_COUNTERCLOCKWISE}.get(rotation)

    def __call__(self, frame: av.frame.Frame) -> np.ndarray:
        assert isinstance(frame, VideoFrame)
        # Untagged HD is BT.709 in practice (players assume so; swscale would use 601).
        untagged_hd = frame.colorspace == _COLORSPACE_UNSPECIFIED and frame.height >= 720
        src = Colorspace.ITU709 if untagged_hd else None
        bgr = self._reformatter.reformat(frame, format="bgr24", src_colorspace=src).to_ndarray()
        if self._rotate is not None:
            return cv2.rotate(bgr, self._rotate)  # a new contiguous array
        if not (bgr.flags.c_contiguous and bgr.flags.writeable and bgr.flags.owndata):
            bgr = bgr.copy()  # drop the row padding; own the memory
        return bgr


# -- decoding audio ----------------------------------------------------------------------


def load_audio(path: str | os.PathLike[str], sample_rate: int = 16000) -> np.ndarray:
    """The whole audio track of a file as mono float32 in [-1, 1] at `sample_rate`."""
    path = Path(path)
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, not {sample_rate}")
    chunks: list[np.ndarray] = []
    with _open_input(path) as container:
        stream = _audio_stream(container)
        if stream is None:
            raise InputError(f"{path.name}: has no audio stream")
        # Mono as the mean of the channels (librosa's to_mono, which the models were
        # trained on); swresample's downmix would scale stereo by 1/sqrt(2) each and clip.
        resampler = _Resampler("fltp", None, sample_rate)
        stats = _DecodeStats()
        for frame in _decode(container, stream, path.name, stats):
            assert isinstance(frame, AudioFrame)
            chunks.extend(a.mean(axis=0) for a in resampler.resample(frame))
        chunks.extend(a.mean(axis=0) for a in resampler.flush())
        declared = _stream_duration(stream) or _container_duration(container)
        exact = declared if _is_mp4(container) else None
    if not chunks:
        raise InputError(f"{path.name}: truncated or corrupt (no audio could be decoded)")
    audio = np.concatenate(chunks).astype(np.float32, copy=False)
    decoded = len(audio) / sample_rate
    if stats.bad_packets and declared and decoded < 0.9 * declared:
        # Damaged packets and much less audio than the header promises: cut short.
        raise InputError(
            f"{path.name}: truncated or corrupt (decoded {decoded:.1f} s of the "
            f"{declared:.1f} s it declares)"
        )
    if exact:
        # MP4's edit list gives the exact length; FFmpeg drops the encoder's leading
        # padding but keeps the trailing one (up to a frame of silence).
        audio = audio[: round(exact * sample_rate)]
    np.clip(audio, -1.0, 1.0, out=audio)  # float decoders (mp3, aac) can overshoot a little
    return audio


class _Resampler:
    """av.AudioResampler that survives a change of input format mid-stream.

    PyAV's resampler is fixed to its first input's format, layout and rate; a stream
    that changes them (a spliced broadcast recording) gets a fresh one.
    """

    def __init__(self, format: str, layout: str | None, rate: int) -> None:
        self._args = (format, layout, rate)  # layout None: keep the input's
        self._resampler: AudioResampler | None = None
        self._key: tuple[str, str, int] | None = None

    def resample(self, frame: AudioFrame) -> list[np.ndarray]:
        key = (frame.format.name, frame.layout.name, frame.sample_rate)
        out: list[np.ndarray] = []
        if self._key is not None and key != self._key:
            out = self.flush()
        if self._resampler is None:
            self._resampler = AudioResampler(*self._args)
            self._key = key
        frame.pts = None  # we concatenate samples; timestamps only make swr pad or drop
        out.extend(f.to_ndarray() for f in self._resampler.resample(frame))
        return out

    def flush(self) -> list[np.ndarray]:
        if self._resampler is None:
            return []
        out = [f.to_ndarray() for f in self._resampler.resample(None)]
        self._resampler, self._key = None, None
        return out


class _AudioSource:
    """A file's original audio, decoded lazily, as 48 kHz float planar samples."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with ExitStack() as stack:
            container = stack.enter_context(_open_input(path))
            stream = _audio_stream(container)
            if stream is None:
                raise InputError(f"{path.name}: has no audio stream")
            self._stack = stack.pop_all()  # stays open until close()
        self.channels = 2 if stream.channels >= 2 else 1
        self.layout = "stereo" if self.channels == 2 else "mono"
        self._chunks = self._decode(container, stream)
        self._buffer: deque[np.ndarray] = deque()
        self._buffered = 0
        self._done = False

    def _decode(self, container: InputContainer, stream: AudioStream) -> Iterator[np.ndarray]:
        resampler = _Resampler("fltp", self.layout, OUT_AUDIO_RATE)
        for frame in _decode(container, stream, self.path.name):
            assert isinstance(frame, AudioFrame)
            yield from resampler.resample(frame)
        yield from resampler.flush()

    def read(self, n: int) -> np.ndarray:
        """The next n samples as (channels, n) float32; silence once the file has ended."""
        while self._buffered < n and not self._done:
            chunk = next(self._chunks, None)
            if chunk is None:
                self._done = True
                break
            self._buffer.append(chunk)
            self._buffered += chunk.shape[1]
        out = np.zeros((self.channels, n), dtype=np.float32)
        filled = 0
        while filled < n and self._buffer:
            chunk = self._buffer[0]
            take = min(n - filled, chunk.shape[1])
            out[:, filled : filled + take] = chunk[:, :take]
            filled += take
            if take == chunk.shape[1]:
                self._buffer.popleft()
            else:
                self._buffer[0] = chunk[:, take:]
        self._buffered -= filled
        return out

    def close(self) -> None:
        self._chunks.close()  # type: ignore[attr-defined]
        self._stack.close()


# -- encoding ----------------------------------------------------------------------------


class VideoWriter:
    """H.264 + AAC MP4 writer: frames in, `output` out only when close() succeeds.

    The encoded size is rounded DOWN to even numbers (yuv420p needs them): an odd-sized
    frame loses its last column and/or row. Audio, when given, is the ORIGINAL file's
    audio, re-encoded at 48 kHz and encoded progressively alongside the video, so the
    muxer never holds more than a few frames' worth; it is cut or padded with silence to
    `duration` seconds (default: the video's length).
    """

    def __init__(
        self,
        output: Path,
        width: int,
        height: int,
        fps: float,
        *,
        crf: int = 18,
        preset: str = "veryfast",
        audio_path: Path | None = None,
        duration: float | None = None,
    ) -> None:
        self.output = Path(output)
        self.part = self.output.with_name(self.output.name + ".part")
        if width < 2 or height < 2:
            raise ValueError(f"frame size {width}x{height} is too small to encode")
        if not fps or fps <= 0:
            raise ValueError(f"fps must be positive, not {fps}")
        if preset not in PRESETS:
            raise InputError(
                f"{self.output.name}: unknown preset {preset!r} (one of {', '.join(PRESETS)})"
            )
        if not 0 <= crf <= 51:
            raise InputError(f"{self.output.name}: crf must be 0..51, not {crf}")
        if duration is not None and duration <= 0:
            raise ValueError(f"duration must be positive, not {duration}")
        self.width, self.height = width, height
        self.rate = Fraction(fps).limit_denominator(1001)
        self._duration = duration
        self._frames = 0
        self._audio_sent = 0  # samples
        self._state = "open"
        self._reformatter = VideoReformatter()
        self._audio: _AudioSource | None = None
        self._container: OutputContainer | None = None
        try:
            # FFmpeg opens the file only at the first packet: find a bad folder now.
            self.part.open("wb").close()
        except OSError as exc:
            raise InputError(
                f"{self.output.name}: cannot write to {self.part.parent} ({exc.strerror or exc})"
            ) from None
        try:
            if audio_path is not None:
                self._audio = _AudioSource(Path(audio_path))
            self._container = av.open(
                str(self.part), "w", format="mp4", options={"movflags": "+faststart"}
            )
            self._vstream = self._add_video(crf, preset)
            self._astream = self._add_audio() if self._audio is not None else None
        except BaseException:
            self.abort()
            raise

    def _add_video(self, crf: int, preset: str) -> VideoStream:
        assert self._container is not None
        stream = self._container.add_stream(
            "libx264", rate=self.rate, options={"crf": str(crf), "preset": preset}
        )
        stream.width, stream.height = self.width - self.width % 2, self.height - self.height % 2
        stream.pix_fmt = "yuv420p"
        ctx = stream.codec_context
        ctx.time_base = 1 / self.rate  # pts = frame index: exact
        # Tag what we convert with, so players do not guess (they guess 601 for SD).
        ctx.colorspace = ctx.color_primaries = ctx.color_trc = _BT709
        ctx.color_range = _RANGE_MPEG
        return stream

    def _add_audio(self) -> AudioStream:
        assert self._container is not None and self._audio is not None
        stream = self._container.add_stream("aac", rate=OUT_AUDIO_RATE)
        ctx = stream.codec_context
        ctx.layout = self._audio.layout
        ctx.format = "fltp"  # the native encoder's only sample format
        ctx.bit_rate = OUT_AUDIO_BITRATE
        ctx.time_base = Fraction(1, OUT_AUDIO_RATE)
        return stream

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abort()
        elif self._state == "open":
            self.close()

    @property
    def frames_written(self) -> int:
        return self._frames

    @property
    def audio_seconds(self) -> float:
        """Seconds of audio encoded so far (it follows the video as frames are written)."""
        return self._audio_sent / OUT_AUDIO_RATE

    def write(self, frame_bgr: np.ndarray) -> None:
        if self._state != "open":
            raise RuntimeError(f"{self.output.name}: writer is {self._state}")
        if frame_bgr.shape != (self.height, self.width, 3) or frame_bgr.dtype != np.uint8:
            raise ValueError(
                f"expected a {self.height}x{self.width}x3 uint8 frame, "
                f"got {frame_bgr.shape} {frame_bgr.dtype}"
            )
        even = frame_bgr[: self.height - self.height % 2, : self.width - self.width % 2]
        source = VideoFrame.from_ndarray(np.ascontiguousarray(even), format="bgr24")
        frame = self._reformatter.reformat(
            source, format="yuv420p", dst_colorspace=Colorspace.ITU709,
            dst_color_range=ColorRange.MPEG,
        )
        frame.pts = self._frames
        frame.time_base = 1 / self.rate
        self._mux(self._vstream.encode(frame))
        self._frames += 1
        if self._astream is not None:
            until = round(self._frames / self.rate * OUT_AUDIO_RATE)
            if self._duration is not None:
                until = min(until, self._total_audio_samples())
            self._encode_audio(until, final=False)

    def close(self) -> Path:
        """Flush, finish the audio, close and rename NAME.mp4.part -> NAME.mp4."""
        if self._state == "closed":
            return self.output
        if self._state != "open":
            raise RuntimeError(f"{self.output.name}: writer is {self._state}")
        try:
            if self._frames == 0:
                raise RuntimeError(f"{self.output.name}: no frames were written")
            self._mux(self._vstream.encode())  # a bare encode() flushes
            if self._astream is not None:
                self._encode_audio(self._total_audio_samples(), final=True)
                self._mux(self._astream.encode())
            assert self._container is not None
            self._container.close()
            self._container = None
            self._close_audio()
            os.replace(self.part, self.output)
        except BaseException:
            self.abort()
            raise
        self._state = "closed"
        log.info("wrote %s: %d frames at %s fps", self.output.name, self._frames, self.rate)
        return self.output

    def abort(self) -> None:
        """Stop and delete the .part file; safe to call any number of times."""
        if self._state == "closed":
            return
        self._state = "aborted"
        if self._container is not None:
            try:
                self._container.close()
            except Exception as exc:  # noqa: BLE001 - the file is deleted anyway
                log.debug("closing aborted %s: %s", self.part.name, exc)
            self._container = None
        self._close_audio()
        self.part.unlink(missing_ok=True)

    def _close_audio(self) -> None:
        if self._audio is not None:
            self._audio.close()
            self._audio = None

    def _total_audio_samples(self) -> int:
        seconds = self._duration if self._duration is not None else self._frames / self.rate
        return round(seconds * OUT_AUDIO_RATE)

    def _encode_audio(self, until: int, final: bool) -> None:
        """Encode audio up to sample `until`; only whole AAC frames unless `final`."""
        assert self._audio is not None and self._astream is not None
        while self._audio_sent < until:
            n = min(AAC_FRAME, until - self._audio_sent)
            if n < AAC_FRAME and not final:
                return
            frame = AudioFrame.from_ndarray(
                self._audio.read(n), format="fltp", layout=self._audio.layout
            )
            frame.sample_rate = OUT_AUDIO_RATE
            frame.pts = self._audio_sent
            frame.time_base = Fraction(1, OUT_AUDIO_RATE)
            self._mux(self._astream.encode(frame))
            self._audio_sent += n

    def _mux(self, packets: list[av.Packet]) -> None:
        assert self._container is not None
        if packets:
            self._container.mux(packets)


# -- opening and checking inputs ---------------------------------------------------------


@contextmanager
def _open_input(path: Path) -> Iterator[InputContainer]:
    """av.open for reading, with every failure turned into a one-line InputError."""
    name = path.name
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
        container = av.open(str(path), "r", metadata_errors="replace")
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
    name = path.name
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
        b"RIFF", b"fLaC", b"OggS", b"ID3", b"\x1a\x45\xdf\xa3", b"FLV", b"caff", b"FORM",
        b"\x30\x26\xb2\x75", b"\x89PNG", b"\xff\xd8\xff", b"BM", b"GIF8", b"#!AMR",
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
            if pos + box_size > size and kind != b"moov":
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
    if not _is_mp4(container):
        return  # other formats' indexes are sparse or approximate
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
            f"{path.name}: truncated or corrupt (the file ends at byte {size:,} "
            f"but its index needs {needed:,})"
        )


def _first_frames(
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
class _DecodeStats:
    bad_packets: int = 0


def _decode(
    container: InputContainer, stream: Any, name: str, stats: _DecodeStats | None = None
) -> Iterator[av.frame.Frame]:
    """Frames of one stream; skips a few undecodable packets (as players do) with a warning."""
    stats = stats if stats is not None else _DecodeStats()
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


def _video_stream(container: InputContainer) -> VideoStream | None:
    """The main video stream; cover art in an audio file (attached_pic) does not count."""
    candidates = [
        s for s in container.streams.video if not s.disposition & Disposition.attached_pic
    ]
    if not candidates:
        return None
    best = container.streams.best("video")
    return best if best in candidates else candidates[0]  # type: ignore[return-value]


def _audio_stream(container: InputContainer) -> AudioStream | None:
    if not container.streams.audio:
        return None
    best = container.streams.best("audio")
    return best if isinstance(best, AudioStream) else container.streams.audio[0]


def _is_mp4(container: InputContainer) -> bool:
    return "mp4" in container.format.name or "mov" in container.format.name


def _is_image(container: InputContainer, path: Path) -> bool:
    fmt = container.format.name
    return fmt == "image2" or fmt.endswith("_pipe") or path.suffix.lower() in IMAGE_SUFFIXES


def _rotation(frame: VideoFrame, stream: VideoStream) -> int:
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


def _stream_duration(stream: Any) -> float | None:
    if stream.duration is None or stream.time_base is None:
        return None
    return float(stream.duration * stream.time_base)


def _container_duration(container: InputContainer) -> float | None:
    return container.duration / av.time_base if container.duration is not None else None


def _chain(first: list[_T], rest: Iterator[_T]) -> Iterator[_T]:
    yield from first
    yield from rest
