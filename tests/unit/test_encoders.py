"""Video encoder choice: auto, forced encoders that cannot open, quality mapping."""

from __future__ import annotations

import logging
from pathlib import Path

import av
import numpy as np
import pytest

from app.engine.errors import InputError
from app.engine.render import media
from app.engine.render.media import encoders
from app.engine.render.pipeline import render
from app.engine.settings import ENCODERS, RenderSettings
from tests.mediagen import luma_psnr, make_audio, make_video
from tests.unit.test_pipeline import PORTRAIT_VIDEO, SPEECH, write_wav

HARDWARE = tuple(e for e in ENCODERS if e not in ("auto", encoders.LIBX264))


@pytest.fixture(autouse=True)
def fresh_choices():
    """choose() logs once per process and request: every test asks afresh."""
    encoders.choose.cache_clear()
    yield
    encoders.choose.cache_clear()


def unopenable() -> str:
    """A hardware encoder this machine cannot open (there is always one: no machine has
    Media Foundation and VideoToolbox both)."""
    return next(e for e in HARDWARE if encoders.open_error(e) is not None)


def fallback_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "using libx264" in r.getMessage()]


def test_auto_takes_an_encoder_that_opens_or_libx264_with_one_line(caplog) -> None:
    caplog.set_level(logging.INFO, logger=encoders.__name__)
    opens = encoders.openable()
    chosen = encoders.choose("auto")
    assert encoders.choose("auto") == chosen  # asked once per process
    if opens:
        assert chosen == opens[0]
        assert fallback_lines(caplog) == []
    else:
        assert chosen == encoders.LIBX264
        lines = fallback_lines(caplog)
        assert len(lines) == 1 and "no hardware encoder opens here" in lines[0]


def test_a_forced_encoder_that_cannot_open_falls_back_and_still_renders(
    shared_media: Path, tmp_path: Path, yunet_path: Path, caplog
) -> None:
    caplog.set_level(logging.INFO)
    wanted = unopenable()
    audio = write_wav(
        tmp_path / "speech.wav", media.load_audio(shared_media / SPEECH)[: int(1.2 * 16000)]
    )
    out = tmp_path / "out.mp4"
    settings = RenderSettings(
        video=shared_media / PORTRAIT_VIDEO,
        audio=audio,
        output=out,
        model="draft",
        detector_model=yunet_path,
        encoder=wanted,
    )
    result = render(settings)
    lines = fallback_lines(caplog)
    assert len(lines) == 1 and lines[0].startswith(f"encoder {wanted} cannot open here")
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(stream)]
    assert len(frames) == result.frames == 30
    with media.open_video(shared_media / PORTRAIT_VIDEO) as reader:
        first = next(reader.frames())
    assert luma_psnr(frames[0], first) > 30  # a real picture, not a blank one


def test_writer_reports_the_encoder_it_used(tmp_path: Path) -> None:
    frame = np.full((48, 64, 3), 128, np.uint8)
    with media.VideoWriter(tmp_path / "x.mp4", 64, 48, 25, encoder=unopenable()) as writer:
        writer.write(frame)
    assert writer.encoder == encoders.LIBX264
    with media.VideoWriter(tmp_path / "y.mp4", 64, 48, 25, encoder="libx264") as writer:
        writer.write(frame)
    assert writer.encoder == encoders.LIBX264


def test_unknown_encoder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown encoder 'x265'"):
        media.VideoWriter(tmp_path / "x.mp4", 64, 48, 25, encoder="x265")
    assert not (tmp_path / "x.mp4.part").exists()


def test_quality_maps_to_each_encoders_constant_quality_mode() -> None:
    assert encoders.setup("libx264", 18, "veryfast").options["crf"] == "18"
    for codec in ("h264_nvenc", "hevc_nvenc"):
        options = encoders.setup(codec, 18, "veryfast").options
        assert (options["rc"], options["cq"], options["b"]) == ("vbr", "18", "0")
    assert encoders.setup("h264_qsv", 18, "veryfast").options["global_quality"] == "18"
    assert encoders.setup("h264_amf", 18, "veryfast").options["qp_p"] == "18"
    # Percent scales: lower CRF (better) -> higher quality, 0 -> 100, 51 -> 0.
    mf = [int(encoders.setup("h264_mf", c, "fast").options["quality"]) for c in (0, 18, 51)]
    assert mf[0] == 100 and mf[2] == 0 and 0 < mf[1] < 100
    vt = [encoders.setup("h264_videotoolbox", c, "fast").options for c in (18, 28)]
    assert int(vt[0]["global_quality"]) > int(vt[1]["global_quality"])
    assert all(o["flags"] == "+qscale" for o in vt)
    with pytest.raises(ValueError):
        encoders.setup("x265", 18, "fast")


def test_every_listed_encoder_either_opens_or_says_why() -> None:
    for codec in (encoders.LIBX264, *HARDWARE):
        reason = encoders.open_error(codec)
        assert reason is None or reason.strip(), codec
    assert encoders.open_error(encoders.LIBX264) is None


def test_cli_encoder_option(tmp_path: Path) -> None:
    from app.cli import main

    video = make_video(tmp_path / "v.mp4", 64, 48, seconds=1.0, audio=False)
    audio = make_audio(tmp_path / "a.wav", seconds=1.0)
    out = tmp_path / "o.mp4"
    code = main(
        ["render", "--video", str(video), "--audio", str(audio), "-o", str(out)]
        + ["--model", "draft", "--encoder", unopenable()]
    )
    assert code == 0 and out.is_file()
