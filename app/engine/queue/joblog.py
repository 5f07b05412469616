"""Job events in the structured log: write a named event with fields, read events back.

The JSON-lines file itself is set up by the front ends (app/engine/logs.py).
`log_event()` is the short form for a named event with fields; `read_events()` reads the
file (and its rotated backups) back, for the GUI's log panel and the tests.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.engine.logs import FIELDS_ATTR, log_path

log = logging.getLogger(__name__)


def log_event(
    event: str,
    *,
    level: int = logging.INFO,
    logger: logging.Logger | None = None,
    message: str | None = None,
    **fields: Any,
) -> None:
    """Log a named event with fields: log_event("job_finish", job_id=3, elapsed_s=1.2).

    The message defaults to "event key=value …" so the line reads well in a plain
    console handler too.
    """
    if message is None:
        message = " ".join([event, *(f"{k}={v}" for k, v in fields.items())])
    (logger or log).log(level, "%s", message, extra={"event": event, FIELDS_ATTR: fields})


def _lines_newest_first(path: Path) -> Iterator[str]:
    """Lines of the log and its rotated backups (.1 newest … .N oldest), newest first."""
    files = [path] + [path.with_name(f"{path.name}.{i}") for i in range(1, 100)]
    for file in files:
        try:
            text = file.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            if file is path:
                continue
            return
        yield from reversed(text.splitlines())


def read_events(
    job_id: int | None = None,
    limit: int = 500,
    path: Path | None = None,
    event: str | None = None,
) -> list[dict[str, Any]]:
    """The last `limit` log records (of one job, of one event), oldest first.

    Lines that are not JSON (a torn last line, something another tool wrote) are skipped.
    """
    path = Path(path) if path is not None else log_path()
    # Cheap substring test before json.loads: a job's lines contain `"job_id": N`.
    needle = f'"job_id": {job_id}' if job_id is not None else None
    found: list[dict[str, Any]] = []
    for line in _lines_newest_first(path):
        if len(found) >= limit:
            break
        if needle is not None and needle not in line:
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        if job_id is not None and obj.get("job_id") != job_id:
            continue
        if event is not None and obj.get("event") != event:
            continue
        found.append(obj)
    found.reverse()
    return found
