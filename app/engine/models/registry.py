"""Model registry: which weights exist, where they live, whether they are installed.

The built-in models come from `app/resources/models.json`; models the user imports under their
own name ("custom" models) are added from `custom_models.json` in the data folder. Each entry
names its family; what a family's file takes and gives is declared in contracts.py. Weights
live in `paths.models_dir()` (custom ones in its `custom/` folder), each with an install record
beside it (records.py). Getting them there: download.py (HTTP, verified) and importing.py (a
file the user already has).

`status()` is cheap: it trusts the record while the file's size and mtime still match it
(re-hashing when the mtime is too close to the record to be trusted, as git does for
"racily clean" files). `verify()` always re-hashes.
"""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from app.engine import paths
from app.engine.errors import InputError, ModelNotInstalled
from app.engine.models.contracts import FAMILIES, Contract, TensorNames
from app.engine.models.records import (
    hash_file,
    read_record,
    record_path,
    recorded_names,
    write_json_atomic,
    write_record,
)
from app.engine.outputs import download_part

log = logging.getLogger(__name__)

Status = Literal["installed", "missing", "corrupt"]

LIPSYNC_FAMILIES: tuple[str, ...] = ("wav2lip", "edtalk")
RESERVED_NAMES = frozenset({"auto", "draft"})  # model names the loader gives a meaning
CUSTOM_REGISTRY_FILE = "custom_models.json"
CUSTOM_DIR = "custom"
# A record is only trusted if the file was last written this long before we hashed it: a
# rewrite within one filesystem timestamp tick would otherwise keep the same mtime.
RACY_NS = 2_000_000_000
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


# --------------------------------------------------------------------------- data


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
        return [(url, beside(url, self.crc32_file)) for url in self.urls]


@dataclass(frozen=True)
class InstalledModel:
    name: str
    family: str
    path: Path
    # contract tensor name -> the name in this file (they differ for re-exported files)
    input_names: dict[str, str] = field(default_factory=dict, hash=False)
    output_names: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def names(self) -> TensorNames:
        """The binding recorded at install: what the runner feeds and reads."""
        return TensorNames(self.input_names, self.output_names)


class Registry:
    """The built-in manifest plus this user's custom models, by name."""

    def __init__(self, entries: Sequence[ModelEntry]) -> None:
        self._entries = {e.name: e for e in entries}

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
        return tuple(FAMILIES)

    def contract(self, family: str) -> Contract:
        try:
            return FAMILIES[family]
        except KeyError:
            raise InputError(
                f"unknown model family '{family}' (known: {', '.join(FAMILIES)})"
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
def _load_manifest(path: Path) -> tuple[ModelEntry, ...]:
    """The built-in manifest, read once per process (the module's only cached state)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return tuple(_parse_entry(item) for item in raw["models"])


def load_registry() -> Registry:
    builtin = _load_manifest(manifest_path())
    entries = list(builtin)
    taken = {e.name for e in builtin}
    for item in read_custom_items():
        try:
            entry = _parse_custom(item)
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
    return Registry(entries)


def _parse_entry(item: Mapping[str, Any]) -> ModelEntry:
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
        contract=FAMILIES[item["family"]],
    )


def _parse_custom(item: Mapping[str, Any]) -> ModelEntry:
    name = str(item["name"])
    if not NAME_RE.match(name):
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
        contract=FAMILIES[item["family"]],
        custom=True,
    )


def read_custom_items() -> list[dict[str, Any]]:
    path = custom_registry_path()
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return list(data["models"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.error("cannot read the custom model registry %s: %s", path, exc)
        return []


def write_custom_items(items: list[dict[str, Any]]) -> None:
    write_json_atomic(custom_registry_path(), {"schema": 1, "models": items})


# --------------------------------------------------------------------------- local state


def model_path(name: str) -> Path:
    return paths.models_dir() / load_registry().get(name).file


def entry_path(entry: ModelEntry) -> Path:
    return paths.models_dir() / entry.file


def found_path(entry: ModelEntry) -> Path:
    """The user's copy, else a read-only one shipped with the app (app/resources/models/: YuNet
    as package data; more bundled by `installer/build.py --with-models`)."""
    path, bundled = entry_path(entry), paths.resources_dir() / "models" / entry.file
    return bundled if not entry.custom and not path.exists() and bundled.is_file() else path


def _expected_sha256(entry: ModelEntry, record: Mapping[str, Any] | None) -> str | None:
    if entry.sha256:
        return entry.sha256
    return str(record["sha256"]) if record and record.get("sha256") else None


def check(entry: ModelEntry, deep: bool) -> Status:
    """The entry's file state; `deep`: re-hash it even where its record can be trusted."""
    path = found_path(entry)
    try:
        st = path.stat()
    except FileNotFoundError:
        return "missing"
    record = read_record(path)
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
    if hash_file(path)[0] != expected:
        if record is not None and record.get("checked_ns"):  # stop trusting it cheaply
            try:
                write_json_atomic(record_path(path), {**record, "checked_ns": 0})
            except OSError as exc:
                log.debug("cannot update the record of %s: %s", path, exc)
        return "corrupt"
    # Old enough now: let the next check be cheap. Never start a record inside the app's own
    # folder (a model shipped as package data, e.g. YuNet): it is hashed at every load.
    shipped = record is None and path.parent == paths.resources_dir() / "models"
    if not shipped and time.time_ns() - st.st_mtime_ns > RACY_NS:
        try:
            write_record(
                path,
                entry.name,
                expected,
                (record or {}).get("source", "found in the models folder"),
                recorded_names(record, entry.contract),
                stat=st,
            )
        except OSError as exc:  # a read-only models folder still works, just slower
            log.debug("cannot refresh the record of %s: %s", path, exc)
    return "installed"


def status(name: str) -> Status:
    return check(load_registry().get(name), deep=False)


def verify(name: str) -> bool:
    """Re-hash the installed file: True when it is present and matches its checksum."""
    return check(load_registry().get(name), deep=True) == "installed"


def resolve(name: str) -> InstalledModel:
    """The installed model `name`, ready to load; ModelNotInstalled says how to get it."""
    entry = load_registry().get(name)
    path = entry_path(entry)
    state = check(entry, deep=False)
    if state == "missing":
        raise ModelNotInstalled(
            how_to_get(entry, f"model {name} is not installed ({path} is missing)")
        )
    if state == "corrupt":
        raise ModelNotInstalled(how_to_get(entry, f"model {name} at {path} fails its checksum"))
    return _installed(entry)


def installed_models() -> list[InstalledModel]:
    """Every model whose file is present and passes its (cheap) check, in registry order."""
    return [_installed(e) for e in load_registry() if check(e, deep=False) == "installed"]


def _installed(entry: ModelEntry) -> InstalledModel:
    path = found_path(entry)
    names = recorded_names(read_record(path), entry.contract)
    return InstalledModel(entry.name, entry.family, path, dict(names.inputs), dict(names.outputs))


def find_detector_model() -> Path | None:
    """The installed YuNet file, or None (callers then fall back to OpenCV's Haar cascade)."""
    for entry in load_registry():
        if entry.family == "detector" and check(entry, deep=False) == "installed":
            return found_path(entry)
    return None


def delete(name: str) -> None:
    """Remove the model's file, its record and any partial download; forget a custom model."""
    entry = load_registry().get(name)
    path = entry_path(entry)
    found = False
    for leftover in (path, record_path(path), download_part(path)):
        if leftover.exists():
            leftover.unlink()
            found = True
    if entry.custom:
        items = read_custom_items()
        write_custom_items([i for i in items if i.get("name") != name])
        found = True
    if not found:
        raise ModelNotInstalled(f"model {name} is not installed: nothing to delete at {path}")


def how_to_get(entry: ModelEntry, problem: str) -> str:
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


def beside(url: str, file_name: str | None) -> str | None:
    """The URL of `file_name` published beside `url` (a checksum file), or None."""
    return urllib.parse.urljoin(url, file_name) if file_name else None
