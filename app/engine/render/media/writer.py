"""Encoding: H.264 (or HEVC) + AAC MP4 via a temporary file renamed on close()
(app/engine/outputs.py)."""

from __future__ import annotations

import errno
import logging
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import av.error
import numpy as np
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.frame import VideoFrame
from av.video.reformatter import ColorRange, Colorspace, VideoReformatter
from av.video.stream import VideoStream

from app.engine import outputs
from app.engine.errors import InputError
from app.engine.render import frame_budget
from app.engine.render.media import encoders
from app.engine.render.media.audio_encoder import AudioEncoder
from app.engine.render.media.audio_reader import AudioSource
from app.engine.render.media.container import (
    BT709,
    OUT_AUDIO_BITRATE,
    OUT_AUDIO_RATE,
    RANGE_MPEG,
)
from app.engine.settings import ENCODERS, PRESETS

log = logging.getLogger(__name__)

# How far the audio thread may encode ahead of the video: enough that it never waits
# for a frame, little enough that the muxer's interleaving queue stays small.
AUDIO_AHEAD_S = 1.0


# PyAV's zero-copy wrapper (newer PyAVs), else its copying one; the same bytes either way.
_wrap_bgr = getattr(VideoFrame, "from_numpy_buffer", VideoFrame.from_ndarray)


class FrameConverter:
    """BGR arrays -> the encoder's input frames (BT.709, limited range).

    One per thread (it owns a swscale context): the pipeline converts in its blend
    thread, so the encoder's thread only encodes.
    """

    def __init__(self, width: int, height: int, pix_fmt: str) -> None:
        self.width, self.height, self.pix_fmt = width, height, pix_fmt
        self._reformatter = VideoReformatter()

    def __call__(self, frame_bgr: np.ndarray) -> VideoFrame:
        if frame_bgr.shape != (self.height, self.width, 3) or frame_bgr.dtype != np.uint8:
            raise ValueError(
                f"expected a {self.height}x{self.width}x3 uint8 frame, "
                f"got {frame_bgr.shape} {frame_bgr.dtype}"
            )
        even = np.ascontiguousarray(
            frame_bgr[: self.height - self.height % 2, : self.width - self.width % 2]
        )
        # A view of the array, not a copy (0.2-0.5 ms at 720p): swscale reads it once, now.
        source = _wrap_bgr(even, format="bgr24")
        return self._reformatter.reformat(
            source,
            format=self.pix_fmt,
            dst_colorspace=Colorspace.ITU709,
            dst_color_range=ColorRange.MPEG,
        )


class VideoWriter:
    """H.264 + AAC MP4 writer: frames in, `output` out only when close() succeeds.

    The encoded size is rounded DOWN to even numbers (yuv420p needs them): an odd-sized
    frame loses its last column and/or row. Audio, when given, is the ORIGINAL file's
    audio, re-encoded at 48 kHz and encoded progressively alongside the video, so the
    muxer never holds more than a few frames' worth; it is cut or padded with silence to
    `duration` seconds (default: the video's length).

    The frames go to a unique temporary file beside `output` (outputs.create_temp);
    close() renames it into place under `if_exists` (outputs.publish: "replace", or
    "rename" = never replace a file, take the next free NAME_N.mp4) and returns the path
    it went to. A full disk is an InputError naming the output.

    `encoder` is one of encoders.ENCODERS; one that cannot open here falls back to
    libx264 (encoders.choose). `encoder_threads` 0 lets the encoder choose.
    `audio_nice`: added to the audio encoder thread's nice value (threads.py, "Priorities").
    `reproducible`: the same frames give the same bytes in every run (encoders.setup).
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
        if_exists: outputs.IfExists = "replace",
        encoder: str = encoders.LIBX264,
        encoder_threads: int = 0,
        audio_nice: int = 0,
        reproducible: bool = False,
    ) -> None:
        self.output = Path(output)
        self.if_exists: outputs.IfExists = if_exists
        if width < 2 or height < 2:
            raise ValueError(f"frame size {width}x{height} is too small to encode")
        if not fps or fps <= 0:
            raise ValueError(f"fps must be positive, not {fps}")
        if preset not in PRESETS:
            raise InputError(
                f"{self.output}: unknown preset {preset!r} (one of {', '.join(PRESETS)})"
            )
        if not 0 <= crf <= 51:
            raise InputError(f"{self.output}: crf must be 0..51, not {crf}")
        if duration is not None and duration <= 0:
            raise ValueError(f"duration must be positive, not {duration}")
        if encoder not in ENCODERS:
            raise InputError(
                f"{self.output}: unknown encoder {encoder!r} (one of {', '.join(ENCODERS)})"
            )
        self.width, self.height = width, height
        self.rate = Fraction(fps).limit_denominator(1001)
        self._duration = duration
        self._frames = 0
        self._state = "open"
        even_w, even_h = width - width % 2, height - height % 2
        self.encoder = encoders.choose(encoder, even_w, even_h)
        # x264 keeps every frame it looks ahead: fewer for large frames (frame_budget.py)
        lookahead = frame_budget.encoder_lookahead(even_w * even_h * 3)
        self._setup = encoders.setup(
            self.encoder, crf, preset, encoder_threads, reproducible, lookahead
        )
        self._convert = self.converter()
        self._audio: AudioSource | None = None
        self._audio_encoder: AudioEncoder | None = None
        self._container: OutputContainer | None = None
        try:
            # FFmpeg opens the file only at the first packet: find a bad folder now.
            self.part = outputs.create_temp(self.output)
        except OSError as exc:
            raise self._write_error(exc) from None
        try:
            if audio_path is not None:
                self._audio = AudioSource(Path(audio_path))
            self._container = self._open_container()
            try:
                self._vstream = self._add_video()
            except av.error.FFmpegError as exc:
                if self.encoder == encoders.LIBX264:
                    raise
                # It opened alone (encoders.choose) but not with this stream's settings.
                log.warning("encoder %s failed to open (%s); using libx264", self.encoder, exc)
                self._container.close()
                self.encoder = encoders.LIBX264
                self._setup = encoders.setup(
                    self.encoder, crf, preset, encoder_threads, reproducible, lookahead
                )
                self._convert = self.converter()
                self._container = self._open_container()
                self._vstream = self._add_video()
            self._astream = self._add_audio() if self._audio is not None else None
            self._container.start_encoding()  # before the audio thread uses its encoder
            if self._audio is not None and self._astream is not None:
                self._audio_encoder = AudioEncoder(self._audio, self._astream, audio_nice)
        except BaseException:
            self.abort()
            raise

    def _open_container(self) -> OutputContainer:
        return av.open(str(self.part), "w", format="mp4", options={"movflags": "+faststart"})

    def _add_video(self) -> VideoStream:
        assert self._container is not None
        setup = self._setup
        stream = self._container.add_stream(setup.codec, rate=self.rate, options=setup.options)
        assert isinstance(stream, VideoStream)
        stream.width, stream.height = self.width - self.width % 2, self.height - self.height % 2
        stream.pix_fmt = setup.pix_fmt
        ctx = stream.codec_context
        ctx.time_base = 1 / self.rate  # pts = frame index: exact
        # Tag what we convert with, so players do not guess (they guess 601 for SD).
        ctx.colorspace = ctx.color_primaries = ctx.color_trc = BT709
        ctx.color_range = RANGE_MPEG
        ctx.open()  # now, not at the first frame: a bad option fails before any work
        return stream

    def _add_audio(self) -> AudioStream:
        assert self._container is not None and self._audio is not None
        stream = self._container.add_stream("aac", rate=OUT_AUDIO_RATE)
        ctx = stream.codec_context
        ctx.layout = self._audio.layout
        ctx.format = "fltp"  # the native encoder's only sample format
        ctx.bit_rate = OUT_AUDIO_BITRATE
        ctx.time_base = Fraction(1, OUT_AUDIO_RATE)
        ctx.open()  # here, not in the audio thread's first encode
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
    def audio_seconds(self) -> float:
        """Seconds of audio encoded so far: it follows the video as frames are written,
        at most AUDIO_AHEAD_S ahead of it (on its own thread: it may lag a little)."""
        return self._audio_encoder.sent / OUT_AUDIO_RATE if self._audio_encoder else 0.0

    def converter(self) -> FrameConverter:
        """A converter to this writer's input frames, for another thread to use."""
        return FrameConverter(self.width, self.height, self._setup.pix_fmt)

    def write(self, frame_bgr: np.ndarray) -> None:
        if self._state != "open":
            raise RuntimeError(f"{self.output}: writer is {self._state}")
        self.write_frame(self._convert(frame_bgr))

    def write_frame(self, frame: VideoFrame) -> None:
        """Encode a frame made by one of this writer's converters."""
        if self._state != "open":
            raise RuntimeError(f"{self.output}: writer is {self._state}")
        frame.pts = self._frames
        frame.time_base = 1 / self.rate
        self._mux(self._vstream.encode(frame))
        self._frames += 1
        if self._audio_encoder is not None:
            # Ahead of the video only when the length is known: never past the end.
            ahead = AUDIO_AHEAD_S if self._duration is not None else 0.0
            until = round((self._frames / self.rate + ahead) * OUT_AUDIO_RATE)
            if self._duration is not None:
                until = min(until, self._total_audio_samples())
            self._audio_encoder.advance(until)
            self._mux(self._audio_encoder.packets())

    def close(self) -> Path:
        """Flush, finish the audio, close and rename the temporary file into place."""
        if self._state == "closed":
            return self.output
        if self._state != "open":
            raise RuntimeError(f"{self.output}: writer is {self._state}")
        try:
            if self._frames == 0:
                raise RuntimeError(f"{self.output}: no frames were written")
            self._mux(self._vstream.encode())  # a bare encode() flushes
            if self._audio_encoder is not None:
                self._mux(self._audio_encoder.finish(self._total_audio_samples()))
            assert self._container is not None
            self._container.close()
            self._container = None
            self._close_audio()
            self.output = outputs.publish(self.part, self.output, self.if_exists)
        except OSError as exc:
            self.abort()
            raise self._write_error(exc) from None
        except BaseException:
            self.abort()
            raise
        self._state = "closed"
        log.info("wrote %s: %d frames at %s fps", self.output.name, self._frames, self.rate)
        return self.output

    def abort(self) -> None:
        """Stop and delete the temporary file; safe to call any number of times."""
        if self._state == "closed":
            return
        self._state = "aborted"
        self._close_audio()  # its thread first: it may be using the container's stream
        if self._container is not None:
            try:
                self._container.close()
            except Exception as exc:  # noqa: BLE001 - the file is deleted anyway
                log.debug("closing aborted %s: %s", self.part.name, exc)
            self._container = None
        self.part.unlink(missing_ok=True)

    def _close_audio(self) -> None:
        if self._audio_encoder is not None:
            self._audio_encoder.close()
            self._audio_encoder = None
        if self._audio is not None:
            self._audio.close()
            self._audio = None

    def _total_audio_samples(self) -> int:
        seconds = self._duration if self._duration is not None else self._frames / self.rate
        return round(seconds * OUT_AUDIO_RATE)

    def _mux(self, packets: list[av.Packet[Any]]) -> None:
        assert self._container is not None
        if packets:
            try:
                self._container.mux(packets)
            except OSError as exc:
                raise self._write_error(exc) from None

    def _write_error(self, exc: OSError) -> Exception:
        """A problem writing the output as one line naming it (InputError when the
        user can fix it: a full disk, a read-only or missing folder)."""
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return InputError(f"{self.output}: no space left on the device; free some and retry")
        if exc.errno == errno.EFBIG:
            return InputError(
                f"{self.output}: file too large for this disk or the process's size limit"
            )
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOTDIR):
            return InputError(
                f"{self.output}: cannot write to {self.output.parent} ({exc.strerror or exc})"
            )
        return exc


# -- opening and checking inputs ---------------------------------------------------------
