"""Face tracks of presenter videos on disk, so a video rendered with many audios is
detected once.

Where: `paths.cache_dir()/tracks/SHA256-SETTINGS.npz`. SHA256 is the hash of the video
file's bytes (a changed file gets a new track, a renamed or copied one keeps its
track); SETTINGS is a short digest of what shapes a track: the detector (YuNet's file
hash, or "haar" and the OpenCV version), the detect interval and the decode fps.

Hashing a 2 GB video for each of 100 jobs would cost minutes, so the hash of a file is
remembered in `tracks/hashes.sqlite3` under (path, size, mtime_ns, inode): a file is
read again only when one of those changes.

A render of a short audio settles only the first frames of its video; `save` merges
with what is stored, so a later, longer render detects only the frames beyond. Writes
are atomic (a temporary file, then os.replace). Nothing here fails a render: a missing,
corrupt or foreign cache file is a miss (logged), a failed write is logged.

`stats()` counts hits and misses in this process, for benchmarks.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from app.engine import paths
from app.engine.render.face_track import MOTION_LIMIT, FaceTrack
from app.engine.render.faces import FaceDetector

log = logging.getLogger(__name__)

# Bump when detection or tracking changes what a stored track holds (faces.py).
KEY_VERSION = 2  # 2: shots, adaptive keys, the face choice
TRACKS_DIR = "tracks"
HASH_DB = "hashes.sqlite3"
CHUNK_BYTES = 1 << 20
DB_TIMEOUT_S = 5.0
_KEY_FIELD = "cache_key"  # stored beside the track's arrays; checked on load


@dataclass(frozen=True)
class TrackSettings:
    """What a face track depends on besides the video's bytes."""

    detector: str  # the detector's name: "yunet" | "haar" | …
    detector_id: str  # sha256 of the YuNet model file; "haar@OPENCV_VERSION" for Haar
    interval: int  # detect at least every k-th source frame
    fps: float  # the rate the video is decoded at: source frame indices depend on it
    schedule: str = f"adaptive:{MOTION_LIMIT}"  # or "fixed": where else keys go
    face: str = "auto"  # the face choice (face_choice.FaceSpec, as text)
    frame_size: str = ""  # a still's "WxH" as the render reads it (scaled down or not)

    @classmethod
    def of(
        cls,
        detector: FaceDetector,
        interval: int,
        fps: float,
        root: Path | None = None,
        *,
        adaptive: bool = True,
        face: str = "auto",
        frame_size: str = "",
    ) -> TrackSettings:
        """The settings of a render that uses `detector` (a YuNet detector's model file is
        hashed through the same remembered-hash index as videos)."""
        model_path = getattr(detector, "model_path", None)
        if model_path is not None:
            detector_id = content_hash(Path(model_path), root) or f"{detector.name}:{model_path}"
        else:
            detector_id = f"{detector.name}@{cv2.__version__}"
        schedule = f"adaptive:{MOTION_LIMIT}" if adaptive else "fixed"
        return cls(
            detector.name, detector_id, int(interval), float(fps), schedule, face, frame_size
        )

    def digest(self) -> str:
        text = json.dumps(
            [
                KEY_VERSION,
                FaceTrack.VERSION,
                self.detector,
                self.detector_id,
                self.interval,
                f"{self.fps:.6f}",
                self.schedule,
                self.face,
                # only where set: the keys of videos' tracks stay what they were
                *([self.frame_size] if self.frame_size else []),
            ],
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class CacheStats:
    hits: int = 0  # a stored track was found (it may cover only part of the video)
    misses: int = 0  # none stored, or unreadable
    saves: int = 0  # a track was written (new frames merged in)
    hashes_computed: int = 0  # files read to hash them
    hashes_reused: int = 0  # hashes answered from the index without reading the file


class _Counters:
    """Process-wide counters for benchmarks; no behaviour depends on them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(CacheStats.__dataclass_fields__, 0)

    def add(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def snapshot(self) -> CacheStats:
        with self._lock:
            return CacheStats(**self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts = dict.fromkeys(self._counts, 0)


_counters = _Counters()


def stats() -> CacheStats:
    """Hits, misses, saves and hash work of the track cache in this process so far."""
    return _counters.snapshot()


def reset_stats() -> None:
    _counters.reset()


def tracks_dir(root: Path | None = None) -> Path:
    folder = root if root is not None else paths.cache_dir() / TRACKS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# -- content hashes -----------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _identity(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ino


@contextlib.contextmanager
def _hash_db(root: Path | None) -> Iterator[sqlite3.Connection]:
    db_path = tracks_dir(root) / HASH_DB
    conn = sqlite3.connect(db_path, timeout=DB_TIMEOUT_S)
    try:
        with conn:  # one transaction: commit, or roll back on error
            conn.execute(
                "CREATE TABLE IF NOT EXISTS hashes (path TEXT PRIMARY KEY, size INTEGER NOT NULL,"
                " mtime_ns INTEGER NOT NULL, ino INTEGER NOT NULL, sha256 TEXT NOT NULL,"
                " hashed REAL NOT NULL)"
            )
            yield conn
    except sqlite3.DatabaseError as exc:
        if not isinstance(exc, sqlite3.OperationalError):  # not "locked": a damaged file
            conn.close()
            db_path.unlink(missing_ok=True)  # only remembered hashes: rebuilt as files come
        raise
    finally:
        conn.close()


def content_hash(path: Path, root: Path | None = None) -> str | None:
    """sha256 of the file's bytes, remembered per (path, size, mtime_ns, inode); None when
    the file cannot be read."""
    try:
        key = str(path.resolve())
        ident = _identity(path.stat())
    except OSError as exc:
        log.warning("track cache: cannot stat %s: %s", path, exc)
        return None
    try:
        with _hash_db(root) as db:
            row = db.execute(
                "SELECT size, mtime_ns, ino, sha256 FROM hashes WHERE path = ?", (key,)
            ).fetchone()
        if row is not None and tuple(row[:3]) == ident:
            _counters.add("hashes_reused")
            return str(row[3])
    except (sqlite3.Error, OSError) as exc:  # a broken index only costs a re-hash
        log.warning("track cache: hash index unusable (%s); hashing %s", exc, path.name)
    try:
        digest = _sha256_file(path)
        after = _identity(path.stat())
    except OSError as exc:
        log.warning("track cache: cannot read %s: %s", path, exc)
        return None
    _counters.add("hashes_computed")
    if after != ident:  # changed while we read it: the hash is of neither version
        log.warning("track cache: %s changed while it was hashed; not caching its track", path.name)
        return None
    try:
        with _hash_db(root) as db:
            db.execute(
                "INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?, ?, ?)",
                (key, *ident, digest, time.time()),
            )
    except (sqlite3.Error, OSError) as exc:
        log.warning("track cache: cannot remember the hash of %s: %s", path.name, exc)
    return digest


# -- tracks -------------------------------------------------------------------------------


class TrackEntry:
    """The stored track of one video's content under one TrackSettings.

    The content hash is taken once, when the entry is made: a render loads and saves
    through one entry, so a file replaced during the render cannot receive a track of
    the old bytes.
    """

    def __init__(
        self, video: Path, content_sha256: str, settings: TrackSettings, root: Path | None = None
    ) -> None:
        self.video = video
        self.content_sha256 = content_sha256
        self.settings = settings
        self.key = f"{content_sha256}-{settings.digest()}"
        self.path = tracks_dir(root) / f"{self.key}.npz"

    def _read(self) -> FaceTrack | None:
        """The stored track, or None (nothing stored, or unusable: then logged)."""
        try:
            # Our own file object: np.load leaks its own when the archive is torn.
            with self.path.open("rb") as f:
                arrays = np.load(f, allow_pickle=False)
                if not hasattr(arrays, "files"):
                    raise ValueError("not an .npz archive")
                with arrays:
                    stored_key = str(arrays[_KEY_FIELD]) if _KEY_FIELD in arrays.files else None
                    track = FaceTrack.from_arrays(arrays)
        except FileNotFoundError:
            return None
        except Exception as exc:  # a torn or foreign file: zipfile, ValueError, OSError …
            log.warning(
                "track cache: ignoring unreadable %s (%s: %s)",
                self.path.name,
                type(exc).__name__,
                exc,
            )
            return None
        if stored_key != self.key or track.detector_name != self.settings.detector:
            log.warning("track cache: ignoring %s: it was stored for another key", self.path.name)
            return None
        return track

    def load(self) -> FaceTrack | None:
        track = self._read()
        _counters.add("hits" if track is not None else "misses")
        if track is not None:
            log.info("track cache: %s: %d frame(s) cached", self.video.name, len(track))
        return track

    def save(self, track: FaceTrack) -> bool:
        """Merge `track` into what is stored and write it atomically; False when nothing new
        was added or the write failed (logged). Frames already stored keep their faces."""
        stored = self._read()
        merged = FaceTrack(self.settings.detector)
        for source in (track, stored) if stored is not None else (track,):
            for index in source.indices():
                found = source.entry(index)
                assert found is not None
                merged.set(index, found)  # stored frames last: they keep their faces
        if stored is not None and len(merged) == len(stored):
            return False
        if len(merged) == 0:
            return False
        arrays = merged.to_arrays()
        arrays[_KEY_FIELD] = np.array(self.key)
        tmp: Path | None = None
        try:
            with tempfile.NamedTemporaryFile(
                "wb", dir=self.path.parent, prefix=f".{self.key}-", suffix=".tmp", delete=False
            ) as f:
                tmp = Path(f.name)
                np.savez(f, allow_pickle=False, **arrays)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("track cache: cannot write %s: %s", self.path.name, exc)
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            return False
        _counters.add("saves")
        log.info("track cache: %s: stored %d frame(s)", self.video.name, len(merged))
        return True


def entry(video: Path, settings: TrackSettings, root: Path | None = None) -> TrackEntry | None:
    """The cache entry of this video's current content, or None when it cannot be hashed."""
    # The hash index stays on this machine even when the tracks sit on a shared folder:
    # it remembers this machine's view of files (inode, mtime), and SQLite's locking is
    # not to be trusted on network file systems. Tracks are written atomically, so nodes
    # of a render farm can share the folder.
    digest = content_hash(Path(video))
    return TrackEntry(Path(video), digest, settings, root) if digest is not None else None
