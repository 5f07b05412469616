"""Logging setup: where log records go. The front ends call it; modules just log.

- `setup_console_logging(verbose)`: records on stderr (the CLI's `-v` shows INFO).
- `setup_logging()`: every record at INFO and up also goes to one rotating JSON-lines file
  (`JsonFormatter`), attached to the root logger so third-party warnings land there too;
  the GUI's log panel and `queue/joblog.py` read it back.
- `log_to_file()`: the same, keeping the console at the level it had (the GUI, `batch`).

Modules keep logging through `logging.getLogger(__name__)`; anything passed in `extra=`
(job_id, event, timings …) becomes a field of the JSON object.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import logging.handlers
from pathlib import Path
from typing import Any

from app.engine import paths

LOG_NAME = "lipsync-studio.jsonl"
MAX_BYTES = 5 * 1024 * 1024
BACKUP_COUNT = 3
FIELDS_ATTR = "lipsync_fields"  # where joblog.log_event puts its fields on the LogRecord
_BASE_KEYS = ("time", "level", "logger", "message")
# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_RECORD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


def setup_console_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def log_to_file() -> Path:
    """`setup_logging()`, with the console kept at the level it had (setup_logging lowers
    the root logger's level to INFO, which a plain console handler would follow)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if type(handler) is logging.StreamHandler and handler.level == logging.NOTSET:
            handler.setLevel(root.level)
    return setup_logging()


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
        extras.update(extras.pop(FIELDS_ATTR, None) or {})
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
