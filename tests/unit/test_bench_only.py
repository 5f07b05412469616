"""`python -m bench --only SECTION`: one section of the benchmark alone, its inputs only.
Timings are the benchmark's business; this checks what runs and what is written."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.__main__ import main
from bench.measure import REPO
from bench.sections import SECTIONS, select


def test_only_picks_sections_by_name_or_number_in_the_runs_order():
    assert [s.name for s in select(None)] == [s.name for s in SECTIONS]
    assert [s.name for s in select("enhancer,6")] == ["batch", "enhancer"]
    assert [s.name for s in select(" Batch ")] == ["batch"]
    assert [s.name for s in select("3,stages")] == ["stages"]  # 2-4 run together


@pytest.mark.parametrize("only", ["nope", "batch,10", ","])
def test_an_unknown_section_is_one_line_naming_it(only, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--quick", "--only", only])
    assert exit_.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--only" in error and "known: probe, stages" in error
    assert "Traceback" not in capsys.readouterr().err


def test_only_enhancer_runs_section_9_alone(tmp_path):
    out = tmp_path / "bench"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "enhancer", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["only"] == ["enhancer"]
    assert set(results["timings_s"]) == {"inputs", "9 enhancer"}
    for other in ("probe", "stages", "memory", "batch", "encoders", "large_frames"):
        assert other not in results
    assert list(results["inputs"]["presenter"]) == ["1080p"]  # no 720p clip made
    section = results["enhancer"]
    assert section["batch"] == 8 and section["frame_size"] == "1920x1080"
    assert section["frames"] == results["plan"]["enhancer_frames"]
    for stand_in in ("identity", "convnet"):
        assert section[stand_in]["frames"] == section["frames"]
        assert section[stand_in]["wall_ms_per_frame"] > 0
    assert section["convnet_gflop_per_frame"] > 1
    markdown = (out / "RESULTS.md").read_text()
    assert "## 9. Face enhancer" in markdown and "only enhancer" in markdown
    assert "## 2. Stages" not in markdown and "## 6. Batch" not in markdown
