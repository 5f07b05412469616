"""From input files to queued jobs, for every front end (the CLI's `batch`, the window's
drops): pairing videos with audios, output names from a pattern, and adding the jobs.

Output names come from a pattern with {video}, {audio} (file stems) and {index}; a name
that an existing file (or one being rendered), an input or another queued job's output already
has gets "_2", "_3" …, so nothing is overwritten unless `overwrite` (which still never
lets two jobs of the queue write one file). Choosing the names and adding the jobs
happens under one file lock (ADD_LOCK), so two processes adding at once never pick the
same name.

Messages name the pattern or the file, never a front end's option or widget: each front
end says where the value came from.
"""

from __future__ import annotations

import glob
import os
import string
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from app.engine import paths
from app.engine.errors import InputError
from app.engine.outputs import make_output_folder, name_key, output_name_of
from app.engine.queue.filelock import FileLock
from app.engine.queue.jobstore import PENDING_STATES, JobSpec, JobStore
from app.engine.settings import RenderSettings

DEFAULT_NAME = "{video}_{audio}.mp4"
NAME_FIELDS = ("video", "audio", "index")
ADD_LOCK = "queue-add.lock"  # held while output names are chosen and the jobs added

Pair = tuple[Path, Path]  # (presenter video, speech audio)


def expand_globs(patterns: Sequence[str]) -> list[Path]:
    """Files matching each pattern, in order, without repeats, as absolute paths (jobs may
    run from another folder). A pattern that matches no file is an InputError: a typo
    must not silently drop half a batch."""
    found: dict[Path, Path] = {}
    for pattern in patterns:
        expanded = os.path.expanduser(pattern)
        if os.path.isfile(expanded):  # a plain name, maybe with [ ] in it: not a pattern
            matches = [expanded]
        else:
            matches = sorted(m for m in glob.glob(expanded, recursive=True) if os.path.isfile(m))
        if not matches:
            raise InputError(f"{pattern}: matches no file")
        for match in matches:
            path = Path(os.path.abspath(match))
            found.setdefault(path.resolve(), path)
    return list(found.values())


def pair_each(videos: Sequence[Path], audios: Sequence[Path]) -> list[Pair]:
    return [(video, audio) for video in videos for audio in audios]


def pair_by_name(
    videos: Sequence[Path], audios: Sequence[Path]
) -> tuple[list[Pair], list[Path], list[Path]]:
    """Each audio goes with the video whose stem its stem starts with (case-insensitive;
    the longest such stem wins, so alice2.wav goes with alice2.mp4, not alice.mp4).
    Returns (pairs in video order, videos without audio, audios without video)."""
    by_video: dict[int, list[Path]] = {i: [] for i in range(len(videos))}
    lonely_audios: list[Path] = []
    stems = [v.stem.casefold() for v in videos]
    for audio in audios:
        stem = audio.stem.casefold()
        candidates = [i for i, s in enumerate(stems) if s and stem.startswith(s)]
        if not candidates:
            lonely_audios.append(audio)
            continue
        best = max(candidates, key=lambda i: len(stems[i]))
        by_video[best].append(audio)
    pairs = [(videos[i], audio) for i in range(len(videos)) for audio in by_video[i]]
    lonely_videos = [videos[i] for i in range(len(videos)) if not by_video[i]]
    return pairs, lonely_videos, lonely_audios


def check_name_template(template: str) -> None:
    """InputError("TEMPLATE: why") unless the pattern makes valid .mp4 file names."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise InputError(f"{template}: {exc}") from None
    unknown = [f for f in fields if f not in NAME_FIELDS]
    if unknown:
        raise InputError(
            f"{template}: unknown field {{{unknown[0]}}}; "
            f"use {', '.join('{' + f + '}' for f in NAME_FIELDS)}"
        )
    example = format_name(template, Path("v.mp4"), Path("a.wav"), 1)
    if not example.lower().endswith(".mp4"):
        raise InputError(f"{template}: the output must be an .mp4 file")


def format_name(template: str, video: Path, audio: Path, index: int) -> str:
    name = template.format(video=video.stem, audio=audio.stem, index=index)
    if (
        not name
        or name in (".", "..")
        or "/" in name
        or os.sep in name
        or (os.altsep and os.altsep in name)
    ):
        raise InputError(f"{template}: gives {name!r}, not a file name")
    return name


def plan_outputs(
    names: Sequence[str],
    folder: Path,
    overwrite: bool = False,
    taken: Iterable[Path] = (),
) -> list[Path]:
    """An output path per name in `folder`: never one in `taken` (inputs, outputs of queued
    jobs) or another of these; never an existing file (or one being rendered) unless `overwrite`.
    A clash adds "_2", "_3" … before the suffix. Names compare case-insensitively (as
    Windows and macOS file systems do)."""
    used = {name_key(p) for p in taken}
    on_disk = (
        set()
        if overwrite or not folder.is_dir()
        else {name_key(folder / _claimed_name(name)) for name in os.listdir(folder)}
    )
    planned: list[Path] = []
    for name in names:
        stem, suffix = os.path.splitext(name)
        candidate, n = folder / name, 1
        while name_key(candidate) in used or name_key(candidate) in on_disk:
            n += 1
            candidate = folder / f"{stem}_{n}{suffix}"
        used.add(name_key(candidate))
        planned.append(candidate)
    return planned


def _claimed_name(name: str) -> str:
    """The output name a file in the folder takes: a render's temporary file takes its
    output's (it is being written), an old-style `NAME.mp4.part` NAME.mp4's."""
    return output_name_of(name) or name.removesuffix(".part")


def pending_outputs(store: JobStore) -> list[Path]:
    """Outputs of queued and running jobs: names no new job may take."""
    return [Path(output) for state in PENDING_STATES for output in store.outputs(state)]


def queue_pairs(
    store: JobStore,
    pairs: Sequence[Pair],
    folder: Path,
    template: str,
    settings_for: Callable[[Path, Path, Path], RenderSettings],
    *,
    priority: int = 0,
    overwrite: bool = False,
    submit: Callable[[list[JobSpec]], list[int]] | None = None,
) -> list[int]:
    """Name an output in `folder` for each (video, audio) pair and queue a job for it;
    returns the new job ids in pair order.

    `settings_for(video, audio, output)` makes each job's settings; `submit` adds the
    specs (the running scheduler's submit_many; default: straight into `store`). The
    folder is created; InputError when it cannot be or the pattern is bad.
    """
    check_name_template(template)
    names = [format_name(template, v, a, i) for i, (v, a) in enumerate(pairs, 1)]
    make_output_folder(folder)
    lock = FileLock(paths.data_dir() / ADD_LOCK)
    lock.acquire(blocking=True)
    try:
        inputs = [p for pair in pairs for p in pair]
        outputs = plan_outputs(names, folder, overwrite, [*inputs, *pending_outputs(store)])
        specs = [
            JobSpec(settings_for(video, audio, output), priority)
            for (video, audio), output in zip(pairs, outputs)
        ]
        return (submit or store.add_many)(specs)
    finally:
        lock.release()
