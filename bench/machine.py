"""What the numbers were measured on."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from bench.measure import cores


def _cpuinfo() -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key and key not in info:
                info[key] = value.strip()
    except OSError:
        pass
    return info


def _mem_total_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return f"{line.split('=', 1)[1].strip(chr(34))}, kernel {platform.release()}"
    except OSError:
        pass
    return platform.platform()


def describe() -> dict:
    import av
    import cv2
    import numpy
    import onnxruntime

    cpu = _cpuinfo()
    flags = set(cpu.get("flags", "").split())
    simd = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16") if f in flags]
    return {
        "cpu": cpu.get("model name") or platform.processor() or platform.machine(),
        "cpu_family_model": f"family {cpu.get('cpu family', '?')} model {cpu.get('model', '?')}",
        "simd": simd,
        "hypervisor": "hypervisor" in flags,
        "cores": cores(),
        "logical_cpus": os.cpu_count(),
        "ram_gb": _mem_total_gb(),
        "os": _os_name(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "onnxruntime": onnxruntime.__version__,
        "av": av.__version__,
        "ffmpeg_libavcodec": ".".join(map(str, av.library_versions.get("libavcodec", ()))),
        "opencv": cv2.__version__,
        "opencv_threads": cv2.getNumThreads(),
    }


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None
