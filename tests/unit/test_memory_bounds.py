"""Memory is bounded by design: the stage queues hold a byte budget of frames, not a
count (a 4K or 36 MP frame would multiply it), and an oversized still is scaled down
once, when it is read. Peak RSS itself is measured in bench/ (bench/memory_peak.py)."""

from __future__ import annotations

import numpy as np

from app.engine.render import stages
from app.engine.render.pipeline import render
from app.engine.render.stages import CHANNEL_BYTES, CHANNEL_FRAMES, Channel, channel_capacity
from app.engine.settings import RenderSettings
from tests.support.media import stream_facts, write_wav
from tests.support.mediagen import make_video


def test_channel_capacity_follows_the_frame_bytes():
    def bgr(width: int, height: int) -> int:
        return width * height * 3

    assert channel_capacity(bgr(1280, 720)) == CHANNEL_FRAMES  # small frames: the count caps
    assert channel_capacity(bgr(1920, 1080)) == CHANNEL_FRAMES
    assert channel_capacity(bgr(3840, 2160)) == CHANNEL_BYTES // bgr(3840, 2160) == 2
    assert channel_capacity(bgr(7360, 4912)) == 1  # 36 MP: never zero (that would deadlock)
    assert channel_capacity(bgr(4096, 2731)) * bgr(4096, 2731) <= CHANNEL_BYTES
    assert channel_capacity(0) == CHANNEL_FRAMES
    assert channel_capacity(bgr(320, 240), most=3) == 3


def test_a_render_never_queues_more_frame_bytes_than_the_budget(tmp_path, monkeypatch):
    """With a budget of 2.5 frames of this clip, no queue between two stages ever holds
    more than 2 of them, and the render still completes."""
    width, height = 320, 240
    clip = make_video(tmp_path / "clip.mp4", width, height, seconds=1.0, audio=False)
    audio = write_wav(tmp_path / "tone.wav", 0.2 * np.sin(np.arange(16_000) / 8).astype("f4"))
    monkeypatch.setattr(stages, "CHANNEL_BYTES", int(2.5 * width * height * 3))
    sizes: list[int] = []
    put = Channel.put

    def counting_put(self: Channel, item: object) -> None:
        put(self, item)
        sizes.append(self.maxsize)
        sizes.append(self._queue.qsize())

    monkeypatch.setattr(Channel, "put", counting_put)
    out = tmp_path / "out.mp4"
    result = render(
        RenderSettings(video=clip, audio=audio, output=out, model="draft", detector="haar")
    )
    assert result.frames == 25 and stream_facts(out)["frames"] == 25
    assert sizes and max(sizes) == 2
