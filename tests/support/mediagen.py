"""Tiny media made with PyAV in tmp_path, for tests.

Every video frame carries its own index in two flat grey bands at the top (low and
high base-16 digits), so a test can tell which source frame a decoded frame shows even
after lossy compression: `read_index(frame)`. Below the bands, a colour gradient and a
moving square make consecutive frames differ.

Sizes given to make_video are the UPRIGHT (displayed) size: with rotation=90 the file
stores a picture turned the other way plus a display matrix, as a phone does.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Literal, cast

import av
import cv2
import numpy as np
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.stream import VideoStream

AudioKind = Literal["tone", "silence", "speechlike"]
Pattern = Literal["moving", "flat"]

SQUARE_BGR = (30, 60, 230)  # saturated: BT.601 vs BT.709 mix-ups move it by ~15 levels
_BAND_BASE = 24
_BAND_STEP = 13  # grey levels between digits: survives crf ~30 compression
_AUDIO_SUFFIX_CODEC = {
    ".wav": "pcm_s16le",
    ".flac": "flac",
    ".mp3": "libmp3lame",
    ".m4a": "aac",
    ".aac": "aac",
    ".mp4": "aac",
    ".ogg": "libopus",
    ".opus": "libopus",
    ".mka": "flac",
}
_AUDIO_SUFFIX_FORMAT = {".m4a": "ipod", ".aac": "adts", ".opus": "ogg", ".mka": "matroska"}
_ROTATE_CODED = {
    90: cv2.ROTATE_90_COUNTERCLOCKWISE,
    180: cv2.ROTATE_180,
    270: cv2.ROTATE_90_CLOCKWISE,
}


def pattern_frame(index: int, width: int, height: int, pattern: Pattern = "moving") -> np.ndarray:
    """The upright BGR picture of frame `index` (what a reader should give back)."""
    if width < 16 or height < 16:
        raise ValueError("pattern frames need at least 16x16 pixels")
    if pattern == "flat":
        return np.full((height, width, 3), 128, dtype=np.uint8)
    ys, xs = np.mgrid[0:height, 0:width]
    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[..., 0] = (40 + 160 * xs / max(1, width - 1)).astype(np.uint8)
    frame[..., 1] = (40 + 160 * ys / max(1, height - 1)).astype(np.uint8)
    frame[..., 2] = 90
    x, y, side = _square(index, width, height)
    frame[y : y + side, x : x + side] = SQUARE_BGR
    band = max(4, height // 4)
    frame[:band, : width // 2] = _BAND_BASE + (index % 16) * _BAND_STEP
    frame[:band, width // 2 :] = _BAND_BASE + (index // 16 % 16) * _BAND_STEP
    return frame


def _square(index: int, width: int, height: int) -> tuple[int, int, int]:
    side = max(4, min(width, height) // 4)
    return (index * 3) % max(1, width - side), height // 2, side


def square_colour(frame_bgr: np.ndarray, index: int) -> np.ndarray:
    """Mean BGR of the middle of frame `index`'s moving square (compare with SQUARE_BGR)."""
    height, width = frame_bgr.shape[:2]
    x, y, side = _square(index, width, height)
    inner = frame_bgr[y + side // 4 : y + side - side // 4, x + side // 4 : x + side - side // 4]
    return inner.reshape(-1, 3).mean(axis=0)


def read_index(frame_bgr: np.ndarray) -> int:
    """The frame index pattern_frame drew (0..255), from the middle of its two bands."""
    height, width = frame_bgr.shape[:2]
    band = max(4, height // 4)
    r0, r1 = band // 4, band - band // 4
    low = frame_bgr[r0:r1, width // 8 : width // 2 - width // 8].mean()
    high = frame_bgr[r0:r1, width // 2 + width // 8 : width - width // 8].mean()
    digit = lambda v: int(round((float(v) - _BAND_BASE) / _BAND_STEP))  # noqa: E731
    return digit(low) + 16 * digit(high)


def make_video(
    path: Path,
    width: int = 64,
    height: int = 48,
    fps: float = 25,
    seconds: float = 1.0,
    *,
    audio: bool = True,
    codec: str = "libx264",
    rotation: int = 0,
    rotation_as: Literal["matrix", "tag"] = "matrix",
    pattern: Pattern = "moving",
    gop: int | None = None,
    crf: int = 18,
    audio_rate: int = 48000,
    audio_channels: int = 1,
    color_tags: bool = True,
) -> Path:
    """A clip of round(seconds*fps) pattern frames (and a 440 Hz tone of the same length).

    width/height are the upright size and must be even. rotation (clockwise, 0/90/180/270)
    is stored as a display matrix, or as a legacy `rotate` tag with rotation_as="tag"
    (use .mkv then: the MP4 muxer ignores the tag). Colours are converted with BT.709
    and tagged so; color_tags=False leaves them untagged (players then guess by size).
    """
    path = Path(path)
    if width % 2 or height % 2:
        raise ValueError("make_video needs even sizes (yuv420p)")
    rate = Fraction(fps).limit_denominator(1001)
    n = round(seconds * rate)
    coded_w, coded_h = (height, width) if rotation in (90, 270) else (width, height)
    with av.open(str(path), "w") as container:
        options = {"crf": str(crf), "preset": "ultrafast"} if codec == "libx264" else {}
        if codec == "libx264" and gop:
            options["g"] = str(gop)
        stream = cast(VideoStream, container.add_stream(codec, rate=rate, options=options))
        stream.width, stream.height = coded_w, coded_h
        stream.pix_fmt = "yuv420p"
        if codec == "mpeg4":
            stream.codec_context.qmax = 4  # near-lossless so index bands stay readable
        if gop and codec != "libx264":
            stream.codec_context.gop_size = gop
        if color_tags:
            ctx = stream.codec_context
            ctx.colorspace = ctx.color_primaries = ctx.color_trc = 1  # BT.709
            ctx.color_range = 1  # limited
        if rotation and rotation_as == "matrix":
            stream.set_display_rotation(-rotation)  # PyAV counts counter-clockwise
        elif rotation:
            stream.metadata["rotate"] = str(rotation)
        # Both streams exist before the first packet: the header is written then.
        astream = _add_audio_stream(container, "aac", audio_rate, audio_channels) if audio else None
        for i in range(n):
            picture = pattern_frame(i, width, height, pattern)
            if rotation:
                picture = cv2.rotate(picture, _ROTATE_CODED[rotation])
            frame = av.VideoFrame.from_ndarray(picture, format="bgr24").reformat(
                format="yuv420p", dst_colorspace="itu709", dst_color_range="MPEG"
            )
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
        if astream is not None:
            samples = synth_audio(float(n / rate), audio_rate, audio_channels)
            _encode_samples(container, astream, samples)
    return path


def make_image(path: Path, width: int = 64, height: int = 48, *, exif_rotation: int = 0) -> Path:
    """A still (format from the suffix) of pattern_frame(0) at the upright size.

    exif_rotation (clockwise 0/90/180/270, JPEG only) stores the picture turned the
    other way plus the EXIF Orientation tag a phone camera writes.
    """
    path = Path(path)
    picture = pattern_frame(0, width, height)
    if exif_rotation:
        picture = cv2.rotate(picture, _ROTATE_CODED[exif_rotation])
    ok, encoded = cv2.imencode(path.suffix, picture, [cv2.IMWRITE_JPEG_QUALITY, 95])
    if not ok:
        raise ValueError(f"OpenCV cannot write {path.suffix} images")
    data = encoded.tobytes()
    if exif_rotation:
        if not data.startswith(b"\xff\xd8"):
            raise ValueError("EXIF orientation needs a JPEG")
        orientation = {90: 6, 180: 3, 270: 8}[exif_rotation]
        # A minimal APP1 segment: big-endian TIFF header, one IFD with Orientation.
        tiff = (
            b"MM\x00\x2a"
            + struct.pack(">IH", 8, 1)
            + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)
            + struct.pack(">I", 0)
        )
        app1 = b"Exif\x00\x00" + tiff
        data = data[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + data[2:]
    path.write_bytes(data)
    return path


def make_vfr_video(
    path: Path,
    timestamps: Sequence[float],
    width: int = 64,
    height: int = 48,
    *,
    nominal_fps: int = 30,
    gop: int | None = None,
) -> Path:
    """An H.264 MP4 whose frame i (pattern index i) is shown at timestamps[i] seconds.

    The time base is 1/90000, so any timestamps work; nominal_fps is the rate the
    stream header claims. The last frame lasts as long as the gap before it.
    """
    path = Path(path)
    tb = Fraction(1, 90000)
    with av.open(str(path), "w", format="mp4") as container:
        options = {"crf": "18", "preset": "ultrafast"}
        if gop:
            options["g"] = str(gop)
        stream = container.add_stream("libx264", rate=nominal_fps, options=options)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = tb
        for i, t in enumerate(timestamps):
            frame = av.VideoFrame.from_ndarray(pattern_frame(i, width, height), format="bgr24")
            frame.pts = round(t / tb)
            frame.time_base = tb
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def synth_audio(
    seconds: float,
    rate: int = 16000,
    channels: int = 1,
    kind: AudioKind = "tone",
    freq: float = 440.0,
) -> np.ndarray:
    """(channels, samples) float32 in [-1, 1]."""
    n = round(seconds * rate)
    t = np.arange(n) / rate
    if kind == "silence":
        mono = np.zeros(n)
    elif kind == "tone":
        mono = 0.5 * np.sin(2 * np.pi * freq * t)
    elif kind == "speechlike":
        # Voiced harmonics of a ~140 Hz voice, in ~4 syllables a second, with pauses.
        pitch = 140 + 20 * np.sin(2 * np.pi * 0.7 * t)
        phase = 2 * np.pi * np.cumsum(pitch) / rate
        voice = sum(np.sin(k * phase) / k for k in range(1, 12))
        envelope = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) ** 2
        envelope *= np.sin(2 * np.pi * 0.4 * t) > -0.5  # a pause now and then
        noise = np.random.default_rng(0).normal(0, 0.01, n)
        mono = 0.3 * envelope * voice / 3 + noise
    else:
        raise ValueError(f"unknown audio kind {kind!r}")
    return np.clip(np.tile(mono, (channels, 1)), -1, 1).astype(np.float32)


def make_audio(
    path: Path,
    seconds: float = 1.0,
    rate: int = 16000,
    channels: int = 1,
    kind: AudioKind = "tone",
    *,
    freq: float = 440.0,
) -> Path:
    """An audio file; the codec follows the suffix (wav, flac, mp3, m4a/aac, ogg/opus)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _AUDIO_SUFFIX_CODEC:
        raise ValueError(f"no audio codec chosen for {suffix!r} files")
    fmt = _AUDIO_SUFFIX_FORMAT.get(suffix)
    with av.open(str(path), "w", format=fmt) as container:
        stream = _add_audio_stream(container, _AUDIO_SUFFIX_CODEC[suffix], rate, channels)
        _encode_samples(container, stream, synth_audio(seconds, rate, channels, kind, freq))
    return path


def _add_audio_stream(
    container: OutputContainer, codec: str, rate: int, channels: int
) -> AudioStream:
    stream = cast(AudioStream, container.add_stream(codec, rate=rate))
    ctx = stream.codec_context
    ctx.layout = "stereo" if channels == 2 else "mono"
    names = [f.name for f in (ctx.codec.audio_formats or ())]
    ctx.format = "fltp" if "fltp" in names else (names[0] if names else "s16")
    return stream


def _encode_samples(
    container: OutputContainer,
    stream: AudioStream,
    samples: np.ndarray,
) -> None:
    ctx = stream.codec_context
    if not ctx.is_open:
        ctx.open()  # sets frame_size
    layout = ctx.layout.name
    resampler = av.AudioResampler(
        format=ctx.format, layout=layout, rate=ctx.sample_rate, frame_size=ctx.frame_size or None
    )
    source = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples), format="fltp", layout=layout)
    source.sample_rate = ctx.sample_rate
    source.pts = 0
    pts = 0
    for chunk in [*resampler.resample(source), *resampler.resample(None)]:
        chunk.pts = pts
        pts += chunk.samples
        container.mux(stream.encode(chunk))
    container.mux(stream.encode())


def luma_psnr(a_bgr: np.ndarray, b_bgr: np.ndarray) -> float:
    """PSNR in dB of the BT.601 luma of two same-sized BGR uint8 pictures (inf if equal)."""
    if a_bgr.shape != b_bgr.shape:
        raise ValueError(f"sizes differ: {a_bgr.shape} vs {b_bgr.shape}")
    weights = np.array([0.114, 0.587, 0.299])  # B, G, R
    ya = a_bgr.astype(np.float64) @ weights
    yb = b_bgr.astype(np.float64) @ weights
    mse = float(np.mean((ya - yb) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)
