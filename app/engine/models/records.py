"""Install records and hashing: what an installed model file was verified as.

Each weights file has a small JSON record beside it (`FILE.json`): the sha256 it was
verified against (so later checks need no network even for models whose publisher only
gives a CRC32), the size and mtime it had then, where it came from, and the binding of its
tensors to the family's contract (contracts.TensorNames).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.engine.models.contracts import Contract, TensorNames
from app.engine.outputs import create_temp


def record_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def read_record(path: Path) -> dict[str, Any] | None:
    """The record beside `path`, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads(record_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def recorded_names(record: Mapping[str, Any] | None, contract: Contract) -> TensorNames:
    """The binding a record holds; the contract's own names for a file recorded without one."""
    record = record or {}
    identity = TensorNames.identity(contract)
    return TensorNames(
        dict(record.get("input_names") or identity.inputs),
        dict(record.get("output_names") or identity.outputs),
    )


def write_record(
    path: Path,
    name: str,
    sha256: str,
    source: str,
    names: TensorNames,
    stat: os.stat_result | None = None,
) -> None:
    """Record what `path` was verified as. `stat`: of the file that will sit at `path`."""
    stat = stat or path.stat()
    write_json_atomic(
        record_path(path),
        {
            "name": name,
            "sha256": sha256,
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "checked_ns": time.time_ns(),
            "source": source,
            "input_names": dict(names.inputs),
            "output_names": dict(names.outputs),
        },
    )


def write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = create_temp(path)
    try:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def hash_file(path: Path) -> tuple[str, str]:
    """(sha256 hex, crc32 as 8 lowercase hex digits) in one pass."""
    sha, crc = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            sha.update(chunk)
            crc = zlib.crc32(chunk, crc)
    return sha.hexdigest(), format(crc, "08x")


def copy_hashing(src: Path, dst: Path) -> str:
    """Copy `src` to `dst`; the sha256 of what was copied."""
    sha = hashlib.sha256()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(1024 * 1024):
            sha.update(chunk)
            fout.write(chunk)
    return sha.hexdigest()
