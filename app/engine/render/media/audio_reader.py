"""Decoding any audio track to mono float32, whole or in blocks."""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import numpy as np
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.container import InputContainer

from app.engine.errors import InputError
from app.engine.render.media.container import (
    OUT_AUDIO_RATE,
    DecodeStats,
    audio_stream,
    container_duration,
    decode_packets,
    is_mp4,
    open_input,
    stream_duration,
)

log = logging.getLogger(__name__)


def load_audio(path: str | os.PathLike[str], sample_rate: int = 16000) -> np.ndarray:
    """The whole audio track of a file as mono float32 in [-1, 1] at `sample_rate`."""
    path = Path(path)
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, not {sample_rate}")
    chunks: list[np.ndarray] = []
    with open_input(path) as container:
        stream = audio_stream(container)
        if stream is None:
            raise InputError(f"{path}: has no audio stream")
        # Mono as the mean of the channels (librosa's to_mono, which the models were
        # trained on); swresample's downmix would scale stereo by 1/sqrt(2) each and clip.
        resampler = _Resampler("fltp", None, sample_rate)
        stats = DecodeStats()
        for frame in decode_packets(container, stream, path.name, stats):
            assert isinstance(frame, AudioFrame)
            chunks.extend(a.mean(axis=0) for a in resampler.resample(frame))
        chunks.extend(a.mean(axis=0) for a in resampler.flush())
        declared = stream_duration(stream) or container_duration(container)
        exact = declared if is_mp4(container) else None
    if not chunks:
        raise InputError(f"{path}: truncated or corrupt (no audio could be decoded)")
    audio = np.concatenate(chunks).astype(np.float32, copy=False)
    decoded = len(audio) / sample_rate
    if stats.bad_packets and declared and decoded < 0.9 * declared:
        # Damaged packets and much less audio than the header promises: cut short.
        raise InputError(
            f"{path}: truncated or corrupt (decoded {decoded:.1f} s of the "
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


class AudioSource:
    """A file's original audio, decoded lazily, as 48 kHz float planar samples."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with ExitStack() as stack:
            container = stack.enter_context(open_input(path))
            stream = audio_stream(container)
            if stream is None:
                raise InputError(f"{path}: has no audio stream")
            self._stack = stack.pop_all()  # stays open until close()
        self.channels = 2 if stream.channels >= 2 else 1
        self.layout = "stereo" if self.channels == 2 else "mono"
        self._chunks = self._decode_stream(container, stream)
        self._buffer: deque[np.ndarray] = deque()
        self._buffered = 0
        self._done = False

    def _decode_stream(
        self, container: InputContainer, stream: AudioStream
    ) -> Iterator[np.ndarray]:
        resampler = _Resampler("fltp", self.layout, OUT_AUDIO_RATE)
        for frame in decode_packets(container, stream, self.path.name):
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
