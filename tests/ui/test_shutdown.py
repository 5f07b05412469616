"""Issue 13, item 8: quitting while rendering, after every panel was used, never crashes
the interpreter ("Fatal Python error: bool_dealloc" at exit, once in six tries).

Each run is a fresh interpreter (the crash was at interpreter exit) with faulthandler
on; runs repeat because the crash was intermittent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.mediagen import make_audio

REPO = Path(__file__).resolve().parents[2]
RUNS = 4


def test_quitting_mid_render_after_using_every_panel_exits_cleanly(
    tmp_path: Path, pattern_clip: Path
) -> None:
    audio = make_audio(tmp_path / "hello.wav", 1.0)
    long_audio = make_audio(tmp_path / "long.wav", 30.0)
    for run in range(RUNS):
        home = tmp_path / f"home{run}"
        home.mkdir()
        settings = home / "settings.ini"
        settings.write_text(
            "[render]\nmodel=draft\ndetector=haar\ndevice=cpu\npreset=ultrafast\n"
            f"output_dir={tmp_path / f'out{run}'}\n"
        )
        env = dict(
            os.environ,
            LIPSYNC_STUDIO_HOME=str(home),
            QT_QPA_PLATFORM="offscreen",
            PYTHONFAULTHANDLER="1",
        )
        proc = subprocess.run(
            [
                sys.executable,
                "-X",
                "dev",
                "-m",
                "tests.ui.shutdown_scenario",
                str(pattern_clip),
                str(audio),
                str(long_audio),
                str(tmp_path / f"done{run}.mp4"),
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "scenario: done" in proc.stdout, proc.stdout + proc.stderr
        assert "Fatal Python error" not in proc.stderr, proc.stderr
        assert proc.returncode == 0, f"run {run}: exit {proc.returncode}\n{proc.stderr[-3000:]}"
