"""The frozen app's entry point: both executables of the PyInstaller bundle run this file.

- `lipsync-studio-cli[.exe]` (console): the command line, exactly as `lipsync-studio` from
  pip (`render`, `demo`, `probe`, `models`, `batch`, `queue`; no arguments opens the GUI).
- `lipsync-studio[.exe]` (windowed on Windows: no console): the desktop app, given no
  arguments or files (a file association, "Open with"; `--smoke-test`): they are left in
  sys.argv for `app.ui.main.run_gui()`. Given an option or a command (`--version`,
  `--help`, `render …`) it is the command line too, as `lipsync-studio` from pip; on
  Windows it then writes to the console it was started from.

Which one runs is decided by the executable's name and arguments, so one Analysis (one copy
of every module and library) serves both. A bundle whose GUI is missing fails loudly here: it never
falls back to printing the CLI's help.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path

GUI_OPTIONS = ("--smoke-test",)


def wants_cli(executable: str, args: list[str]) -> bool:
    """The command line: always for the -cli executable; for the other one when its first
    argument is an option or a command, not a file to open in the desktop app."""
    if Path(executable).stem.lower().endswith("-cli"):
        return True
    if not args or args[0] in GUI_OPTIONS:
        return False
    return args[0].startswith("-") or not Path(args[0]).exists()


def _attach_parent_console() -> None:
    """Windows' windowed executable has no console: write to the one it was started from."""
    import ctypes

    if ctypes.windll.kernel32.AttachConsole(-1):  # type: ignore[attr-defined]
        sys.stdout = open("CONOUT$", "w", encoding="utf-8")  # noqa: SIM115 (process-long)
        sys.stderr = open("CONOUT$", "w", encoding="utf-8")  # noqa: SIM115


def main() -> int:
    cli = wants_cli(sys.executable, sys.argv[1:])
    if cli and sys.platform == "win32" and sys.stdout is None:
        _attach_parent_console()
    for stream in ("stdout", "stderr"):
        if getattr(sys, stream) is None:  # windowed executable on Windows: no console
            setattr(sys, stream, open(os.devnull, "w", encoding="utf-8"))
    if cli:
        from app.launch import main as launch

        return launch()
    from app.ui.main import run_gui  # no GUI in this build: ImportError, exit status 1

    return int(run_gui() or 0)


if __name__ == "__main__":
    multiprocessing.freeze_support()  # harmless today; needed the day a process pool appears
    sys.exit(main())
