"""The one-frame preview is frame N of the render: one recipe (recipe.py), not a copy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.engine.render import media
from app.engine.render.one_frame import render_one_frame
from app.engine.render.pipeline import render
from app.engine.settings import RenderSettings
from tests.mediagen import make_audio
from tests.support.leftovers import any_temp
from tests.support.media import talking_head_frames, write_clip

SOURCE_FRAMES = 30


@pytest.fixture(scope="module")
def presenter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 frames of a real talking head at 128x128: shorter than the audio, so the
    render loops it (ping-pong)."""
    frames = talking_head_frames(SOURCE_FRAMES, 128)
    return write_clip(tmp_path_factory.mktemp("presenter") / "presenter.mp4", frames)


def through_lossless_x264(frame: np.ndarray, path: Path) -> np.ndarray:
    """The frame as the render's writer stores it at crf 0 (lossless H.264 of the
    yuv420p picture), decoded back: so a preview compares with a rendered frame exactly."""
    writer = media.VideoWriter(path, frame.shape[1], frame.shape[0], 25.0, crf=0)
    writer.write(frame)
    writer.close()
    with media.open_video(path) as reader:
        return next(iter(reader.frames()))


@pytest.mark.parametrize("track_cache", [False, True])
def test_the_preview_of_frame_n_is_frame_n_of_the_render(
    tmp_path, presenter, yunet_path, track_cache
) -> None:
    audio = make_audio(tmp_path / "speech.wav", 2.0, kind="speechlike")  # 50 output frames
    settings = RenderSettings(
        presenter,
        audio,
        tmp_path / "out.mp4",
        model="draft",
        detector="yunet",
        detector_model=yunet_path,
        detect_interval=5,
        crf=0,
        track_cache=track_cache,
    )
    # Between two detections (7: interpolated), a key (10), the forward pass's last
    # frame (29), and frames the audio reaches by playing the video backwards (41, 49).
    indices = (7, 10, SOURCE_FRAMES - 1, 41, 49)
    previews = {n: render_one_frame(settings, n) for n in indices}  # before the render:
    result = render(settings)  # with the cache on, the render reads what previews stored
    assert result.frames == 50 and result.frames_with_face == 50
    with media.open_video(settings.output) as reader:
        rendered = list(reader.frames())
    for n, pair in previews.items():
        assert pair.index == n and pair.face_found
        assert not np.array_equal(pair.before, pair.after)  # the mouth moved
        np.testing.assert_array_equal(
            through_lossless_x264(pair.after, tmp_path / f"preview{n}.mp4"),
            rendered[n],
            err_msg=f"frame {n}",
        )
    assert not any_temp(settings.output)


def test_a_preview_past_the_end_shows_the_last_frame_and_no_face_is_no_change(tmp_path) -> None:
    blank = write_clip(tmp_path / "wall.mp4", [np.full((64, 64, 3), 90, np.uint8)] * 10)
    audio = make_audio(tmp_path / "speech.wav", 1.0, kind="speechlike")
    settings = RenderSettings(blank, audio, tmp_path / "out.mp4", model="draft", detector="haar")
    pair = render_one_frame(settings, 10_000)
    assert pair.index == 24  # 1 s at 25 fps: frames 0..24
    assert not pair.face_found
    np.testing.assert_array_equal(pair.before, pair.after)
    assert not (tmp_path / "out.mp4").exists()
