"""Opt-in hardware decoding: a device that cannot decode falls back to the CPU decoder."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from app.engine.render import media
from app.engine.render.media import hw_decode
from tests.support.mediagen import make_video


@pytest.fixture(autouse=True)
def fresh_choices():
    hw_decode.choose.cache_clear()
    yield
    hw_decode.choose.cache_clear()


def test_none_is_the_cpu_decoder_and_logs_nothing(caplog) -> None:
    caplog.set_level(logging.INFO, logger=hw_decode.__name__)
    assert hw_decode.choose("none") is None
    assert caplog.records == []


def test_a_device_that_cannot_decode_falls_back_with_one_line(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO, logger=hw_decode.__name__)
    broken = next(d for d in hw_decode.AUTO_HW_DEVICES if hw_decode.decode_error(d) is not None)
    video = make_video(tmp_path / "v.mp4", 64, 48, seconds=0.4, audio=False)
    with media.open_video(video) as reader:
        cpu = list(reader.frames())
    with media.open_video(video, broken) as reader:
        frames = list(reader.frames())
    with media.open_video(video, broken) as reader:  # asked once per process
        list(reader.frames())
    lines = [r.getMessage() for r in caplog.records if "decoding on the CPU" in r.getMessage()]
    assert len(lines) == 1 and broken in lines[0]
    assert len(frames) == len(cpu) == 10
    assert all(np.array_equal(a, b) for a, b in zip(frames, cpu))


def test_auto_decodes_the_same_frames(tmp_path: Path) -> None:
    video = make_video(tmp_path / "v.mp4", 64, 48, seconds=0.4, audio=False)
    with media.open_video(video) as reader:
        cpu = list(reader.frames())
    with media.open_video(video, "auto") as reader:
        auto = list(reader.frames())
    assert len(auto) == len(cpu)
    # A GPU decoder may round differently in its own colour path; the picture is the same.
    assert all(np.abs(a.astype(int) - b).mean() < 2 for a, b in zip(auto, cpu))


def test_unknown_device_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown hardware decoder"):
        hw_decode.choose("opencl")
