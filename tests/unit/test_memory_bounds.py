"""Memory is bounded by design: what a render holds in flight is capped in bytes as well
as in number (frame_budget.py: a 4K or 36 MP frame would multiply the counts), and an
oversized still is scaled down once, when it is read (media/stills.py). Peak RSS itself
is measured in bench/ (bench/large_frames.py), not here."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.cli import main
from app.engine.render import frame_budget, media, tracking
from app.engine.render.faces import create_detector
from app.engine.render.frame_budget import CHANNEL_BYTES, CHANNEL_FRAMES, channel_capacity
from app.engine.render.one_frame import frame_pair
from app.engine.render.pipeline import render
from app.engine.render.stages import Channel
from app.engine.settings import RenderSettings
from tests.support.media import decode_all, stream_facts, write_wav
from tests.support.mediagen import luma_psnr, make_image, make_video

FACE_STILL = "image/i02_sadtalker_happy_256.png"  # 256x256, one face


@pytest.fixture
def tone(tmp_path) -> Path:
    return write_wav(tmp_path / "tone.wav", 0.2 * np.sin(np.arange(16_000) / 8).astype("f4"))


def bgr(width: int, height: int) -> int:
    return width * height * 3


def test_queues_hold_fewer_large_frames_never_none():
    assert channel_capacity(bgr(1280, 720)) == CHANNEL_FRAMES  # small frames: the count caps
    assert channel_capacity(bgr(1920, 1080)) == CHANNEL_BYTES // bgr(1920, 1080) == 6
    assert channel_capacity(bgr(3840, 2160)) == 1
    assert channel_capacity(bgr(7360, 4912)) == 1  # 36 MP: never zero (that would deadlock)
    assert channel_capacity(0) == CHANNEL_FRAMES
    assert channel_capacity(bgr(320, 240), most=3) == 3


def test_model_batches_track_interval_and_decoder_threads_shrink_for_large_frames():
    small, uhd = bgr(1920, 1080), bgr(3840, 2160)
    assert frame_budget.batch_size(small, 8) == 8 and frame_budget.batch_size(uhd, 8) == 2
    assert frame_budget.batch_size(bgr(7360, 4912), 8) == 1
    assert frame_budget.detect_interval(small, 10) == 10  # the default holds up to 1080p
    assert frame_budget.detect_interval(uhd, 10) == 2
    assert 2 * 2 * uhd <= frame_budget.HELD_BYTES
    assert frame_budget.detect_interval(uhd, 1) == 1
    assert frame_budget.decoder_threads(small, 0, cores=2) == 0  # FFmpeg's choice: 3
    assert frame_budget.decoder_threads(uhd, 0, cores=2) == 2
    assert frame_budget.decoder_threads(small, 0, cores=16) == 8  # not 17 frame threads
    assert frame_budget.decoder_threads(uhd, 4, cores=16) == 2
    assert frame_budget.encoder_lookahead(small) >= 10 > frame_budget.encoder_lookahead(uhd)


def test_x264_looks_ahead_less_only_below_the_presets_own():
    from app.engine.render.media.encoders import setup

    assert "rc-lookahead" not in setup("libx264", 18, "veryfast", max_lookahead=12).options
    assert setup("libx264", 18, "veryfast", max_lookahead=4).options["rc-lookahead"] == "4"
    assert setup("libx264", 18, "medium", max_lookahead=21).options["rc-lookahead"] == "21"
    assert "rc-lookahead" not in setup("libx264", 18, "ultrafast", max_lookahead=1).options


def test_a_render_never_queues_more_frame_bytes_than_the_budget(tmp_path, tone, monkeypatch):
    """With a budget of 2.5 frames of this clip, no queue between two stages ever holds
    more than 2 of them, and the render still completes."""
    width, height = 320, 240
    clip = make_video(tmp_path / "clip.mp4", width, height, seconds=1.0, audio=False)
    monkeypatch.setattr(frame_budget, "CHANNEL_BYTES", int(2.5 * width * height * 3))
    sizes: list[int] = []
    put = Channel.put

    def counting_put(self: Channel, item: object) -> None:
        put(self, item)
        sizes.append(self.maxsize)
        sizes.append(self._queue.qsize())

    monkeypatch.setattr(Channel, "put", counting_put)
    out = tmp_path / "out.mp4"
    result = render(
        RenderSettings(video=clip, audio=tone, output=out, model="draft", detector="haar")
    )
    assert result.frames == 25 and stream_facts(out)["frames"] == 25
    assert sizes and max(sizes) == 2


def test_an_oversized_still_renders_at_a_long_side_of_4096_and_says_so(tmp_path, tone, caplog):
    """A 4400x240 still (cheap: 3 MB a frame) is over the default 4096: the render reads
    it scaled (aspect kept, even sizes), says so once, and the before/after comparison
    of the finished render scales the source alike."""
    still = make_image(tmp_path / "wide.png", 4400, 240)
    out = tmp_path / "out.mp4"
    with caplog.at_level(logging.WARNING):
        result = render(
            RenderSettings(video=still, audio=tone, output=out, model="draft", detector="haar")
        )
    assert (result.width, result.height) == (4096, 222)
    assert stream_facts(out)["size"] == (4096, 222) and stream_facts(out)["frames"] == 25
    (note,) = [w for w in result.warnings if "is scaled to" in w]
    assert note == (
        f"{still}: the 4400x240 still is scaled to 4096x222 for the render (its long side "
        "is over 4096 px; --max-still-side 0 keeps the full size)"
    )
    assert [r.getMessage() for r in caplog.records].count(note) == 1
    source = cv2.imread(str(still))
    scaled = cv2.resize(source, (4096, 222), interpolation=cv2.INTER_AREA)
    assert luma_psnr(decode_all(out)[0], scaled) > 35  # the whole picture, scaled, not cut
    pair = frame_pair(still, out, 10)
    assert pair.before.shape == pair.after.shape == (222, 4096, 3)
    assert luma_psnr(pair.before, pair.after) > 35


def run_cli(capsys, *argv: object) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def render_still(still: Path, audio: Path, out: Path, *options: object) -> list[object]:
    return ["render", "--video", still, "--audio", audio, "-o", out, "--model", "draft",
            "--detector", "haar", *options]  # fmt: skip


def test_max_still_side_scales_a_still_to_the_given_side(tmp_path, tone, capsys):
    still = make_image(tmp_path / "photo.png", 160, 120)
    out = tmp_path / "out.mp4"
    code, err = run_cli(capsys, *render_still(still, tone, out, "--max-still-side", 64))
    assert code == 0, err
    assert stream_facts(out)["size"] == (64, 48)
    assert "the 160x120 still is scaled to 64x48 for the render" in err


def test_max_still_side_0_keeps_the_full_size(tmp_path, tone, capsys):
    still = make_image(tmp_path / "wide.png", 4400, 240)
    out = tmp_path / "out.mp4"
    code, err = run_cli(capsys, *render_still(still, tone, out, "--max-still-side", 0))
    assert code == 0, err
    assert stream_facts(out)["size"] == (4400, 240)
    assert "scaled" not in err


@pytest.mark.parametrize("value", ["-1", "many", "70000"])
def test_a_bad_max_still_side_is_a_usage_error(tmp_path, tone, capsys, value):
    still = make_image(tmp_path / "photo.png", 160, 120)
    argv = render_still(still, tone, tmp_path / "o.mp4", "--max-still-side", value)
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in argv])
    assert exit_info.value.code == 2 and "--max-still-side" in capsys.readouterr().err
    assert not (tmp_path / "o.mp4").exists()


def test_a_face_point_on_a_scaled_still_is_in_the_files_pixels(shared_media, tmp_path, yunet_path):
    """`--face X,Y@S` names a point of the file; on a still the render scales down, the
    face under it is found in the scaled picture, and the render animates it."""
    still = shared_media / FACE_STILL
    detector = create_detector("yunet", yunet_path)
    (face,) = detector.detect(cv2.imread(str(still)))
    x, y = (face.box[0] + face.box[2]) / 2, face.box[3] - 0.1 * (face.box[3] - face.box[1])
    scaled = cv2.resize(cv2.imread(str(still)), (96, 96), interpolation=cv2.INTER_AREA)
    for other in detector.detect(scaled):  # the file's point is off the scaled face
        assert not (other.box[0] <= x <= other.box[2] and other.box[1] <= y <= other.box[3])
    audio = write_wav(tmp_path / "a.wav", 0.2 * np.sin(np.arange(16_000) / 8).astype("f4"))
    result = render(
        RenderSettings(
            video=still,
            audio=audio,
            output=tmp_path / "out.mp4",
            model="draft",
            detector="yunet",
            detector_model=yunet_path,
            face=f"{x:.0f},{y:.0f}@0",
            max_still_side=96,
            track_cache=False,
        )
    )
    assert (result.width, result.height) == (96, 96)
    assert result.frames_with_face == result.frames == 25


def test_a_stills_face_track_is_cached_per_size_a_videos_key_is_unchanged(tmp_path):
    """The track's coordinates are in the pixels the render reads: a still scaled to
    another size must not reuse them. A video's key does not carry a size."""
    still = make_image(tmp_path / "photo.png", 160, 120)
    clip = make_video(tmp_path / "clip.mp4", 160, 120, seconds=0.2, audio=False)
    detector = create_detector("haar")

    def key(video: Path, max_side: int) -> str:
        settings = RenderSettings(
            video=video, audio=video, output=tmp_path / "o.mp4", max_still_side=max_side,
            track_cache_dir=tmp_path / "tracks",
        )  # fmt: skip
        info = media.probe(video).video
        assert info is not None
        entry = tracking.cache_entry(settings, detector, media.fit_still(info, max_side))
        assert entry is not None
        return entry.key

    assert key(still, 64) != key(still, 0) == key(still, 4096)
    assert key(clip, 64) == key(clip, 0)
