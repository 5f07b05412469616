"""Model registry: which weights exist, where they live, how to fetch, verify and import them.

The built-in models come from `resources/models.json`; models the user imports under their
own name ("custom" models) are added from `custom_models.json` in the data folder. Weights
live in `paths.models_dir()` (custom ones in its `custom/` folder), each with a small JSON
record beside it (`FILE.json`) holding the sha256 we verified it against, so later checks
need no network even for models whose publisher only gives a CRC32.

Downloads use urllib, resume a `FILE.part` with HTTP Range, retry with exponential backoff,
fall back from the primary URL to the mirror, and only rename the file into place once its
checksum matches. Integrity is either a sha256 in the manifest or `crc32_url`: FaceFusion's
convention of a `NAME.hash` file beside the download holding the CRC32 as 8 hex digits.

`LIPSYNC_STUDIO_MODEL_MIRROR` (whitespace-separated base URLs, tried in order) replaces the
manifest's URLs: an in-house mirror, or a local test server. A mirror serves each model
under its file name and, for crc32 models, the `.hash` file beside it. The `mirrors`
argument of `download()` does the same per call.

`status()` is cheap: it trusts the record while the file's size and mtime still match it
(re-hashing when the mtime is too close to the record to be trusted, as git does for
"racily clean" files). `verify()` always re-hashes.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Literal, TypeVar

from app import __version__
from app.engine import paths
from app.engine.errors import InputError, ModelNotInstalled
from app.engine.outputs import create_temp, download_part

log = logging.getLogger(__name__)
_T = TypeVar("_T")

Status = Literal["installed", "missing", "corrupt"]
ProgressCallback = Callable[[int, int | None], None]  # (bytes_done, total or None)

LIPSYNC_FAMILIES: tuple[str, ...] = ("wav2lip", "edtalk")
RESERVED_NAMES = frozenset({"auto", "draft"})  # model names the loader gives a meaning
MIRROR_ENV = "LIPSYNC_STUDIO_MODEL_MIRROR"
CUSTOM_REGISTRY_FILE = "custom_models.json"
CUSTOM_DIR = "custom"
CHUNK_SIZE = 256 * 1024
DEFAULT_TIMEOUT_S = 15.0  # per connect and per read: a silent server fails in seconds
# A record is only trusted if the file was last written this long before we hashed it: a
# rewrite within one filesystem timestamp tick would otherwise keep the same mtime.
RACY_NS = 2_000_000_000
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_CRC32_RE = re.compile(r"^[0-9a-fA-F]{8}$")
_ORT_DTYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
}


class DownloadError(InputError):
    """A model could not be fetched (network, server, checksum). The message says what to do."""


class ChecksumMismatch(DownloadError):
    """The downloaded bytes are not the published file; nothing was kept."""


class DownloadCancelled(Exception):
    """The cancel event was set; the `.part` file stays for a later resume."""


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[int | str, ...]  # int: fixed size; str: free (dynamic) size
    dtype: str = "float32"

    def describe(self) -> str:
        dims = ", ".join(str(d) for d in self.shape)
        return f"({dims}{',' if len(self.shape) == 1 else ''}) {self.dtype}"


@dataclass(frozen=True)
class Contract:
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]


@dataclass(frozen=True)
class ModelEntry:
    name: str
    family: str
    file: str  # relative to models_dir()
    urls: tuple[str, ...]  # primary first, then mirrors
    sha256: str | None  # known sha256, or None when only the published CRC32 is
    crc32_file: str | None  # name of the checksum file beside each URL (crc32_url)
    size: int  # bytes; approximate unless size_exact
    size_exact: bool
    licence: str
    licence_note: str
    non_commercial: bool
    contract: Contract
    custom: bool = False

    def sources(self) -> list[tuple[str, str | None]]:
        """(file URL, checksum-file URL or None) in the order to try them."""
        return [(url, _beside(url, self.crc32_file)) for url in self.urls]


@dataclass(frozen=True)
class InstalledModel:
    name: str
    family: str
    path: Path
    # contract tensor name -> the name in this file (they differ for re-exported files)
    input_names: dict[str, str] = field(default_factory=dict, hash=False)
    output_names: dict[str, str] = field(default_factory=dict, hash=False)


class Registry:
    """The built-in manifest plus this user's custom models, by name."""

    def __init__(self, entries: Sequence[ModelEntry], contracts: Mapping[str, Contract]) -> None:
        self._entries = {e.name: e for e in entries}
        self._contracts = dict(contracts)

    def get(self, name: str) -> ModelEntry:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self._entries) or "none"
            raise InputError(f"unknown model '{name}' (known: {known})") from None

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def entries(self) -> tuple[ModelEntry, ...]:
        return tuple(self._entries.values())

    def families(self) -> tuple[str, ...]:
        return tuple(self._contracts)

    def contract(self, family: str) -> Contract:
        try:
            return self._contracts[family]
        except KeyError:
            raise InputError(
                f"unknown model family '{family}' (known: {', '.join(self._contracts)})"
            ) from None

    def by_sha256(self, digest: str) -> ModelEntry | None:
        return next((e for e in self._entries.values() if e.sha256 == digest), None)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[ModelEntry]:
        return iter(self._entries.values())


# --------------------------------------------------------------------------- registry


def manifest_path() -> Path:
    return paths.resources_dir() / "models.json"


def custom_registry_path() -> Path:
    return paths.data_dir() / CUSTOM_REGISTRY_FILE


@lru_cache(maxsize=4)
def _load_manifest(path: Path) -> tuple[tuple[ModelEntry, ...], tuple[tuple[str, Contract], ...]]:
    """The built-in manifest, read once per process (the module's only cached state)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    contracts = {fam: _parse_contract(spec) for fam, spec in raw["families"].items()}
    entries = tuple(_parse_entry(item, contracts) for item in raw["models"])
    return entries, tuple(contracts.items())


def load_registry() -> Registry:
    builtin, contract_items = _load_manifest(manifest_path())
    contracts = dict(contract_items)
    entries = list(builtin)
    taken = {e.name for e in builtin}
    for item in _read_custom_items():
        try:
            entry = _parse_custom(item, contracts)
        except (KeyError, TypeError, ValueError) as exc:
            log.error(
                "ignoring a malformed entry in %s: %r (%s)", custom_registry_path(), item, exc
            )
            continue
        if entry.name in taken:
            log.error(
                "ignoring custom model %r in %s: the name is taken",
                entry.name,
                custom_registry_path(),
            )
            continue
        taken.add(entry.name)
        entries.append(entry)
    return Registry(entries, contracts)


def _parse_contract(spec: Mapping[str, Any]) -> Contract:
    def tensors(items: Sequence[Mapping[str, Any]]) -> tuple[TensorSpec, ...]:
        return tuple(
            TensorSpec(t["name"], tuple(t["shape"]), t.get("dtype", "float32")) for t in items
        )

    return Contract(tensors(spec["inputs"]), tensors(spec["outputs"]))


def _parse_entry(item: Mapping[str, Any], contracts: Mapping[str, Contract]) -> ModelEntry:
    integrity = item["integrity"]
    sha256, crc32_file = integrity.get("sha256"), integrity.get("crc32_url")
    if bool(sha256) == bool(crc32_file):
        raise ValueError(f"model {item['name']}: integrity needs exactly one of sha256, crc32_url")
    return ModelEntry(
        name=item["name"],
        family=item["family"],
        file=item["file"],
        urls=tuple(item["urls"]),
        sha256=sha256.lower() if sha256 else None,
        crc32_file=crc32_file,
        size=int(item["size"]),
        size_exact=bool(item.get("size_exact", False)),
        licence=item["licence"],
        licence_note=item.get("licence_note", ""),
        non_commercial=bool(item.get("non_commercial", False)),
        contract=contracts[item["family"]],
    )


def _parse_custom(item: Mapping[str, Any], contracts: Mapping[str, Contract]) -> ModelEntry:
    name = str(item["name"])
    if not _NAME_RE.match(name):
        raise ValueError(f"bad name {name!r}")
    return ModelEntry(
        name=name,
        family=item["family"],
        file=f"{CUSTOM_DIR}/{name}.onnx",
        urls=(),
        sha256=str(item["sha256"]).lower(),
        crc32_file=None,
        size=int(item["size"]),
        size_exact=True,
        licence="unknown (imported)",
        licence_note=f"imported by the user from {item.get('imported_from', '?')}",
        non_commercial=False,
        contract=contracts[item["family"]],
        custom=True,
    )


def _read_custom_items() -> list[dict[str, Any]]:
    path = custom_registry_path()
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return list(data["models"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.error("cannot read the custom model registry %s: %s", path, exc)
        return []


def _write_custom_items(items: list[dict[str, Any]]) -> None:
    _write_json_atomic(custom_registry_path(), {"schema": 1, "models": items})


# --------------------------------------------------------------------------- local state


def model_path(name: str) -> Path:
    return paths.models_dir() / load_registry().get(name).file


def _entry_path(entry: ModelEntry) -> Path:
    return paths.models_dir() / entry.file


def _found_path(entry: ModelEntry) -> Path:
    """The user's copy, else a read-only one bundled by `installer/build.py --with-models`."""
    path, bundled = _entry_path(entry), paths.resources_dir() / "models" / entry.file
    return bundled if not entry.custom and not path.exists() and bundled.is_file() else path


def _record_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(_record_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_record(
    path: Path,
    name: str,
    sha256: str,
    source: str,
    input_names: Mapping[str, str],
    output_names: Mapping[str, str],
    stat: os.stat_result | None = None,
) -> None:
    """Record what `path` was verified as. `stat`: of the file that will sit at `path`."""
    stat = stat or path.stat()
    _write_json_atomic(
        _record_path(path),
        {
            "name": name,
            "sha256": sha256,
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "checked_ns": time.time_ns(),
            "source": source,
            "input_names": dict(input_names),
            "output_names": dict(output_names),
        },
    )


def _write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = create_temp(path)
    try:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _expected_sha256(entry: ModelEntry, record: Mapping[str, Any] | None) -> str | None:
    if entry.sha256:
        return entry.sha256
    return str(record["sha256"]) if record and record.get("sha256") else None


def _check(entry: ModelEntry, deep: bool) -> Status:
    path = _found_path(entry)
    try:
        st = path.stat()
    except FileNotFoundError:
        return "missing"
    record = _read_record(path)
    expected = _expected_sha256(entry, record)
    if expected is None:  # a crc32-only model dropped in by hand: nothing to check it against
        return "corrupt"
    trusted = (
        not deep
        and record is not None
        and record.get("sha256") == expected
        and record.get("size") == st.st_size
        and record.get("mtime_ns") == st.st_mtime_ns
        and int(record.get("checked_ns", 0)) - st.st_mtime_ns > RACY_NS
    )
    if trusted:
        return "installed"
    if _hash_file(path)[0] != expected:
        if record is not None and record.get("checked_ns"):  # stop trusting it cheaply
            try:
                _write_json_atomic(_record_path(path), {**record, "checked_ns": 0})
            except OSError as exc:
                log.debug("cannot update the record of %s: %s", path, exc)
        return "corrupt"
    if time.time_ns() - st.st_mtime_ns > RACY_NS:  # old enough now: let the next check be cheap
        try:
            _write_record(
                path,
                entry.name,
                expected,
                (record or {}).get("source", "found in the models folder"),
                (record or {}).get("input_names", _identity(entry.contract.inputs)),
                (record or {}).get("output_names", _identity(entry.contract.outputs)),
                stat=st,
            )
        except OSError as exc:  # a read-only models folder still works, just slower
            log.debug("cannot refresh the record of %s: %s", path, exc)
    return "installed"


def status(name: str) -> Status:
    return _check(load_registry().get(name), deep=False)


def verify(name: str) -> bool:
    """Re-hash the installed file: True when it is present and matches its checksum."""
    return _check(load_registry().get(name), deep=True) == "installed"


def resolve(name: str) -> InstalledModel:
    """The installed model `name`, ready to load; ModelNotInstalled says how to get it."""
    entry = load_registry().get(name)
    path = _entry_path(entry)
    state = _check(entry, deep=False)
    if state == "missing":
        raise ModelNotInstalled(
            _how_to_get(entry, f"model {name} is not installed ({path} is missing)")
        )
    if state == "corrupt":
        raise ModelNotInstalled(_how_to_get(entry, f"model {name} at {path} fails its checksum"))
    return _installed(entry)


def installed_models() -> list[InstalledModel]:
    """Every model whose file is present and passes its (cheap) check, in registry order."""
    return [_installed(e) for e in load_registry() if _check(e, deep=False) == "installed"]


def _installed(entry: ModelEntry) -> InstalledModel:
    path = _found_path(entry)
    record = _read_record(path) or {}
    return InstalledModel(
        name=entry.name,
        family=entry.family,
        path=path,
        input_names=dict(record.get("input_names") or _identity(entry.contract.inputs)),
        output_names=dict(record.get("output_names") or _identity(entry.contract.outputs)),
    )


def find_detector_model() -> Path | None:
    """The installed YuNet file, or None (callers then fall back to OpenCV's Haar cascade)."""
    for entry in load_registry():
        if entry.family == "detector" and _check(entry, deep=False) == "installed":
            return _found_path(entry)
    return None


def delete(name: str) -> None:
    """Remove the model's file, its record and any partial download; forget a custom model."""
    entry = load_registry().get(name)
    path = _entry_path(entry)
    found = False
    for leftover in (path, _record_path(path), download_part(path)):
        if leftover.exists():
            leftover.unlink()
            found = True
    if entry.custom:
        items = _read_custom_items()
        _write_custom_items([i for i in items if i.get("name") != name])
        found = True
    if not found:
        raise ModelNotInstalled(f"model {name} is not installed: nothing to delete at {path}")


def _identity(specs: Sequence[TensorSpec]) -> dict[str, str]:
    return {s.name: s.name for s in specs}


def _how_to_get(entry: ModelEntry, problem: str) -> str:
    if entry.custom:
        return (
            f"{problem}. It was imported by hand: import it again with "
            f"`lipsync-studio models import FILE --as {entry.name} --family {entry.family}`"
        )
    return (
        f"{problem}. Run `lipsync-studio models pull {entry.name}`, or download "
        f"{entry.urls[0]} by hand and run "
        f"`lipsync-studio models import FILE --as {entry.name}`"
    )


# --------------------------------------------------------------------------- hashing


def _hash_file(path: Path) -> tuple[str, str]:
    """(sha256 hex, crc32 as 8 lowercase hex digits) in one pass."""
    sha, crc = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            sha.update(chunk)
            crc = zlib.crc32(chunk, crc)
    return sha.hexdigest(), format(crc, "08x")


# --------------------------------------------------------------------------- download


class _Retryable(Exception):
    """This attempt failed in a way worth repeating on the same URL."""


class _SourceFailed(Exception):
    """This URL will not work (404, bad checksum file …): move on to the next one."""


def _beside(url: str, file_name: str | None) -> str | None:
    return urllib.parse.urljoin(url, file_name) if file_name else None


def _mirror_sources(entry: ModelEntry, mirrors: Sequence[str]) -> list[tuple[str, str | None]]:
    out = []
    for base in mirrors:
        base = base if base.endswith("/") else base + "/"
        out.append((urllib.parse.urljoin(base, entry.file), _beside(base, entry.crc32_file)))
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
    target = _entry_path(entry)
    state = _check(entry, deep=False)
    if state == "installed":
        return _found_path(entry)
    if state == "corrupt":
        log.warning("%s fails its checksum: deleting it and downloading again", target)
        target.unlink(missing_ok=True)  # a corrupt bundled copy stays; the user's replaces it
        _record_path(target).unlink(missing_ok=True)
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
            inputs, outputs = check_contract(part, entry.contract, entry.family, shown_as=url)
        except InputError as exc:
            part.unlink()
            raise DownloadError(
                f"model {name}: the file published at {url} passed its checksum but does not "
                f"fit the registry ({exc}); it was deleted. This is a bug in "
                f"resources/models.json: please report it"
            ) from None
        # Record first, then rename: a crash in between leaves a file whose record says
        # what it should be, never an unchecked file that looks installed.
        _write_record(target, entry.name, sha256, url, inputs, outputs, stat=part.stat())
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
    sha256, crc = _hash_file(part)
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


# --------------------------------------------------------------------------- import


def import_model(
    path: Path | str, as_name: str | None = None, family: str | None = None
) -> InstalledModel:
    """Install a model file the user already has.

    A file whose sha256 is a registry model's is installed as that model. With `as_name` a
    registry model known only by CRC32, the file is checked against its family's contract
    and its sha256 recorded. Any other file needs `as_name` and `family` (wav2lip|edtalk)
    and becomes a custom model, usable by name everywhere.
    """
    src = Path(path)
    if src.is_dir():
        raise InputError(f"{src}: is a folder; give the model's .onnx file")
    if not src.is_file():
        raise InputError(f"{src}: no such file")
    registry = load_registry()
    if family is not None:
        registry.contract(family)  # unknown family: a clear InputError
    if as_name is not None and as_name not in registry:
        if not _NAME_RE.match(as_name) or as_name in RESERVED_NAMES:
            raise InputError(
                f"{src}: '{as_name}' cannot be a model name (use letters, digits, "
                f"_ . -, at most 64, and not {', '.join(sorted(RESERVED_NAMES))})"
            )
        if family not in LIPSYNC_FAMILIES:
            raise InputError(
                f"{src}: a new model '{as_name}' needs --family "
                f"{' or --family '.join(LIPSYNC_FAMILIES)}"
            )

    try:
        staged = create_temp(paths.models_dir() / src.name)
    except OSError as exc:
        raise InputError(
            f"{src}: cannot copy it into {paths.models_dir()} ({exc.strerror or exc})"
        ) from None
    try:
        sha256 = _copy_hashing(src, staged)
        entry = _choose_entry(registry, src, sha256, as_name, family)
        if not entry.custom and entry.sha256 == sha256:  # the published file: no doubt left
            inputs, outputs = _identity(entry.contract.inputs), _identity(entry.contract.outputs)
        else:
            inputs, outputs = check_contract(staged, entry.contract, entry.family, shown_as=src)
        target = _entry_path(entry)
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_record(target, entry.name, sha256, str(src), inputs, outputs, stat=staged.stat())
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    if entry.custom:
        items = [i for i in _read_custom_items() if i.get("name") != entry.name]
        items.append(
            {
                "name": entry.name,
                "family": entry.family,
                "sha256": sha256,
                "size": target.stat().st_size,
                "imported_from": str(src),
            }
        )
        _write_custom_items(items)
    download_part(target).unlink(missing_ok=True)  # a half download of it is moot now
    log.info("imported %s as %s (%s) at %s", src, entry.name, entry.family, target)
    return InstalledModel(entry.name, entry.family, target, inputs, outputs)


def _copy_hashing(src: Path, dst: Path) -> str:
    sha = hashlib.sha256()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(1024 * 1024):
            sha.update(chunk)
            fout.write(chunk)
    return sha.hexdigest()


def _choose_entry(
    registry: Registry, src: Path, sha256: str, as_name: str | None, family: str | None
) -> ModelEntry:
    if as_name is None:
        entry = registry.by_sha256(sha256)
        if entry is None:
            named = next((e for e in registry if e.file == src.name), None)
            hint = f" It is named like {named.name}'s file: add --as {named.name}." if named else ""
            raise InputError(
                f"{src} is not a known model file (sha256 {sha256}).{hint} To use it anyway, run "
                f"`lipsync-studio models import {src} --as NAME --family wav2lip|edtalk`"
            )
    elif as_name in registry:
        entry = registry.get(as_name)
        if entry.sha256 is not None and not entry.custom and entry.sha256 != sha256:
            raise InputError(
                f"{src} is not {as_name}: its sha256 is {sha256}, {as_name}'s is {entry.sha256}"
            )
    else:
        assert family is not None  # checked by import_model before copying
        return ModelEntry(
            name=as_name,
            family=family,
            file=f"{CUSTOM_DIR}/{as_name}.onnx",
            urls=(),
            sha256=sha256,
            crc32_file=None,
            size=src.stat().st_size,
            size_exact=True,
            licence="unknown (imported)",
            licence_note=f"imported by the user from {src}",
            non_commercial=False,
            contract=registry.contract(family),
            custom=True,
        )
    if family is not None and family != entry.family:
        raise InputError(f"{src}: model {entry.name} is of the {entry.family} family, not {family}")
    if entry.custom:  # re-import under the same name: the new file's hash is the truth
        return replace(entry, sha256=sha256, size=src.stat().st_size)
    return entry


# --------------------------------------------------------------------------- contracts


def read_io(
    path: Path,
    shown_as: Path | str | None = None,
) -> tuple[list[TensorSpec], list[TensorSpec]]:
    """The inputs and outputs an ONNX file declares, read by loading it (never running it)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # ORT raises several private types for unreadable files
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{shown_as or path}: not a loadable ONNX model ({first_line})") from None

    def specs(args: Sequence[Any]) -> list[TensorSpec]:
        return [
            TensorSpec(
                a.name,
                tuple(d if isinstance(d, int) else (d or "?") for d in a.shape),
                _ORT_DTYPES.get(a.type, a.type),
            )
            for a in args
        ]

    return specs(session.get_inputs()), specs(session.get_outputs())


def check_contract(
    path: Path, contract: Contract, family: str, shown_as: Path | str | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """Bind the file's inputs/outputs to the contract's: by name where names match, else by
    a unique compatible shape. Returns (inputs, outputs) maps contract name -> file name;
    raises InputError naming the file and every difference."""
    inputs, outputs = read_io(path, shown_as)
    in_map, extra_in, problems = _bind(contract.inputs, inputs, "input")
    out_map, _unused_outputs, out_problems = _bind(contract.outputs, outputs, "output")
    problems += out_problems
    # An input the contract does not know could never be fed; spare outputs are harmless.
    problems += [f"unexpected input '{s.name}' {s.describe()}" for s in extra_in]
    if problems:
        raise InputError(
            f"{shown_as or path} does not fit the {family} model contract: " + "; ".join(problems)
        )
    return in_map, out_map


def _bind(
    wanted: Sequence[TensorSpec], have: Sequence[TensorSpec], kind: str
) -> tuple[dict[str, str], list[TensorSpec], list[str]]:
    binding: dict[str, str] = {}
    problems: list[str] = []
    free = {t.name: t for t in have}
    for w in wanted:
        if w.name in free:
            diff = _difference(w, free[w.name])
            if diff:
                problems.append(f"{kind} '{w.name}' {diff}")
            binding[w.name] = free.pop(w.name).name
    pending = [w for w in wanted if w.name not in binding]
    changed = True
    while pending and changed:  # bind the unambiguous ones first; that may settle the rest
        changed = False
        for w in list(pending):
            fits = [t for t in free.values() if not _difference(w, t)]
            if len(fits) == 1:
                binding[w.name] = free.pop(fits[0].name).name
                pending.remove(w)
                changed = True
    for w in pending:
        fits = [t.name for t in free.values() if not _difference(w, t)]
        if fits:
            problems.append(
                f"{kind} '{w.name}' {w.describe()} is ambiguous: could be "
                + " or ".join(f"'{n}'" for n in fits)
            )
        else:
            offered = ", ".join(f"'{t.name}' {t.describe()}" for t in free.values()) or "nothing"
            problems.append(
                f"no {kind} fits '{w.name}' {w.describe()} (left in the file: {offered})"
            )
    return binding, list(free.values()), problems


def _difference(want: TensorSpec, got: TensorSpec) -> str:
    """'' when `got` can take/give what the contract says; else what differs."""
    if got.dtype != want.dtype:
        return f"is {got.dtype}, expected {want.dtype}"
    fits = len(got.shape) == len(want.shape) and all(
        not (isinstance(w, int) and isinstance(g, int)) or w == g
        for w, g in zip(want.shape, got.shape)
    )
    return "" if fits else f"has shape {got.describe()}, expected {want.describe()}"
