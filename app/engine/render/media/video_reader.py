"""Decoding video to upright BGR frames at one constant rate (VFR sources resampled)."""

from __future__ import annotations

import logging
import os
from collections.abc import Generator, Iterable, Iterator
from fractions import Fraction
from pathlib import Path
from weakref import WeakSet

import av
import av.error
import cv2
import numpy as np
from av.video.frame import VideoFrame
from av.video.reformatter import Colorspace, VideoReformatter
from av.video.stream import VideoStream

from app.engine.errors import InputError
from app.engine.render.media.container import (
    _T,
    COLORSPACE_UNSPECIFIED,
    SEEK_MARGINS_S,
    chain,
    decode_packets,
    open_input,
    video_stream,
)
from app.engine.render.media.hw_decode import choose as hw_decode_device
from app.engine.render.media.probe import VideoInfo, probe
from app.engine.render.media.stills import fit_still

log = logging.getLogger(__name__)

# -- decoding video ----------------------------------------------------------------------


def open_video(
    path: str | os.PathLike[str], hw_decode: str = "none", threads: int = 0, max_still_side: int = 0
) -> VideoReader:
    return VideoReader(path, hw_decode, threads, max_still_side)


class VideoReader:
    """Upright BGR frames of a video (or a still image) at a constant rate.

    Each frames() call opens its own decoder, so several iterators may be alive at once
    (the pipeline re-reads stretches backwards while extending a short video).
    `hw_decode` (settings.HW_DECODERS) decodes on a GPU where one works (hw_decode.py);
    `threads` is FFmpeg's decoder thread count (0: FFmpeg's choice; threads.py).
    A still whose long side is over `max_still_side` (0: never) is scaled down once, as
    it is read (stills.py); `info` is then its size as read, `source_info` the file's.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        hw_decode: str = "none",
        threads: int = 0,
        max_still_side: int = 0,
    ) -> None:
        self.path = Path(path)
        self._threads = threads
        self._hwaccel = hw_decode_device(hw_decode)
        media = probe(self.path)
        if media.video is None:
            raise InputError(f"{self.path}: has no video stream")
        self.source_info: VideoInfo = media.video
        self.info: VideoInfo = fit_still(media.video, max_still_side)
        # The exact rate; the writer derives the same Fraction from the float.
        self._fps = Fraction(self.info.fps).limit_denominator(1001)
        self._live: WeakSet[Generator[np.ndarray, None, None]] = WeakSet()
        self._closed = False

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the decoders of frames() iterators still open (call from the reading thread)."""
        self._closed = True
        for frames in list(self._live):
            frames.close()

    def frames(self, start: int = 0) -> Generator[np.ndarray, None, None]:
        """Frames from output index `start` to the end of the stream, one at a time.

        Output frame i shows the latest source frame whose timestamp is <= i / fps
        (within a quarter frame), so a variable-rate source has frames repeated or
        dropped. A still image yields exactly one frame. Arrays are C-contiguous, owned
        and writable: callers may draw on them.
        """
        if start < 0:
            raise ValueError(f"start must be >= 0, not {start}")
        if self._closed:
            raise RuntimeError(f"{self.path}: the video reader is closed")
        frames = self._image(start) if self.info.is_image else self._video(start)
        self._live.add(frames)
        return frames

    def _image(self, start: int) -> Generator[np.ndarray, None, None]:
        if start > 0:
            return
        with open_input(self.path) as container:
            stream = video_stream(container)
            assert stream is not None  # probe saw it
            for frame in decode_packets(container, stream, self.path.name):
                bgr = _BgrConverter(self.info.rotation)(frame)
                if self.info is not self.source_info:  # an oversized still: scaled once here
                    size = (self.info.width, self.info.height)
                    bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
                yield bgr
                return
        raise InputError(f"{self.path}: no image could be decoded")

    def _video(self, start: int) -> Generator[np.ndarray, None, None]:
        name = self.path.name
        fps = self._fps
        tol = float(0.25 / fps)  # timestamps are rounded to the stream's time base
        target = float(start / fps)
        can_seek = True
        for margin in SEEK_MARGINS_S:
            if not can_seek and margin is not None:
                continue
            with open_input(self.path, self._hwaccel) as container:
                stream = video_stream(container)
                assert stream is not None  # probe saw it
                stream.codec_context.thread_type = "AUTO"
                if self._threads:
                    stream.codec_context.thread_count = self._threads
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
                timed = _timed(decode_packets(container, stream, name), stream, origin, fps)
                if seeking:
                    first = next(timed, None)
                    if first is None or first[0] > target + tol:
                        # Nothing decodable after the seek point (MPEG-TS seeks by bytes and
                        # may land past the last keyframe), or it landed after the frame we
                        # need (a keyframe shown after it is decoded, a poor index): go back
                        # further. Past the end of the stream this ends up yielding nothing.
                        log.debug("%s: seek to frame %d fell short; going back", name, start)
                        continue
                    timed = chain([first], timed)
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
        self._rotate = {
            90: cv2.ROTATE_90_CLOCKWISE,
            180: cv2.ROTATE_180,
            270: cv2.ROTATE_90_COUNTERCLOCKWISE,
        }.get(rotation)

    def __call__(self, frame: av.frame.Frame) -> np.ndarray:
        assert isinstance(frame, VideoFrame)
        # Untagged HD is BT.709 in practice (players assume so; swscale would use 601).
        untagged_hd = frame.colorspace == COLORSPACE_UNSPECIFIED and frame.height >= 720
        src = Colorspace.ITU709 if untagged_hd else None
        bgr = self._reformatter.reformat(frame, format="bgr24", src_colorspace=src).to_ndarray()
        if self._rotate is not None:
            return cv2.rotate(bgr, self._rotate)  # a new contiguous array
        if not (bgr.flags.c_contiguous and bgr.flags.writeable and bgr.flags.owndata):
            bgr = bgr.copy()  # drop the row padding; own the memory
        return bgr
