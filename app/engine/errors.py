"""Exceptions that cross the engine's boundary.

`InputError` is a problem with what the user gave us (a file, a setting): the CLI
prints its message on one line and exits 2. Its message always names the file.
"""


class InputError(Exception):
    """Bad input from the user: missing/unreadable/unsupported file, bad option."""


class ModelNotInstalled(InputError):
    """A model was asked for by name but its weights are not on this machine."""


class RenderCancelled(Exception):
    """The render was cancelled through its cancel flag; nothing was written."""


class ModelOutputError(InputError):
    """A model returned NaN or infinite values: a damaged file, or fp16 overflow."""
