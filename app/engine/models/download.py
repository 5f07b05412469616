"""Model downloads: fetch a registry model over HTTP, verify it, record it, install it.

Downloads use urllib, resume a `FILE.part` with HTTP Range, retry with exponential backoff,
fall back from the primary URL to the mirror, and only rename the file into place once its
checksum matches. Integrity is either a sha256 in the manifest or `crc32_url`: FaceFusion's
convention of a `NAME.hash` file beside the download holding the CRC32 as 8 hex digits.

`LIPSYNC_STUDIO_MODEL_MIRROR` (whitespace-separated base URLs, tried in order) replaces the
manifest's URLs: an in-house mirror, or a local test server. A mirror serves each model
under its file name and, for crc32 models, the `.hash` file beside it. The `mirrors`
argument of `download()` does the same per call.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

from app import __version__
from app.engine.errors import DownloadCancelled, InputError
from app.engine.models.contracts import bind_file
from app.engine.models.records import hash_file, record_path, write_record
from app.engine.models.registry import (
    ModelEntry,
    beside,
    check,
    entry_path,
    found_path,
    load_registry,
)
from app.engine.outputs import download_part

log = logging.getLogger(__name__)
_T = TypeVar("_T")

ProgressCallback = Callable[[int, int | None], None]  # (bytes_done, total or None)

MIRROR_ENV = "LIPSYNC_STUDIO_MODEL_MIRROR"
CHUNK_SIZE = 256 * 1024
DEFAULT_TIMEOUT_S = 15.0  # per connect and per read: a silent server fails in seconds
_CRC32_RE = re.compile(r"^[0-9a-fA-F]{8}$")


class DownloadError(InputError):
    """A model could not be fetched (network, server, checksum). The message says what to do."""


class ChecksumMismatch(DownloadError):
    """The downloaded bytes are not the published file; nothing was kept."""


class _Retryable(Exception):
    """This attempt failed in a way worth repeating on the same URL."""


class _SourceFailed(Exception):
    """This URL will not work (404, bad checksum file …): move on to the next one."""


def _mirror_sources(entry: ModelEntry, mirrors: Sequence[str]) -> list[tuple[str, str | None]]:
    out = []
    for base in mirrors:
        base = base if base.endswith("/") else base + "/"
        out.append((urllib.parse.urljoin(base, entry.file), beside(base, entry.crc32_file)))
    return out


def download(
    name: str,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    retries: int = 4,
    backoff: float = 1.0,
    timeout: float = DEFAULT_TIMEOUT_S,
    mirrors: Sequence[str] | None = None,
    on_retry: Callable[[str], None] | None = None,
) -> Path:
    """Fetch, verify and install model `name`; return its path. Already installed: no network.

    retries: extra attempts per URL (resuming the .part); backoff: seconds before the first
    retry, doubled each time; timeout: seconds per socket operation (connecting, each
    read), so a server that accepts and never answers costs seconds, not minutes.
    mirrors: base URLs that replace the manifest's (default: $LIPSYNC_STUDIO_MODEL_MIRROR,
    else the manifest). on_retry(message) is called before each retry (a line for the
    user: what failed, when the next try is). `cancel` stops it between reads and
    during the waits between tries.
    """
    entry = load_registry().get(name)
    if entry.custom or not entry.urls:
        raise InputError(
            f"model {name} was imported by hand and has no download URL; "
            f"import it again with `lipsync-studio models import FILE --as {name}`"
        )
    target = entry_path(entry)
    state = check(entry, deep=False)
    if state == "installed":
        return found_path(entry)
    if state == "corrupt":
        log.warning("%s fails its checksum: deleting it and downloading again", target)
        target.unlink(missing_ok=True)  # a corrupt bundled copy stays; the user's replaces it
        record_path(target).unlink(missing_ok=True)
    if mirrors is None:
        mirrors = os.environ.get(MIRROR_ENV, "").split()
    sources = _mirror_sources(entry, mirrors) if mirrors else entry.sources()

    failures: list[str] = []
    mismatch: ChecksumMismatch | None = None
    part = download_part(target)
    for url, hash_url in sources:
        try:
            retry = _Retry(retries, backoff, cancel, on_retry)
            crc32 = retry(partial(_fetch_crc32, hash_url, timeout), hash_url) if hash_url else None
            retry(partial(_fetch_once, url, part, progress, cancel, timeout), url)
            sha256 = _verify_part(entry, part, url, crc32)
        except _SourceFailed as exc:
            log.info("download of %s from %s failed: %s", name, url, exc)
            failures.append(f"{url}: {exc}")
            continue
        except ChecksumMismatch as exc:
            log.warning("%s", exc)
            failures.append(f"{url}: checksum mismatch")
            mismatch = exc
            continue
        # The published file, byte for byte; still read its interface, to record the file's
        # own tensor names (the contract names only what FaceFusion feeds) and to be sure
        # that "installed" means "loads in onnxruntime with the inputs we will feed".
        try:
            binding = bind_file(part, entry.contract, label=url)
        except InputError as exc:
            part.unlink()
            raise DownloadError(
                f"model {name}: the file published at {url} passed its checksum but does not "
                f"fit the registry ({exc}); it was deleted. This is a bug in "
                f"app/resources/models.json: please report it"
            ) from None
        # Record first, then rename: a crash in between leaves a file whose record says
        # what it should be, never an unchecked file that looks installed.
        write_record(target, entry.name, sha256, url, binding.names(), stat=part.stat())
        os.replace(part, target)
        log.info("installed %s at %s", name, target)
        return target
    if mismatch is not None:
        raise mismatch
    raise DownloadError(
        f"could not download model {name} ({'; '.join(failures)}). If this computer is "
        f"offline, download {sources[0][0]} on another one, copy it here and run "
        f"`lipsync-studio models import FILE --as {name}`"
    )


@dataclass(frozen=True)
class _Retry:
    """Runs an attempt up to 1 + `retries` times, with exponential backoff between."""

    retries: int
    backoff: float
    cancel: threading.Event | None
    on_retry: Callable[[str], None] | None

    def __call__(self, attempt: Callable[[], _T], url: str) -> _T:
        last: _Retryable | None = None
        for n in range(self.retries + 1):
            if n:
                delay = self.backoff * 2 ** (n - 1)
                message = (
                    f"{url}: {last}; retrying in {delay:g} s "
                    f"(attempt {n + 1} of {self.retries + 1})"
                )
                log.info("%s", message)
                if self.on_retry is not None:
                    self.on_retry(message)
                if self.cancel is not None and self.cancel.wait(delay):
                    raise DownloadCancelled(f"download of {url} cancelled")
                if self.cancel is None:
                    time.sleep(delay)
            try:
                return attempt()
            except _Retryable as exc:
                last = exc
        raise _SourceFailed(str(last))


def _open(url: str, timeout: float, start: int = 0) -> http.client.HTTPResponse:
    """GET `url` (from byte `start`); HTTP and network failures become _Retryable/_SourceFailed."""
    request = urllib.request.Request(
        url,
        headers={
            "User-Agent": f"lipsync-studio/{__version__}",
            "Accept-Encoding": "identity",
        },
    )
    if start:
        request.add_header("Range", f"bytes={start}-")
    try:
        return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (http(s) URLs only)
    except urllib.error.HTTPError as exc:
        with exc:  # an HTTPError holds the connection open until closed
            if exc.code == 416:
                raise _RangeNotSatisfiable(exc.headers.get("Content-Range", "")) from None
            if exc.code in (408, 425, 429) or exc.code >= 500:
                raise _Retryable(f"HTTP {exc.code} {exc.reason}") from None
            raise _SourceFailed(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise _Retryable(str(exc.reason)) from None
    except (OSError, http.client.HTTPException) as exc:
        raise _Retryable(f"{type(exc).__name__}: {exc}") from None


class _RangeNotSatisfiable(_Retryable):
    """416: the .part is as long as (or longer than) the file. Argument: Content-Range."""


def _fetch_crc32(url: str, timeout: float) -> str:
    with _open(url, timeout) as response:
        try:
            text = response.read(256).decode("ascii", "replace").strip()
        except (OSError, http.client.HTTPException) as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from None
    token = text.split()[0] if text else ""
    if not _CRC32_RE.match(token):
        raise _SourceFailed(f"checksum file {url} does not hold a CRC32 (8 hex digits)")
    return token.lower()


def _fetch_once(
    url: str,
    part: Path,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    timeout: float,
) -> None:
    """One attempt: append to `part` from where it stops; raise _Retryable if cut short."""
    have = part.stat().st_size if part.exists() else 0
    try:
        response = _open(url, timeout, start=have)
    except _RangeNotSatisfiable as exc:
        total = _total_from_content_range(str(exc))
        if total == have:  # the .part is already complete: go straight to verification
            return
        part.unlink()
        raise _Retryable("the partial file does not fit the server's; starting over") from None
    with response:
        if response.status == 206:
            start, total = _parse_content_range(response.headers.get("Content-Range", ""))
            if start != have:
                part.unlink(missing_ok=True)
                raise _Retryable(f"server resumed at byte {start}, not {have}; starting over")
            mode = "ab"
        else:  # 200: a fresh download, or a server that ignores Range: restart from zero
            have, mode = 0, "wb"
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        done = have
        part.parent.mkdir(parents=True, exist_ok=True)
        with open(part, mode) as f:
            if progress:
                progress(done, total)
            while True:
                if cancel is not None and cancel.is_set():
                    raise DownloadCancelled(f"download of {url} cancelled; {part} kept for resume")
                try:
                    chunk = response.read(CHUNK_SIZE)
                except (OSError, http.client.HTTPException) as exc:
                    raise _Retryable(f"connection lost after {done} bytes ({exc})") from None
                if not chunk:
                    break
                f.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
    # http.client returns b"" on a dropped connection instead of raising: check the length.
    if total is not None and done < total:
        raise _Retryable(f"connection closed after {done} of {total} bytes")
    if total is not None and done > total:
        part.unlink()
        raise _SourceFailed(f"server sent {done} bytes but announced {total}")


def _parse_content_range(value: str) -> tuple[int, int | None]:
    """'bytes 100-199/200' -> (100, 200); total None when the server sends '*'."""
    match = re.match(r"bytes\s+(\d+)-\d+/(\d+|\*)", value.strip())
    if not match:
        raise _Retryable(f"unreadable Content-Range {value!r}")
    total = match.group(2)
    return int(match.group(1)), None if total == "*" else int(total)


def _total_from_content_range(value: str) -> int | None:
    match = re.match(r"bytes\s+\*/(\d+)", value.strip())
    return int(match.group(1)) if match else None


def _verify_part(entry: ModelEntry, part: Path, url: str, crc32: str | None) -> str:
    """sha256 of the verified .part; a mismatch deletes it and raises ChecksumMismatch."""
    sha256, crc = hash_file(part)
    if entry.sha256 and sha256 != entry.sha256:
        problem = f"sha256 {sha256}, expected {entry.sha256}"
    elif crc32 is not None and crc != crc32:
        problem = f"CRC32 {crc}, the published checksum is {crc32}"
    else:
        return sha256
    part.unlink()
    raise ChecksumMismatch(
        f"the file downloaded for model {entry.name} from {url} is damaged or not the published "
        f"one ({problem}); it was deleted. Try again later, or download it by hand and run "
        f"`lipsync-studio models import FILE --as {entry.name}`"
    )
