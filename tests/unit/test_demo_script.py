"""`bash tools/demo.sh OUT.mp4`, as the README says, from any folder: the render lands at
OUT.mp4 in that folder, with the YuNet face detector that ships with the app."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Offline: should venv.sh need pip at all (its stamp says what is installed), pip must not
# reach for an index or a build environment.
OFFLINE_PIP = {"PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0"}  # "0": isolation off


def test_demo_sh_renders_to_the_name_given_in_the_callers_folder(tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", str(REPO / "tools" / "demo.sh"), "my demo.mp4"],
        cwd=tmp_path, env={**os.environ, **OFFLINE_PIP}, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "my demo.mp4").stat().st_size > 10_000
    assert not (REPO / "my demo.mp4").exists()
    assert "model draft, detector yunet" in done.stderr


def test_venv_sh_refuses_what_is_not_a_list_of_extras(tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", "-c", f". '{REPO}/tools/venv.sh' OUT.mp4; echo still here"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "'OUT.mp4' is not a list of extras" in done.stderr
    assert "still here" not in done.stdout
