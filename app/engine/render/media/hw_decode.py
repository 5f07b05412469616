"""Opt-in hardware video decoding (NVDEC, D3D11VA, VideoToolbox, VA-API, QSV) via PyAV.

`none` (the default) decodes on the CPU. `auto` takes the first device type that
really decodes here; a named one is used if it does. Whether a device decodes is
asked once per process by decoding a tiny H.264 clip made on the spot with no
software fallback (a PyAV wheel lists CUDA, QSV and AMF whether or not a driver is
there). A device that does not decode falls back to the CPU decoder with one log line.
Once chosen, the device decodes with software fallback allowed: a stream its decoder
cannot handle (a codec, a profile) still decodes, on the CPU.

Frames come back to system memory (yuv/nv12) and are converted to BGR as always, so
everything after the decoder is unchanged. Untested on GPU hardware in this
repository: the CUDA path is what tools/gpu_check.sh exercises.
"""

from __future__ import annotations

import functools
import io
import logging

import av
import numpy as np
from av.codec.hwaccel import HWAccel, hwdevices_available

from app.engine.settings import HW_DECODERS

log = logging.getLogger(__name__)

# What `auto` tries, best first (each exists on one platform: NVIDIA, Windows, Apple, Linux).
AUTO_HW_DEVICES: tuple[str, ...] = ("cuda", "d3d11va", "videotoolbox", "vaapi", "qsv")


@functools.lru_cache(maxsize=1)
def _probe_clip() -> bytes:
    """Three 64x64 H.264 frames in an MP4, in memory."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        black = np.zeros((64, 64, 3), np.uint8)
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(black, format="bgr24").reformat(format="yuv420p")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return buffer.getvalue()


@functools.cache
def decode_error(device_type: str) -> str | None:
    """Why `device_type` cannot decode H.264 here (None: it can). Once per process."""
    if device_type not in hwdevices_available():
        return "not in this FFmpeg build"
    try:
        accel = HWAccel(device_type=device_type, allow_software_fallback=False)
        with av.open(io.BytesIO(_probe_clip()), hwaccel=accel) as container:
            if not list(container.decode(video=0)):
                return "decoded nothing"
    except Exception as exc:  # noqa: BLE001 - FFmpeg's reasons vary: driver, device, codec
        text = getattr(exc, "strerror", None) or str(exc).strip() or type(exc).__name__
        return f"{type(exc).__name__}: {text}"
    return None


@functools.cache
def choose(requested: str) -> HWAccel | None:
    """The HWAccel a reader asking for `requested` uses, or None for the CPU decoder
    (one log line per process when a request falls back)."""
    if requested not in HW_DECODERS:
        raise ValueError(f"unknown hardware decoder {requested!r} (one of {HW_DECODERS})")
    if requested == "none":
        return None
    tried = AUTO_HW_DEVICES if requested == "auto" else (requested,)
    reasons = []
    for device_type in tried:
        reason = decode_error(device_type)
        if reason is None:
            log.info("hardware decoding on %s", device_type)
            return HWAccel(device_type=device_type, allow_software_fallback=True)
        reasons.append(f"{device_type}: {reason}")
    log.warning(
        "hardware decoding %s unavailable (%s); decoding on the CPU", requested, "; ".join(reasons)
    )
    return None
