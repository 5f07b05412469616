"""argparse `type=` checkers: a bad number or device is a one-line usage error (exit 2),
never a traceback from deep inside (SQLite, NumPy) after minutes of work."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from app.engine.errors import InputError

SQLITE_MAX = 2**63 - 1  # job ids and priorities live in SQLite INTEGER columns
MAX_PRIORITY = 1_000_000
MAX_BATCH = 4096  # frames per model call; far above what any GPU holds


def int_between(low: int, high: int) -> Callable[[str], int]:
    """An int in [low, high]; argparse names the option in its error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is not between {low} and {high}")
        return value

    parse.__name__ = "int"  # argparse says "invalid int value" for a ValueError
    return parse


job_id = int_between(1, SQLITE_MAX)
priority = int_between(-MAX_PRIORITY, MAX_PRIORITY)
batch_size = int_between(1, MAX_BATCH)
still_side = int_between(0, 1 << 16)  # pixels; 0 = never scale a still


def path(text: str) -> Path:
    """A file or folder path; `~` is the home folder even when the shell left it (quoted)."""
    return Path(os.path.expanduser(text))


def seconds(text: str) -> float:
    """A positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < 86_400:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 86400 seconds")
    return value


def device(text: str) -> str:
    """auto | cpu | cuda[:N] | dml[:N], checked for syntax (what the machine has is checked
    with the model, see lipsync.loader.check_device)."""
    from app.engine.models.providers import parse_device

    try:
        parse_device(text)
    except InputError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: use auto, cpu, cuda, cuda:N, dml or dml:N"
        ) from None
    return text.strip().lower()
