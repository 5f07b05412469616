"""How many frames a render holds at once, from their size: memory bounded by bytes.

A render holds decoded frames in five places: the decoder (each FFmpeg frame thread
decodes a frame of its own), the queues between its stages, the face track builder (a
frame waits there until the detection two keys later settles its face: up to 2 x the
detect interval), the model stage (one batch per worker plus the one being gathered)
and libx264 (every frame its preset looks ahead). Counts that suit 720p and 1080p (6 MB
a frame) multiply a 4K frame (25 MB) or a 4096-px still (34 MB) into gigabytes, so
each place also has a byte budget and gets the smaller of the two. Up to 1080p only the
queues are shallower (6 frames at 1080p); at 4K each place holds one to four frames,
and a whole 4K render peaks under 1.2 GB (bench/large_frames.py measures it, and one
capped by count alone).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # media imports this module (the encoder's lookahead)
    from app.engine.render.media import VideoInfo

CHANNEL_FRAMES = 8  # frames waiting between two stages: enough to smooth out bursts
# Per queue between two stages (4 queues): one 4K frame, six 1080p ones. Past a frame or
# two a deeper queue buys no speed: the slowest stage sets the pace, a frame of slack
# keeps it busy.
CHANNEL_BYTES = 40 << 20
# Per model batch ((workers + 1) batches in flight). The model sees crops, not frames:
# a smaller batch of large frames costs little speed (on a GPU, batches of 1-2 crops).
BATCH_BYTES = 64 << 20
# Frames the face track builder holds (2 x the detect interval at most): a shorter
# interval for large frames. Detection runs on a downscaled copy, so it costs little.
HELD_BYTES = 128 << 20
# FFmpeg's frame threads: ~one frame each (measured at 4K: 25 MB a thread): two at 4K,
# eight at 1080p. One thread alone decodes 4K H.264 at ~30 fps here, ten times a CPU
# render's pace at 4K.
DECODE_BYTES = 48 << 20
# libx264's lookahead (veryfast: 10 frames, medium: 40), ~one BGR frame each at 4K:
# four frames at 4K, the preset's own up to 1080p at veryfast. mb-tree rate control
# works on a shorter lookahead too; the file grows by a few percent at most.
LOOKAHEAD_BYTES = 96 << 20


def frame_bytes(video: VideoInfo) -> int:
    """Bytes of one decoded BGR frame of `video` (as the render reads it)."""
    return video.width * video.height * 3


def channel_capacity(frame_bytes: int, most: int = CHANNEL_FRAMES) -> int:
    """How many frames of `frame_bytes` one queue holds: at least one (a queue of none
    would deadlock), at most `most`."""
    return _fit(CHANNEL_BYTES, frame_bytes, most)


def batch_size(frame_bytes: int, wanted: int) -> int:
    """The model's batch size for frames of `frame_bytes`: `wanted`, or fewer."""
    return _fit(BATCH_BYTES, frame_bytes, wanted)


def detect_interval(frame_bytes: int, wanted: int) -> int:
    """The detect interval for frames of `frame_bytes`: `wanted`, or shorter, so the
    track builder's 2 x interval held frames fit HELD_BYTES."""
    return _fit(HELD_BYTES // 2, frame_bytes, wanted)


def decoder_threads(frame_bytes: int, planned: int, cores: int) -> int:
    """FFmpeg's decoder threads for frames of `frame_bytes`: `planned` (0: FFmpeg's
    choice, which is cores + 1), or fewer for large frames."""
    auto = planned or cores + 1
    fit = _fit(DECODE_BYTES, frame_bytes, auto)
    return planned if fit == auto else fit


def encoder_lookahead(frame_bytes: int) -> int:
    """The most frames libx264 may look ahead at frames of `frame_bytes`."""
    return _fit(LOOKAHEAD_BYTES, frame_bytes, 1 << 10)


def _fit(budget: int, item_bytes: int, most: int) -> int:
    return max(1, min(most, budget // max(1, item_bytes)))
