"""The frozen bundle's entry point (installer/launcher.py): which front end each of its two
executables runs. `lipsync-studio --version` prints the version, as pip's command does."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from app import __version__

LAUNCHER = Path(__file__).resolve().parents[2] / "installer" / "launcher.py"


@pytest.fixture(scope="module")
def launcher() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bundle_launcher", LAUNCHER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("exe", ["/opt/lipsync-studio/lipsync-studio", r"C:\LS\lipsync-studio.exe"])
def test_the_gui_executable_with_version_prints_it(launcher, exe, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "executable", exe)
    monkeypatch.setattr(sys, "argv", [exe, "--version"])
    with pytest.raises(SystemExit) as done:  # argparse's version action
        launcher.main()
    assert done.value.code == 0
    assert capsys.readouterr().out == f"lipsync-studio {__version__}\n"


def test_which_front_end_each_command_line_gets(launcher, tmp_path) -> None:
    gui, cli = "/b/lipsync-studio", "/b/lipsync-studio-cli"
    video = tmp_path / "talk.mp4"
    video.write_bytes(b"")
    assert not launcher.wants_cli(gui, [])  # double-click
    assert not launcher.wants_cli(gui, [str(video)])  # "Open with"
    assert not launcher.wants_cli(gui, ["--smoke-test"])
    assert launcher.wants_cli(gui, ["--help"])
    assert launcher.wants_cli(gui, ["render", "--video", str(video)])
    assert launcher.wants_cli(gui, ["no-such-file.mp4"])  # the CLI says what is wrong
    assert launcher.wants_cli(cli, []) and launcher.wants_cli(cli, [str(video)])
