"""Model import: install a model file the user already has (no network).

The file is copied in while hashing, matched to a registry model (by sha256, or by the
name given), bound to its family's contract, recorded, then moved into place; a file that
fits no registry model becomes a custom model under the name given.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

from app.engine import paths
from app.engine.errors import InputError
from app.engine.models.contracts import bind_file
from app.engine.models.records import copy_hashing, write_record
from app.engine.models.registry import (
    CUSTOM_DIR,
    LIPSYNC_FAMILIES,
    NAME_RE,
    RESERVED_NAMES,
    InstalledModel,
    ModelEntry,
    Registry,
    entry_path,
    load_registry,
    read_custom_items,
    write_custom_items,
)
from app.engine.outputs import create_temp, download_part

log = logging.getLogger(__name__)


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
        if not NAME_RE.match(as_name) or as_name in RESERVED_NAMES:
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
        sha256 = copy_hashing(src, staged)
        entry = _choose_entry(registry, src, sha256, as_name, family)
        # Even the published file: the record holds the file's own tensor names.
        names = bind_file(staged, entry.contract, label=str(src)).names()
        target = entry_path(entry)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_record(target, entry.name, sha256, str(src), names, stat=staged.stat())
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    if entry.custom:
        items = [i for i in read_custom_items() if i.get("name") != entry.name]
        items.append(
            {
                "name": entry.name,
                "family": entry.family,
                "sha256": sha256,
                "size": target.stat().st_size,
                "imported_from": str(src),
            }
        )
        write_custom_items(items)
    download_part(target).unlink(missing_ok=True)  # a half download of it is moot now
    log.info("imported %s as %s (%s) at %s", src, entry.name, entry.family, target)
    return InstalledModel(entry.name, entry.family, target, dict(names.inputs), dict(names.outputs))


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
