"""The output's AAC audio, decoded, resampled and encoded on its own thread.

FFmpeg releases the GIL while it decodes and encodes, so this runs beside the video
encoder instead of in front of it: in the writer's thread the audio was ~15 % of a
720p draft render's critical path. The writer's thread still does all muxing (a
container is not thread-safe); it only collects the packets made here.
"""

from __future__ import annotations

import threading
from collections import deque
from fractions import Fraction
from typing import Any

import av
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream

from app.engine.render.media.audio_reader import AudioSource
from app.engine.render.media.container import AAC_FRAME, OUT_AUDIO_RATE
from app.engine.threads import lower_this_thread


class AudioEncoder:
    """Encodes `source` into `stream` up to the sample it is last told (`advance`).

    Only whole AAC frames until `finish`, which encodes the rest, flushes the encoder
    and waits. An error on the thread is raised in the caller's thread by the next
    `packets`/`finish`. `close` stops the thread without finishing.
    """

    def __init__(self, source: AudioSource, stream: AudioStream, nice: int = 0) -> None:
        self._source, self._stream = source, stream
        self._nice = nice  # added to the thread's nice value (threads.py, "Priorities")
        self._wake = threading.Condition()
        self._target = 0  # samples asked for
        self._final = False
        self._stop = False
        self._ready: deque[av.Packet[Any]] = deque()
        self._error: BaseException | None = None
        self.sent = 0  # samples encoded so far
        self._thread = threading.Thread(target=self._run, name="audio-encode", daemon=True)
        self._thread.start()

    def advance(self, until: int) -> None:
        """Encode up to sample `until` (never goes back)."""
        with self._wake:
            if until > self._target:
                self._target = until
                self._wake.notify()

    def packets(self) -> list[av.Packet[Any]]:
        """The packets encoded since the last call."""
        self._raise_error()
        out = []
        while self._ready:
            out.append(self._ready.popleft())
        return out

    def finish(self, total: int) -> list[av.Packet[Any]]:
        """Encode up to `total` samples (the last frame may be short), flush, wait."""
        with self._wake:
            self._target = max(self._target, total)
            self._final = True
            self._wake.notify()
        self._thread.join()
        return self.packets()

    def close(self) -> None:
        with self._wake:
            self._stop = True
            self._wake.notify()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self) -> None:
        lower_this_thread(self._nice)
        try:
            while True:
                with self._wake:
                    while not (self._stop or self._final or self._has_a_frame()):
                        self._wake.wait()
                    if self._stop:
                        return
                    target, final = self._target, self._final
                self._encode(target, final)
                if final:
                    self._ready.extend(self._stream.encode())  # a bare encode() flushes
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the writer's thread
            self._error = exc

    def _has_a_frame(self) -> bool:
        return self._target - self.sent >= AAC_FRAME

    def _encode(self, until: int, final: bool) -> None:
        layout = self._source.layout
        while self.sent < until and not self._stop:
            n = min(AAC_FRAME, until - self.sent)
            if n < AAC_FRAME and not final:
                return
            frame = AudioFrame.from_ndarray(self._source.read(n), format="fltp", layout=layout)
            frame.sample_rate = OUT_AUDIO_RATE
            frame.pts = self.sent
            frame.time_base = Fraction(1, OUT_AUDIO_RATE)
            self._ready.extend(self._stream.encode(frame))
            self.sent += n
