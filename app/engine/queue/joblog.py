"""Structured log: one rotating JSON-lines file that the GUI log panel reads back.

`setup_logging()` (the app's entry points call it once) attaches a RotatingFileHandler
with `JsonFormatter` to the root logger, so third-party warnings land in the same file.
Modules keep logging through `logging.getLogger(__name__)`; anything passed in
`extra=` (job_id, event, timings …) becomes a field of the JSON object, and
`log_event()` is the short form for a named event with fields.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import logging.handlers
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.engine import paths

log = logging.getLogger(__name__)

LOG_NAME = "lipsync-studio.jsonl"
MAX_BYTES = 5 * 1024 * 1024
BACKUP_COUNT = 3
_BASE_KEYS = ("time", "level", "logger", "message")
_FIELDS_ATTR = "lipsync_fields"  # where log_event puts its fields on the LogRecord
# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_RECORD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


def log_path() -> Path:
    return paths.log_dir() / LOG_NAME


def _json_default(value: object) -> object:
    """numpy scalars -> numbers; dataclasses (stage clocks …) -> dicts; the rest -> str."""
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", None) == 0:
        return value.item()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return str(value)


def _lower_root_level(level: int) -> None:
    """The root logger's level gates every record: lower it to ours, never raise it."""
    root = logging.getLogger()
    if root.level != logging.NOTSET and root.level > level:  # NOTSET on root: all pass
        root.setLevel(level)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, then the extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        created = dt.datetime.fromtimestamp(record.created).astimezone()
        obj: dict[str, Any] = {
            "time": created.isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        extras = {k: v for k, v in record.__dict__.items() if k not in _RECORD_ATTRS}
        extras.update(extras.pop(_FIELDS_ATTR, None) or {})
        for key, value in extras.items():
            # A field must not overwrite the four base keys: keep both.
            obj[f"field_{key}" if key in _BASE_KEYS else key] = value
        if record.exc_info:
            obj["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            obj["stack"] = self.formatStack(record.stack_info)
        # One line per record: json.dumps escapes the newlines inside strings.
        return json.dumps(obj, ensure_ascii=False, default=_json_default)


class _JsonlHandler(logging.handlers.RotatingFileHandler):
    """Marks the handler setup_logging installed, so a second call finds it."""

    previous_root_level: int = logging.WARNING


def setup_logging(
    path: Path | None = None,
    level: int = logging.INFO,
    max_bytes: int = MAX_BYTES,
    backup_count: int = BACKUP_COUNT,
) -> Path:
    """Send every log record at `level` or above to the JSON-lines file; returns its path.

    Idempotent: calling it again with the same file does nothing; with another file
    (LIPSYNC_STUDIO_HOME changed, as in tests) the old handler is closed and replaced.
    """
    path = Path(path) if path is not None else log_path()
    root = logging.getLogger()
    previous_level = root.level
    for handler in list(root.handlers):
        if isinstance(handler, _JsonlHandler):
            if Path(handler.baseFilename) == path.resolve():
                handler.setLevel(level)
                _lower_root_level(level)
                return path
            root.removeHandler(handler)
            handler.close()
            previous_level = handler.previous_root_level  # the level before we first set up
    path.parent.mkdir(parents=True, exist_ok=True)
    # delay: the file is created at the first record, not at import of a CLI that logs nothing.
    handler = _JsonlHandler(
        path, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8", delay=True
    )
    handler.setFormatter(JsonFormatter())
    handler.setLevel(level)
    handler.previous_root_level = previous_level  # shutdown_logging puts it back
    root.addHandler(handler)
    _lower_root_level(level)
    return path


def shutdown_logging() -> None:
    """Detach and close the JSON-lines handler (tests; the app leaves it to exit)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _JsonlHandler):
            root.removeHandler(handler)
            handler.close()
            root.setLevel(handler.previous_root_level)


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
    (logger or log).log(level, "%s", message, extra={"event": event, _FIELDS_ATTR: fields})


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
