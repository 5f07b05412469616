"""Which H.264/HEVC encoder a render uses, and our quality setting in its own terms.

`auto` takes the first hardware encoder that FFmpeg can really open on this machine,
else libx264. Whether one opens is asked once per process (`openable`): a PyAV wheel
lists NVENC, QSV and AMF whether or not a driver is there, and only opening a codec
context tells. An encoder that cannot open, asked for by name or chosen by `auto`,
falls back to libx264 with one log line; a render never fails for want of a GPU encoder.

Quality: our setting is x264's CRF (0-51, lower is better). Each hardware encoder gets
its constant-quality mode at the same number where its scale is the same QP-like 0-51
(NVENC `cq`, QSV ICQ `global_quality`, AMF constant QP), or mapped linearly onto
0-100 where it is a percentage (Media Foundation, VideoToolbox), so that outputs are
comparable; bench/ reports size and luma PSNR side by side. The hardware mappings are
untested on hardware in this repository (see docs and bench/gpu).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from fractions import Fraction

import av
from av.video.codeccontext import VideoCodecContext

from app.engine.settings import ENCODERS

log = logging.getLogger(__name__)

LIBX264 = "libx264"
# What `auto` tries, best first: H.264 only (HEVC plays in fewer places), vendors in
# order of how fast and how good their encoders are at equal quality.
AUTO_HW_ENCODERS: tuple[str, ...] = (
    "h264_nvenc",
    "h264_videotoolbox",
    "h264_qsv",
    "h264_amf",
    "h264_mf",
)
PROBE_SIZE = (1280, 720)  # hardware encoders have minimum sizes; test at a real one
# x264's macroblock-tree rate control gives a different encode of the same frames from
# one run to the next in the libx264 of the PyAV wheels: the heap's state (what other
# threads or processes allocated) changes its choices, even with one encoder thread
# (tests/unit/test_determinism.py). Turned off, the same job gives the same bytes, but
# on a still presenter the file is ~30 % larger at equal quality (luma PSNR; measured on
# the shared clips at CRF 18, veryfast): so only when asked (`reproducible`).
X264_REPRODUCIBLE = "mbtree=0"

# x264 preset -> NVENC p1 (fastest) .. p7 (best)
_NVENC_PRESET = {
    "ultrafast": "p1",
    "superfast": "p2",
    "veryfast": "p3",
    "faster": "p3",
    "fast": "p4",
    "medium": "p5",
    "slow": "p6",
    "slower": "p7",
    "veryslow": "p7",
}
_AMF_QUALITY = {"ultrafast": "speed", "superfast": "speed", "veryfast": "speed", "faster": "speed"}


@dataclass(frozen=True)
class EncoderSetup:
    """What VideoWriter passes to add_stream: the codec, its input format and options."""

    codec: str
    pix_fmt: str
    options: dict[str, str] = field(default_factory=dict)


def _percent(crf: int) -> int:
    """CRF 0..51 (lower is better) -> quality 100..0 (higher is better)."""
    return round((51 - crf) * 100 / 51)


def setup(
    codec: str, crf: int, preset: str, threads: int = 0, reproducible: bool = False
) -> EncoderSetup:
    """The options that make `codec` encode at constant quality `crf` (x264's scale);
    `reproducible`: the same frames give the same bytes every run (libx264)."""
    q = str(crf)
    if codec == LIBX264:
        options = {"crf": q, "preset": preset, "threads": str(threads or "auto")}
        if reproducible:
            options["x264-params"] = X264_REPRODUCIBLE
        return EncoderSetup(codec, "yuv420p", options)
    if codec in ("h264_nvenc", "hevc_nvenc"):
        options = {"preset": _NVENC_PRESET.get(preset, "p4"), "tune": "hq"}
        options.update(rc="vbr", cq=q, b="0")  # constant quality, no bitrate cap
        return EncoderSetup(codec, "yuv420p", options)
    if codec == "h264_qsv":  # ICQ: intelligent constant quality
        return EncoderSetup(codec, "nv12", {"global_quality": q, "preset": preset})
    if codec == "h264_amf":
        quality = _AMF_QUALITY.get(preset, "balanced")
        options = {"rc": "cqp", "qp_i": q, "qp_p": q, "qp_b": q, "quality": quality}
        return EncoderSetup(codec, "nv12", options)
    if codec == "h264_mf":
        options = {"rate_control": "quality", "quality": str(_percent(crf)), "hw_encoding": "1"}
        return EncoderSetup(codec, "nv12", options)
    if codec == "h264_videotoolbox":  # -q:v: global_quality in lambda units, qscale flag
        lam = str(_percent(crf) * 118)  # FF_QP2LAMBDA
        return EncoderSetup(codec, "nv12", {"flags": "+qscale", "global_quality": lam})
    raise ValueError(f"unknown encoder {codec!r} (one of {', '.join(ENCODERS)})")


@functools.cache
def open_error(codec: str, width: int = PROBE_SIZE[0], height: int = PROBE_SIZE[1]) -> str | None:
    """Why `codec` cannot open at this size on this machine (None: it opens). Asked once
    per process and size: a working hardware encoder takes a fraction of a second."""
    try:
        encoder = setup(codec, 23, "veryfast")
        ctx = av.CodecContext.create(codec, "w")
        assert isinstance(ctx, VideoCodecContext)
        ctx.width, ctx.height, ctx.pix_fmt = width, height, encoder.pix_fmt
        ctx.time_base = Fraction(1, 25)
        ctx.framerate = Fraction(25)
        ctx.options = dict(encoder.options)
        ctx.open()
        del ctx  # frees the encoder (a GPU has few encode sessions)
    except Exception as exc:  # noqa: BLE001 - FFmpeg's reasons vary: missing driver, device
        text = getattr(exc, "strerror", None) or str(exc).strip() or type(exc).__name__
        return f"{type(exc).__name__}: {text}"
    return None


def openable() -> tuple[str, ...]:
    """The hardware encoders that open on this machine, in `auto`'s order."""
    return tuple(codec for codec in AUTO_HW_ENCODERS if open_error(codec) is None)


@functools.cache
def choose(requested: str, width: int = PROBE_SIZE[0], height: int = PROBE_SIZE[1]) -> str:
    """The encoder a render asking for `requested` gets: it, or libx264 when it cannot
    open here (one log line per process and request)."""
    if requested not in ENCODERS:
        raise ValueError(f"unknown encoder {requested!r} (one of {', '.join(ENCODERS)})")
    if requested == LIBX264:
        return LIBX264
    if requested == "auto":
        for codec in AUTO_HW_ENCODERS:
            if open_error(codec) is None and open_error(codec, width, height) is None:
                log.info("encoder auto: using %s", codec)
                return codec
        log.info(
            "encoder auto: no hardware encoder opens here (tried %s); using libx264",
            ", ".join(AUTO_HW_ENCODERS),
        )
        return LIBX264
    reason = open_error(requested, width, height)
    if reason is None:
        return requested
    log.warning("encoder %s cannot open here (%s); using libx264", requested, reason)
    return LIBX264
