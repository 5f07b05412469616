"""Batch reuse: a presenter's decoded frames kept across jobs (frame_cache.py) give the
very same output bytes as decoding again, stay within their byte budget, and are never
served for a file that changed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from app.engine.render.frame_cache import FrameCache
from app.engine.render.media import FrameConverter, VideoReader
from app.engine.render.media.yuv_patch import YuvPatcher
from app.engine.render.pipeline import RenderResult, render
from app.engine.settings import RenderSettings
from tests.support.media import load_speech, talking_head_frames, write_clip, write_speech
from tests.support.paths import YUNET_PATH

SIDE = 160
SOURCE_FRAMES = 20
FRAME_BYTES = SIDE * SIDE * 3 + SIDE * SIDE * 3 // 2  # BGR + yuv420p


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A 20-frame real talking head and two different speeches of 1.2 s (30 frames):
    the audio outlasts the video, so the renders also play it backwards."""
    folder = tmp_path_factory.mktemp("job")
    video = write_clip(folder / "face.mp4", talking_head_frames(SOURCE_FRAMES, SIDE))
    speech = load_speech()
    first = write_speech(folder / "a.wav", speech, 0.4, 1.2)
    second = write_speech(folder / "b.wav", speech, 2.0, 1.2)
    return video, first, second


def _settings(video: Path, audio: Path, out: Path, **changes: object) -> RenderSettings:
    return RenderSettings(  # type: ignore[arg-type]
        video,
        audio,
        out,
        model="draft",
        detector="yunet",
        detector_model=YUNET_PATH,
        track_cache=False,
        encoder="libx264",
        if_exists="replace",
        reproducible=True,  # the same frames give the same bytes (encoders.setup)
        **changes,
    )


def _packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [bytes(p) for p in container.demux(stream) if p.size]


def _render(
    video: Path,
    audio: Path,
    out: Path,
    cache: FrameCache | None = None,
    keep: bool = False,
    **changes: object,
) -> RenderResult:
    frames = cache.job(video, keep=keep) if cache is not None else None
    try:
        return render(_settings(video, audio, out, **changes), frames=frames)
    finally:
        if frames is not None:
            frames.close()


def test_kept_frames_give_the_same_bytes_as_decoding_again(tmp_path: Path, job) -> None:
    video, first, second = job
    plain = [_packets(_render(video, a, tmp_path / f"plain-{a.stem}.mp4").output) for a in job[1:]]
    cache = FrameCache(64 << 20)
    filled = _render(video, first, tmp_path / "filled.mp4", cache, keep=True)
    # Every source frame is kept, in BGR and in the encoder's YUV, and its paste prep.
    assert cache.used_bytes > SOURCE_FRAMES * FRAME_BYTES
    reused = _render(video, second, tmp_path / "reused.mp4", cache, keep=False)
    assert reused.frames_with_face == reused.frames == 30
    assert _packets(filled.output) == plain[0]
    assert _packets(reused.output) == plain[1]  # pasted into kept YUV: the same bytes
    assert cache.used_bytes == 0  # the last job of the presenter let them go


def test_a_job_that_pastes_differently_makes_its_own_paste_prep(tmp_path: Path, job) -> None:
    """The kept masks are the first job's (lower face, feather 0.3); a job of the same
    presenter with another mask and feather pastes with its own."""
    video, first, second = job
    look = {"mask": "mouth", "feather": 0.6}
    plain = _packets(_render(video, second, tmp_path / "plain.mp4", **look).output)
    cache = FrameCache(64 << 20)
    _render(video, first, tmp_path / "filled.mp4", cache, keep=True)
    reused = _render(video, second, tmp_path / "reused.mp4", cache, keep=False, **look)
    assert _packets(reused.output) == plain


def test_kept_frames_are_read_not_decoded(tmp_path: Path, job, monkeypatch) -> None:
    video, first, second = job
    cache = FrameCache(64 << 20)
    _render(video, first, tmp_path / "filled.mp4", cache, keep=True)
    decoded: list[int] = []
    real = VideoReader.frames

    def counting(self: VideoReader, start: int = 0) -> Iterator[np.ndarray]:
        for frame in real(self, start):
            decoded.append(start)
            yield frame

    opened: list[Path] = []
    real_init = VideoReader.__init__

    def recording_init(self: VideoReader, path: Path, *args: object, **kwargs: object) -> None:
        opened.append(Path(path))
        real_init(self, path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(VideoReader, "frames", counting)
    monkeypatch.setattr(VideoReader, "__init__", recording_init)
    result = _render(video, second, tmp_path / "reused.mp4", cache, keep=True)
    assert result.frames == 30
    assert decoded == []
    assert opened == []  # every frame it needs is kept: the file is not even opened


def test_frames_beyond_the_budget_are_decoded(tmp_path: Path, job) -> None:
    video, first, second = job
    plain = _packets(_render(video, second, tmp_path / "plain.mp4").output)
    budget = 7 * FRAME_BYTES + 100
    cache = FrameCache(budget)
    _render(video, first, tmp_path / "filled.mp4", cache, keep=True)
    assert 0 < cache.used_bytes <= budget
    reused = _render(video, second, tmp_path / "reused.mp4", cache, keep=True)
    assert cache.used_bytes <= budget
    assert _packets(reused.output) == plain

    nothing = FrameCache(0)
    again = _render(video, second, tmp_path / "none.mp4", nothing, keep=True)
    assert nothing.used_bytes == 0
    assert _packets(again.output) == plain


def test_a_changed_video_file_is_not_served_from_the_cache(tmp_path: Path, job) -> None:
    _, first, _ = job
    video = write_clip(tmp_path / "presenter.mp4", talking_head_frames(SOURCE_FRAMES, SIDE))
    cache = FrameCache(64 << 20)
    _render(video, first, tmp_path / "old.mp4", cache, keep=True)
    assert cache.used_bytes > 0
    # New content at the same path (its size or mtime differs): mirrored frames.
    frames = [np.ascontiguousarray(f[:, ::-1]) for f in talking_head_frames(SOURCE_FRAMES, SIDE)]
    write_clip(video, frames)
    st = video.stat()
    os.utime(video, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    fresh = _packets(_render(video, first, tmp_path / "fresh.mp4").output)
    served = _render(video, first, tmp_path / "served.mp4", cache, keep=False)
    assert _packets(served.output) == fresh


def test_a_single_render_keeps_nothing(tmp_path: Path, job) -> None:
    video, first, _ = job
    cache = FrameCache(64 << 20)
    _render(video, first, tmp_path / "single.mp4", cache, keep=False)
    assert cache.used_bytes == 0


def test_a_rectangle_converts_to_the_bytes_of_the_whole_frame() -> None:
    """What YuvPatcher relies on: swscale's BGR -> yuv420p works on 2x2 blocks."""
    rng = np.random.default_rng(3)
    height, width = 72, 128
    convert = FrameConverter(width, height, "yuv420p")
    patcher = YuvPatcher(width, height)
    base = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    base_yuv = convert(base).to_ndarray()
    for _ in range(40):
        x0, y0 = int(rng.integers(0, width - 2)), int(rng.integers(0, height - 2))
        x1 = int(rng.integers(x0 + 1, width + 1))
        y1 = int(rng.integers(y0 + 1, height + 1))
        changed = base.copy()
        changed[y0:y1, x0:x1] = rng.integers(0, 256, (y1 - y0, x1 - x0, 3), dtype=np.uint8)
        ex0, ey0, ex1, ey1 = patcher.even_rect((x0, y0, x1, y1))
        region = changed[ey0:ey1, ex0:ex1]
        whole = convert(changed).to_ndarray()
        assert np.array_equal(patcher.patched(base_yuv, region, (ex0, ey0)), whole)
        assert np.array_equal(patcher.frame(base_yuv, region, (ex0, ey0)).to_ndarray(), whole)
        # The steady rectangle (larger, for swscale's sake) gives the same bytes.
        sx0, sy0, sx1, sy1 = patcher.steady_rect((x0, y0, x1, y1))
        steady = changed[sy0:sy1, sx0:sx1]
        assert np.array_equal(patcher.frame(base_yuv, steady, (sx0, sy0)).to_ndarray(), whole)


def test_the_steady_rectangle_holds_the_paste_and_keeps_its_size() -> None:
    patcher = YuvPatcher(128, 72)
    sizes = []
    for rect in [
        (10, 11, 31, 40),
        (50, 3, 61, 20),
        (120, 60, 127, 71),
        (0, 0, 5, 5),
        (90, 9, 127, 70),
    ]:
        x0, y0, x1, y1 = patcher.steady_rect(rect)
        assert x0 <= rect[0] and y0 <= rect[1] and x1 >= rect[2] and y1 >= rect[3]
        assert 0 <= x0 and 0 <= y0 and x1 <= 128 and y1 <= 72
        assert x0 % 2 == y0 % 2 == x1 % 2 == y1 % 2 == 0
        sizes.append((x1 - x0, y1 - y0))
    assert sizes == [(22, 30), (22, 30), (22, 30), (22, 30), (38, 62)]
