"""Exceptions that cross the engine's boundary.

`InputError` is a problem with what the user gave us (a file, a setting): the CLI
prints its message on one line and exits 2. Its message always names the file.
"""


class InputError(Exception):
    """Bad input from the user: missing/unreadable/unsupported file, bad option."""


class ModelNotInstalled(InputError):
    """A model was asked for by name but its weights are not on this machine."""


class Cancelled(Exception):
    """Work stopped because its cancel Event was set (not a failure)."""


class RenderCancelled(Cancelled):
    """The render was cancelled through its cancel flag; nothing was written."""


class DownloadCancelled(Cancelled):
    """A model download was cancelled; its `.part` file stays for a later resume."""


class ModelOutputError(InputError):
    """A model returned NaN or infinite values: a damaged file, or fp16 overflow."""
