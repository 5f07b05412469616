"""The frozen app's entry point: both executables of the PyInstaller bundle run this file.

- `lipsync-studio-cli[.exe]` (console): the command line, exactly as `lipsync-studio` from
  pip (`render`, `demo`, `probe`, `models`, `batch`, `queue`; no arguments opens the GUI).
- `lipsync-studio[.exe]` (windowed on Windows: no console): the desktop app only. Its
  command line (file paths from a file association, `--smoke-test`) is left in sys.argv
  for `app.ui.main.run_gui()`.

Which one runs is decided by the executable's name, so one Analysis (one copy of every
module and library) serves both. A bundle whose GUI is missing fails loudly here: it never
falls back to printing the CLI's help.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path


def main() -> int:
    for stream in ("stdout", "stderr"):
        if getattr(sys, stream) is None:  # windowed executable on Windows: no console
            setattr(sys, stream, open(os.devnull, "w", encoding="utf-8"))
    if Path(sys.executable).stem.lower().endswith("-cli"):
        from app.launch import main as launch

        return launch()
    from app.ui.main import run_gui  # no GUI in this build: ImportError, exit status 1

    return int(run_gui() or 0)


if __name__ == "__main__":
    multiprocessing.freeze_support()  # harmless today; needed the day a process pool appears
    sys.exit(main())
