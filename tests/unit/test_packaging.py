"""A regular install (a wheel, as pip and pipx make it) holds and finds the app's resources.

The editable install of tools/venv.sh reads app/resources/ from the checkout, so it would
hide a wheel without them. Here the wheel is built offline from this checkout, unpacked,
and run from there with the checkout out of sight. (installer/wheel_smoke.sh does the same
with a real `pip install` into a fresh virtual environment, in CI.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--no-index", "-w", str(out), str(REPO)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    (found,) = out.glob("lipsync_studio-*.whl")
    return found


def resource_files() -> list[str]:
    folder = REPO / "app" / "resources"
    return sorted(
        p.relative_to(REPO).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


def test_the_wheel_holds_every_resource(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    expected = resource_files()
    assert "app/resources/models/face_detection_yunet_2026may.onnx" in expected
    assert "app/resources/models/face_detection_yunet_2026may.LICENSE.txt" in expected
    assert [p for p in expected if p not in names] == []
    assert not any(n.startswith("resources/") for n in names)  # no stray top-level folder


def test_the_unpacked_wheel_runs_demo_and_models_list_with_yunet(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "LIPSYNC_STUDIO_HOME": str(tmp_path / "home")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args], cwd=elsewhere, env=env, capture_output=True, text=True,
            timeout=300, check=False,
        )  # fmt: skip

    where = run("-c", "import app; print(app.__file__)")
    assert where.stdout.strip() == str(site / "app" / "__init__.py"), where.stderr
    listed = run("-m", "app", "models", "list")
    assert listed.returncode == 0, listed.stderr
    assert [ln.split()[2] for ln in listed.stdout.splitlines() if ln.startswith("yunet")] == [
        "installed"
    ]
    demo = run("-m", "app", "demo", "-o", str(tmp_path / "demo.mp4"))
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "model draft, detector yunet" in demo.stderr
    assert (tmp_path / "demo.mp4").stat().st_size > 10_000
    assert os.listdir(tmp_path / "home" / "data" / "models") == []  # nothing downloaded
