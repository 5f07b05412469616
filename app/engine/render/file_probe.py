"""What a drop or an "Add …" held: files told apart by probing, with thumbnails.

Light to import: PyAV and OpenCV load on the first call, on the thread that makes it
(a GUI imports this module on its own thread, which must never wait for them).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.engine.errors import InputError, RenderCancelled

log = logging.getLogger(__name__)

THUMB_HEIGHT = 54
MAX_FOLDER_FILES = 5000  # a dropped folder deeper than this is a mistake, not a batch


@dataclass(frozen=True)
class ProbeReport:
    """What a drop or an "Add …" held, told apart by probing (never by extension)."""

    videos: tuple[Path, ...] = ()  # has a video stream (or is a still image)
    audios: tuple[Path, ...] = ()  # audio only
    unreadable: tuple[tuple[Path, str], ...] = ()  # (file, why)
    durations: dict[Path, float] = field(default_factory=dict)
    thumbnails: dict[Path, np.ndarray] = field(default_factory=dict, repr=False)


def expand_paths(paths: Iterable[Path], limit: int = MAX_FOLDER_FILES) -> list[Path]:
    """Files as given, and the files inside given folders (recursively, sorted, hidden
    ones skipped), without repeats, at most `limit`."""
    found: dict[Path, None] = {}
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        found.setdefault(Path(root) / name)
                    if len(found) >= limit:
                        return list(found)
        else:
            found.setdefault(path)
        if len(found) >= limit:
            break
    return list(found)


def probe_files(
    paths: Sequence[Path], cancel: threading.Event | None = None, thumb_height: int = THUMB_HEIGHT
) -> ProbeReport:
    """Probe every file (folders expanded): videos, audios, unreadable ones with why.

    A video's first frame comes back as a small thumbnail.
    """
    from app.engine.render import media

    videos: list[Path] = []
    audios: list[Path] = []
    bad: list[tuple[Path, str]] = []
    durations: dict[Path, float] = {}
    thumbs: dict[Path, np.ndarray] = {}
    for path in expand_paths(paths):
        if cancel is not None and cancel.is_set():
            raise RenderCancelled("probing cancelled")
        path = Path(os.path.abspath(path))
        try:
            info = media.probe(path)
        except InputError as exc:
            bad.append((path, _why(exc, path)))
            continue
        except Exception as exc:  # a probe must never take the whole drop down
            log.warning("probing %s failed", path, exc_info=True)
            bad.append((path, f"{type(exc).__name__}: {exc}"))
            continue
        durations[path] = info.duration
        if info.video is not None:
            videos.append(path)
            thumb = thumbnail(path, thumb_height)
            if thumb is not None:
                thumbs[path] = thumb
        else:
            audios.append(path)
    return ProbeReport(tuple(videos), tuple(audios), tuple(bad), durations, thumbs)


def _why(exc: Exception, path: Path) -> str:
    """The engine's message without the leading "PATH: " (the dialog lists the name)."""
    text = str(exc)
    for prefix in (f"{path}: ", f"{path.name}: "):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def thumbnail(video: Path, height: int = THUMB_HEIGHT) -> np.ndarray | None:
    """The first frame of a video, `height` pixels high (BGR), or None if undecodable."""
    import cv2

    from app.engine.render import media

    try:
        with media.open_video(video) as reader:
            frame = next(iter(reader.frames(0)), None)
    except InputError:
        return None
    if frame is None:
        return None
    h, w = frame.shape[:2]
    width = max(1, round(w * height / h))
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)


def thumbnails(videos: Sequence[Path], height: int = THUMB_HEIGHT) -> dict[Path, np.ndarray]:
    out: dict[Path, np.ndarray] = {}
    for video in videos:
        thumb = thumbnail(video, height)
        if thumb is not None:
            out[video] = thumb
    return out
