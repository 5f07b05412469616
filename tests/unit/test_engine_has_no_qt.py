"""The engine knows nothing of Qt (STYLE.md 1): import every engine module, then look."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import importlib, pkgutil, sys
import app.engine as engine
names = [m.name for m in pkgutil.walk_packages(engine.__path__, 'app.engine.')
         if m.name != 'app.engine.workers']
for name in names:
    importlib.import_module(name)
qt = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'PyQt5', 'PyQt6'))
print(len(names), qt)
sys.exit(1 if qt else 0)
"""


def test_engine_imports_no_qt():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    count = int(done.stdout.split()[0])
    assert count >= 10  # the walk really found the engine's modules
