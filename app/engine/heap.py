"""Large blocks go back to the operating system when freed (glibc only).

glibc serves a block over its mmap threshold with its own mapping, unmapped on free;
but after such a block is freed it raises the threshold (up to 32 MiB on 64-bit), so
the next frames (6-34 MB: 1080p to a 4096-px still) come from the heap instead. Freed
there, across the arenas of a render's threads, the space fragments and stays
resident: a 4K render peaked 0.23 GB higher for it (bench/large_frames.py). A fixed
threshold stops the raise. It is 8 MiB, not lower: a mapped block is page-faulted in
afresh each time, and at 1 MiB every 720p frame (2.7 MB) was, which made a 720p draft
render ~40 % slower (5 M page faults instead of 0.4 M for 933 frames); 4K frames (25 MB
BGR, 12 MB YUV) and large stills are still mapped and given back.

Arenas are capped too (M_ARENA_MAX): glibc gives every thread that allocates its own
arena, up to 8 per core, and each keeps what its thread freed. A render has a thread
per stage, the audio encoder's and FFmpeg's own; at two arenas a 4K render peaked at
1.17 GB instead of 1.19-1.21 (bench/large_frames.py) and 720p renders ran no slower;
a batch's later jobs may lose a little (reuse on/off 0.73-0.74 vs 0.71, within noise).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # mallopt parameters (malloc.h)
M_ARENA_MAX = -8
MMAP_THRESHOLD = 8 << 20  # over a 1080p frame (6.2 MB), under a 4K one
ARENA_MAX = 2
_done = False


def return_large_blocks() -> None:
    """Fix glibc's mmap threshold at MMAP_THRESHOLD and its arenas at ARENA_MAX for this
    process (once; elsewhere a no-op: other C libraries do neither)."""
    global _done
    if _done or not sys.platform.startswith("linux"):
        return
    _done = True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return
    if mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) != 1:
        log.debug("mallopt(M_MMAP_THRESHOLD) refused")
    if mallopt(M_ARENA_MAX, ARENA_MAX) != 1:
        log.debug("mallopt(M_ARENA_MAX) refused")
