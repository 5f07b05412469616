"""Durations and ETAs read the same in the CLI's progress bar and the window."""

from __future__ import annotations

import io
import math

from app.cli.progress_bar import ProgressBar
from app.engine.progress import format_duration


def test_a_duration_reads_as_a_clock() -> None:
    assert format_duration(0) == "0:00"
    assert format_duration(59.6) == "1:00"  # rounded, not cut
    assert format_duration(65) == "1:05"
    assert format_duration(3600) == "1:00:00"
    assert format_duration(3725.4) == "1:02:05"


def test_no_rate_yet_reads_as_unknown() -> None:
    for seconds in (math.nan, math.inf, -1.0):
        assert format_duration(seconds) == "–"
        assert format_duration(seconds, unknown="--:--") == "--:--"


def test_the_progress_bar_shows_the_eta() -> None:
    out = io.StringIO()
    bar = ProgressBar("take.mp4", stream=out, every_s=0)
    bar.frames(5, 10, 2.0, 65.0)
    assert "5/10 frames    2.0 fps  ETA 1:05" in out.getvalue()
    bar.frames(6, 10, 0.0, math.nan)
    assert "6/10 frames    0.0 fps  ETA --:--" in out.getvalue()
