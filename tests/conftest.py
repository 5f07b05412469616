"""Shared test setup: offscreen Qt, isolated app folders, paths to the shared real media."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support.paths import SHARED_MEDIA, YUNET_PATH

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def isolated_app_home(tmp_path_factory, monkeypatch):
    """Every test gets its own data/cache/log folders: never the user's real ones."""
    home = tmp_path_factory.mktemp("lipsync_home")
    monkeypatch.setenv("LIPSYNC_STUDIO_HOME", str(home))
    return home


@pytest.fixture
def shared_media() -> Path:
    if not SHARED_MEDIA.is_dir():
        pytest.fail(f"shared media missing at {SHARED_MEDIA}: tests need ../shared beside the repo")
    return SHARED_MEDIA


@pytest.fixture
def yunet_path() -> Path:
    if not YUNET_PATH.is_file():
        pytest.fail(f"YuNet model missing at {YUNET_PATH}")
    return YUNET_PATH


@pytest.fixture
def without_shipped_models(tmp_path_factory, monkeypatch) -> Path:
    """The app's resources with an empty models/ folder (no shipped YuNet), as a damaged
    install has: for the download and import flows, which a shipped copy short-circuits."""
    from app.engine import paths

    folder = tmp_path_factory.mktemp("resources")
    shutil.copy2(paths.resources_dir() / "models.json", folder / "models.json")
    (folder / "models").mkdir()
    monkeypatch.setattr(paths, "resources_dir", lambda: folder)
    return folder
