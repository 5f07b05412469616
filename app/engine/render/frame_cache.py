"""A presenter's decoded frames kept in memory across the jobs of one batch.

One presenter rendered with N audios decodes the same frames N times, and converts the
same pixels to the encoder's YUV N times; only the mouth region differs between the
jobs. The batch scheduler, when it knows more jobs of the same video follow, lets the
first job keep what it decodes here (`FrameCache.job(..., keep=True)`); the later jobs
read the frames from memory and convert only the pasted rectangle (pipeline.py,
media/yuv_patch.py); what the audio does not change is kept too: the model's aligned
crop of each face (recipe.LipSync.aligner) and what a paste needs (the face's masks and
rectangle, blend.PastePrep). A single render never fills it.

Memory is bounded by bytes (`max_bytes`): frames are kept in decode order until the
budget is spent, the rest of the video is decoded as usual ("what fits, or none"). A
video is identified by its path, size, mtime and inode, and by the decode settings
that change its pixels (hardware decode): a changed file is a different video and is
never served from here. The arrays kept are read-only; a stage that writes into a
frame copies it first (pipeline.py).

Thread-safe: a job's decode and blend threads use it at once, and so may two slots.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Generator, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar, cast

import numpy as np

from app.engine.render.frame_plan import FrameSource

log = logging.getLogger(__name__)

T = TypeVar("T")

MiB = 1 << 20
# 720p: ~4.1 MB a frame (BGR 2.8 + YUV 1.4), so 1 GiB keeps ~260 frames (10 s at 25 fps);
# 1080p ~9.3 MB a frame, ~115 frames. At most a 16th of the machine's memory: 512 MB
# on an 8 GB machine, 1 GiB from 16 GB up.
DEFAULT_MAX_BYTES = 1024 * MiB
MAX_RAM_FRACTION = 1 / 16


def default_max_bytes() -> int:
    """DEFAULT_MAX_BYTES, or a 16th of the machine's memory when that is less."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # Windows: no sysconf
        return DEFAULT_MAX_BYTES // 2
    return int(min(DEFAULT_MAX_BYTES, ram * MAX_RAM_FRACTION))


@dataclass(frozen=True)
class KeptCrop:
    """A face's alignment matrix and the model's crop made with it."""

    matrix: np.ndarray
    pixels: np.ndarray


@dataclass(frozen=True)
class VideoKey:
    """A presenter video's file identity and the decode settings its pixels depend on."""

    path: str
    size: int
    mtime_ns: int
    inode: int
    hw_decode: str
    max_still_side: int = 0  # a still is decoded scaled down to it (media/stills.py)

    @classmethod
    def of(cls, video: Path, hw_decode: str = "none", max_still_side: int = 0) -> VideoKey | None:
        """The key of the file as it is now; None when it cannot be stat'ed."""
        try:
            st = Path(video).stat()
            path = str(Path(video).resolve())
        except OSError:
            return None
        return cls(path, st.st_size, st.st_mtime_ns, st.st_ino, hw_decode, max_still_side)


@dataclass
class _Frames:
    """What is kept of one video: BGR frames by source index, and their YUV."""

    bgr: dict[int, np.ndarray] = field(default_factory=dict)
    yuv: dict[int, np.ndarray] = field(default_factory=dict)
    yuv_format: str | None = None  # the pixel format the YUV arrays are in
    # What the audio does not change, by (kind, source index), under what it was made
    # from and with its size: "paste" blend.PastePrep (made from the face, the model's
    # crop, the paste options), "crop" the model's aligned crop (from the face, the
    # model's template and size).
    derived: dict[tuple[str, int], tuple[Hashable, object, int]] = field(default_factory=dict)
    count: int | None = None  # the video's decodable frames, once a decode reached the end
    users: int = 0  # jobs using it now
    wanted: bool = False  # a job of this video said more follow: keep it after the job


class FrameCache:
    """Decoded frames of presenter videos, `max_bytes` at most (see the module doc)."""

    def __init__(self, max_bytes: int | None = None) -> None:
        self.max_bytes = default_max_bytes() if max_bytes is None else max(0, int(max_bytes))
        self._lock = threading.Lock()
        self._videos: dict[VideoKey, _Frames] = {}
        self._used = 0

    @property
    def used_bytes(self) -> int:
        with self._lock:
            return self._used

    def job(
        self, video: Path, hw_decode: str = "none", max_still_side: int = 0, *, keep: bool
    ) -> JobFrames | None:
        """One render's view of `video`'s frames, or None when the file can't be stat'ed.

        `keep`: more jobs of this video follow, so this one stores what it decodes (within
        the budget) and the frames outlive it; otherwise it only reads what is there, and
        the video's frames are dropped when it ends. Videos no running job uses and no
        job asked to keep are dropped now: their batch is over (or their file changed).
        """
        key = VideoKey.of(video, hw_decode, max_still_side)
        if key is None:
            return None
        with self._lock:
            for other, kept in list(self._videos.items()):
                if other != key and kept.users == 0 and not kept.wanted:
                    self._drop(other)
            frames = self._videos.setdefault(key, _Frames())
            frames.users += 1
            frames.wanted = keep
        return JobFrames(self, key, keep)

    # -- used through JobFrames -------------------------------------------------------

    def _get(self, key: VideoKey, index: int, yuv_format: str | None) -> np.ndarray | None:
        with self._lock:
            frames = self._videos.get(key)
            if frames is None:
                return None
            if yuv_format is None:
                return frames.bgr.get(index)
            return frames.yuv.get(index) if frames.yuv_format == yuv_format else None

    def _get_derived(
        self, key: VideoKey, kind: str, index: int, made_from: Hashable
    ) -> object | None:
        with self._lock:
            frames = self._videos.get(key)
            kept = frames.derived.get((kind, index)) if frames is not None else None
        return kept[1] if kept is not None and kept[0] == made_from else None

    def _put_derived(
        self,
        key: VideoKey,
        kind: str,
        index: int,
        made_from: Hashable,
        value: object,
        arrays: tuple[np.ndarray | None, ...],
    ) -> None:
        """Keep `value` (whose memory is `arrays`, made read-only: the jobs that follow
        share them) if it fits."""
        kept = [a for a in arrays if a is not None]
        for array in kept:
            array.setflags(write=False)
        nbytes = sum(a.nbytes for a in kept)
        with self._lock:
            frames = self._videos.get(key)
            if frames is None or (kind, index) in frames.derived:
                return
            if self._used + nbytes > self.max_bytes:
                return
            self._used += nbytes
            frames.derived[(kind, index)] = (made_from, value, nbytes)

    def _count(self, key: VideoKey) -> int | None:
        with self._lock:
            frames = self._videos.get(key)
            return frames.count if frames is not None else None

    def _put(self, key: VideoKey, index: int, array: np.ndarray, yuv_format: str | None) -> bool:
        """Keep a read-only copy of `array` if it fits; False when it does not."""
        with self._lock:
            frames = self._videos.get(key)
            if frames is None or self._used + array.nbytes > self.max_bytes:
                return False
            if yuv_format is not None and frames.yuv_format not in (None, yuv_format):
                return False
            kept = frames.yuv if yuv_format is not None else frames.bgr
            if index in kept:
                return True
            self._used += array.nbytes
        copy = np.array(array, copy=True, order="C")  # outside the lock: a few ms
        copy.setflags(write=False)
        with self._lock:
            frames = self._videos.get(key)
            if frames is None or index in (frames.yuv if yuv_format else frames.bgr):
                self._used -= array.nbytes  # dropped (or stored by another thread) meanwhile
                return frames is not None
            if yuv_format is not None:
                frames.yuv_format = yuv_format
                frames.yuv[index] = copy
            else:
                frames.bgr[index] = copy
        return True

    def _set_count(self, key: VideoKey, count: int) -> None:
        with self._lock:
            frames = self._videos.get(key)
            if frames is not None:
                frames.count = count

    def _release(self, key: VideoKey) -> None:
        with self._lock:
            frames = self._videos.get(key)
            if frames is None:
                return
            frames.users -= 1
            if frames.users == 0 and not frames.wanted:
                self._drop(key)

    def _drop(self, key: VideoKey) -> None:
        """Forget a video's frames (lock held)."""
        frames = self._videos.pop(key)
        freed = (
            sum(a.nbytes for a in frames.bgr.values())
            + sum(a.nbytes for a in frames.yuv.values())
            + sum(nbytes for *_, nbytes in frames.derived.values())
        )
        self._used -= freed
        if freed:
            log.debug("frame cache: dropped %d MB of %s", freed // MiB, Path(key.path).name)


class JobFrames:
    """One render's use of a FrameCache for its presenter video; close() when done."""

    def __init__(self, cache: FrameCache, key: VideoKey, keep: bool) -> None:
        self.cache, self.key, self.keep = cache, key, keep
        self._closed = False

    def bgr(self, index: int) -> np.ndarray | None:
        """Source frame `index` as decoded (read-only), or None when it is not kept."""
        return self.cache._get(self.key, index, None)

    def yuv(self, index: int, pix_fmt: str) -> np.ndarray | None:
        """Source frame `index` in the encoder's `pix_fmt` (read-only), untouched."""
        return self.cache._get(self.key, index, pix_fmt)

    def put_bgr(self, index: int, frame: np.ndarray) -> None:
        if self.keep:
            self.cache._put(self.key, index, frame, None)

    def put_yuv(self, index: int, pix_fmt: str, yuv: np.ndarray) -> None:
        if self.keep:
            self.cache._put(self.key, index, yuv, pix_fmt)

    def reuse(
        self,
        kind: str,
        index: int,
        made_from: Hashable,
        make: Callable[[], T | None],
        arrays: Callable[[T], tuple[np.ndarray | None, ...]],
    ) -> T | None:
        """What the audio does not change about source frame `index` (`kind`: "paste",
        "crop"): kept by an earlier job for the same `made_from`, or `make()` now, and
        kept for the jobs that follow (its memory is `arrays(value)`, made read-only).
        None when `make` gives None."""
        kept = self.cache._get_derived(self.key, kind, index, made_from)
        if kept is not None:
            return cast(T, kept)  # a kind holds one type: the caller's
        value = make()
        if value is not None and self.keep:
            self.cache._put_derived(self.key, kind, index, made_from, value, arrays(value))
        return value

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.cache._release(self.key)

    def source(self, reader: FrameSource) -> FrameSource:
        """`reader`'s frames, served from the cache where kept (and kept, with `keep`)."""
        return _CachedSource(self, reader)


class _CachedSource:
    """A FrameSource that reads kept frames from memory and decodes the others."""

    def __init__(self, frames: JobFrames, reader: FrameSource) -> None:
        self._frames, self._reader = frames, reader

    def frames(self, start: int = 0) -> Generator[np.ndarray, None, None]:
        kept, cache, key = self._frames, self._frames.cache, self._frames.key
        index = start
        decoder: Generator[np.ndarray, None, None] | None = None
        try:
            while True:
                count = cache._count(key)
                if count is not None and index >= count:
                    return
                frame = kept.bgr(index)
                if frame is not None:
                    if decoder is not None:  # it is behind now; reopen at the next miss
                        decoder.close()
                        decoder = None
                    yield frame
                    index += 1
                    continue
                if decoder is None:
                    decoder = self._reader.frames(index)
                frame = next(decoder, None)
                if frame is None:
                    if kept.keep:
                        cache._set_count(key, index)
                    return
                kept.put_bgr(index, frame)
                yield frame
                index += 1
        finally:
            if decoder is not None:
                decoder.close()
