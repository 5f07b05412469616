"""Output files: written under a temporary name beside them, renamed into place when whole.

Every file the app produces (a render, an imported model) is first written to a temporary
file in the same folder, and only renamed to its real name once complete, so a crash,
cancel or failure never leaves a half-written file at the output path.

The temporary name is `.NAME.<pid>-<random>.part`: hidden, unique per run (two renders to
one output never share it), created exclusively (never an existing file, so never an
input: a browser's unfinished `talk.mp4.part` download is safe), and cut to fit the file
system's 255-byte name limit. The pid says which process writes it, so crash recovery
deletes only the temporaries of processes that are gone (`stray_temps`).

`publish` renames a finished temporary into place. With `if_exists="replace"` (the user
asked to overwrite) the rename is atomic; with "rename" a file that is already there, or
appeared while rendering, is never replaced: the output takes the next free `NAME_2.mp4`,
`NAME_3.mp4` … name, as batch output planning does (`next_free`).

Resumable downloads are the one exception: they go to a STABLE `FILE.part` in the app's
own models folder (`download_part`), so a later run can resume them.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import secrets
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from app.engine.errors import InputError

log = logging.getLogger(__name__)

IfExists = Literal["replace", "rename"]
IF_EXISTS: tuple[str, ...] = ("replace", "rename")
TEMP_SUFFIX = ".part"
NAME_MAX_BYTES = 255  # ext4, XFS, btrfs, APFS, NTFS (in UTF-16 units there; bytes is stricter)
_TOKEN_RE = re.compile(r"\.(\d+)-[0-9a-f]{8}\.part$")
_MAX_TRIES = 100


def make_output_folder(folder: Path) -> None:
    """Create `folder` (and its parents) for outputs; InputError naming it when it is a
    file or cannot be created."""
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{folder}: cannot create the folder ({exc.strerror})") from None


def temp_name(output: Path, token: str) -> str:
    """`.NAME.<token>.part` for `output`, NAME shortened (at a character) to fit the limit."""
    tail = f".{token}{TEMP_SUFFIX}"
    room = NAME_MAX_BYTES - 1 - len(tail.encode())
    name = output.name.encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore")
    return f".{name}{tail}"


def create_temp(output: Path) -> Path:
    """Create a new empty temporary file beside `output` (exclusively) and return its path.

    Raises OSError when the folder cannot be written (missing, read-only, full …).
    """
    output = Path(output)
    for _ in range(_MAX_TRIES):
        path = output.with_name(temp_name(output, f"{os.getpid()}-{secrets.token_hex(4)}"))
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return path
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(output))


def is_temp_of(output: Path, candidate: Path) -> bool:
    """Whether `candidate` is a temporary file `create_temp(output)` may have made."""
    name = candidate.name
    match = _TOKEN_RE.search(name)
    if match is None or candidate.parent != output.parent:
        return False
    token = match.group(0)[1 : -len(TEMP_SUFFIX)]
    return name == temp_name(output, token)


def output_name_of(temp: str) -> str | None:
    """The output file name a temporary file name stands for (None: not one of ours).

    A name shortened to fit the length limit gives back its shortened form.
    """
    match = _TOKEN_RE.search(temp)
    if match is None or not temp.startswith("."):
        return None
    return temp[1 : match.start()] or None


def temps_of(output: Path) -> list[Path]:
    """Every temporary file of `output` in its folder, live or stray."""
    try:
        siblings = list(output.parent.iterdir())
    except OSError:
        return []
    return [p for p in siblings if is_temp_of(output, p)]


def stray_temps(output: Path) -> list[Path]:
    """Temporary files of `output` whose writing process is gone (crash leftovers)."""
    return [p for p in temps_of(output) if not process_alive(writer_pid(p))]


def wait_for_writers(output: Path, timeout: float) -> bool:
    """Wait until no other live process writes a temporary file of `output` (True), or
    `timeout` seconds (False: one still does, e.g. another program's render)."""
    deadline = time.monotonic() + timeout
    while any(
        writer_pid(p) != os.getpid() and process_alive(writer_pid(p)) for p in temps_of(output)
    ):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def remove_temps(output: Path, *, own: bool = False) -> None:
    """Delete `output`'s stray temporary files; `own`: this process's too (call it only
    once this process no longer writes `output`)."""
    for path in temps_of(output) if own else stray_temps(output):
        if own and writer_pid(path) != os.getpid() and process_alive(writer_pid(path)):
            continue  # another live process's render of the same name
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:  # a locked file on Windows must not stop the caller
            log.warning("cannot delete %s: %s", path, exc)


def writer_pid(temp: Path) -> int:
    match = _TOKEN_RE.search(temp.name)
    return int(match.group(1)) if match else -1


def process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return True  # os.kill(pid, 0) would terminate it there: never guess, keep the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def name_key(path: Path) -> str:
    """How file systems compare names: case-insensitively on Windows and macOS."""
    return os.path.normcase(os.path.abspath(path)).casefold()


def numbered(output: Path, n: int) -> Path:
    """`NAME_n.mp4` beside `output` (n >= 2)."""
    return output.with_name(f"{output.stem}_{n}{output.suffix}")


def next_free(output: Path, taken: Iterable[Path] = ()) -> Path:
    """`output` if nothing is there (nor in `taken`), else the first free `NAME_N.mp4`."""
    used = {name_key(p) for p in taken}
    candidate, n = output, 1
    while name_key(candidate) in used or candidate.exists() or temps_of(candidate):
        n += 1
        candidate = numbered(output, n)
    return candidate


def publish(temp: Path, output: Path, if_exists: IfExists) -> Path:
    """Rename the finished `temp` to `output`; return where it went.

    "replace": atomically replace whatever is at `output`. "rename": never replace a file;
    if one is there (or appears meanwhile), take the next free `NAME_N` name.
    """
    if if_exists == "replace":
        os.replace(temp, output)
        return output
    target = output
    for _ in range(_MAX_TRIES):
        if target != output or not target.exists():
            try:
                _rename_no_clobber(temp, target)
                return target
            except FileExistsError:
                pass
        target = next_free(output)
    raise FileExistsError(errno.EEXIST, "no free output name", str(output))


def _rename_no_clobber(source: Path, target: Path) -> None:
    """Rename that fails with FileExistsError instead of replacing `target`.

    A hard link is atomic and refuses an existing name; file systems without links
    (FAT, some network shares) get a check-then-rename, which only a same-instant race beats.
    """
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError:
        if target.exists() or os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "file exists", str(target)) from None
        os.rename(source, target)  # Windows: refuses an existing target by itself
        return
    os.unlink(source)


def download_part(path: Path) -> Path:
    """The stable file a resumable download of `path` grows in (`FILE.part`)."""
    path = Path(path)
    return path.with_name(path.name + TEMP_SUFFIX)
