"""Issue 3's acceptance: ONNX models through the whole render, with stand-in models
that have the real input/output contract (no real weights on this machine)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnxruntime
import pytest

from app.cli import main
from app.engine.models.lipsync.loader import load_model
from app.engine.render import media
from app.engine.render.blend import paste_region
from app.engine.render.crop import estimate_alignment
from app.engine.render.masks import crop_points, face_mask
from app.engine.render.pipeline import render
from app.engine.settings import RenderSettings
from tests.support import standins
from tests.support.media import SPEECH, decode_all, write_wav
from tests.support.mediagen import luma_psnr
from tests.support.models import install

PRESENTER_720P = "video/v09_liveportrait_s18_woman_silent_1280x720_30fps.mp4"
SECONDS = 1.5


@pytest.fixture
def clip_720p(shared_media, tmp_path) -> Path:
    """The first 1.5 s of a real 720p presenter, as our own lossless-ish H.264 source."""
    path = tmp_path / "presenter.mp4"
    with media.open_video(shared_media / PRESENTER_720P) as reader:
        fps = reader.info.fps
        frames = [f for _, f in zip(range(int(SECONDS * fps)), reader.frames())]
    with media.VideoWriter(path, 1280, 720, fps, crf=4, preset="ultrafast") as w:
        for f in frames:
            w.write(f)
    return path


@pytest.fixture
def speech(shared_media, tmp_path) -> Path:
    samples = media.load_audio(shared_media / SPEECH)[: int(SECONDS * 16000)]
    return write_wav(tmp_path / "speech.wav", samples)


def mean_luma_psnr(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    assert len(a) == len(b)
    return float(np.mean([luma_psnr(x, y) for x, y in zip(a, b)]))


def plain_reencode(source: Path, tmp_path: Path, crf: int, preset: str) -> list[np.ndarray]:
    frames = decode_all(source)
    out = tmp_path / "plain.mp4"
    with media.VideoWriter(
        out,
        frames[0].shape[1],
        frames[0].shape[0],
        media.probe(source).video.fps,
        crf=crf,
        preset=preset,
    ) as w:
        for f in frames:
            w.write(f)
    return decode_all(out)


@pytest.mark.parametrize(
    "builder,family,tolerance_db",
    [
        (standins.build_wav2lip_identity, "wav2lip", 1.5),
        (standins.build_edtalk_identity, "edtalk", 1.0),
    ],
)
def test_identity_model_round_trip_matches_a_plain_reencode(
    builder, family, tolerance_db, clip_720p, speech, tmp_path, yunet_path
):
    name = install(tmp_path, builder, f"{family}_identity", family)
    out = tmp_path / "out.mp4"
    result = render(
        RenderSettings(
            video=clip_720p,
            audio=speech,
            output=out,
            model=name,
            device="cpu",
            crf=18,
            preset="veryfast",
            detector_model=yunet_path,
        )
    )
    assert result.model == name and result.frames_with_face == result.frames
    source = decode_all(clip_720p)
    ours = mean_luma_psnr(decode_all(out), source)
    floor = mean_luma_psnr(plain_reencode(clip_720p, tmp_path, 18, "veryfast"), source)
    print(f"{family} identity: {ours:.2f} dB, plain re-encode {floor:.2f} dB")
    assert ours >= floor - tolerance_db, f"{family}: {ours:.2f} dB vs re-encode {floor:.2f} dB"


def test_solid_colour_model_changes_only_the_lower_face_region(
    clip_720p, speech, tmp_path, yunet_path
):
    name = install(
        tmp_path, lambda p: standins.build_wav2lip_solid(p, (0.0, 0.0, 1.0)), "solid_red", "wav2lip"
    )
    out = tmp_path / "out.mp4"
    # crf 0 is lossless in x264: any change outside the region would show exactly.
    result = render(
        RenderSettings(
            video=clip_720p,
            audio=speech,
            output=out,
            model=name,
            crf=0,
            preset="ultrafast",
            detector_model=yunet_path,
        )
    )
    rendered = decode_all(out)
    reference = plain_reencode(clip_720p, tmp_path, 0, "ultrafast")
    for i, (got, ref) in enumerate(zip(rendered, reference)):
        face = result.track.get(i)
        matrix = estimate_alignment(face.landmarks, "wav2lip", 96)
        mask = face_mask(crop_points(face.landmarks, matrix), 96, "lower-face")
        x0, y0, x1, y1 = paste_region(matrix, mask, got.shape)
        changed = np.abs(got.astype(np.int16) - ref).max(axis=2) > 0
        # 2 px margin: 4:2:0 chroma is shared by 2x2 pixel blocks.
        outside = changed.copy()
        outside[max(y0 - 2, 0) : y1 + 2, max(x0 - 2, 0) : x1 + 2] = False
        assert not outside.any(), f"frame {i}: pixels changed outside the mask's region"
        assert changed[y0:y1, x0:x1].mean() > 0.2
        mouth = face.landmarks[3:5].mean(axis=0).astype(int)
        b, g, r = got[mouth[1], mouth[0]].astype(int)
        assert r > 200 and g < 60 and b < 60, f"frame {i}: mouth centre is {b, g, r}"


def test_missing_model_says_how_to_get_it_and_exits_2(clip_720p, speech, tmp_path, capsys):
    code = main(
        [
            "render",
            "--video",
            str(clip_720p),
            "--audio",
            str(speech),
            "-o",
            str(tmp_path / "o.mp4"),
            "--model",
            "wav2lip_gan_96",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "wav2lip_gan_96" in err and "models pull wav2lip_gan_96" in err
    assert not (tmp_path / "o.mp4").exists()


def test_auto_picks_the_best_installed_model(tmp_path):
    assert load_model("auto").name == "draft"  # nothing installed
    install(tmp_path, standins.build_wav2lip_identity, "wav2lip_96", "wav2lip")
    assert load_model("auto", device="cpu").name == "wav2lip_96"
    install(tmp_path, standins.build_edtalk_identity, "edtalk_256", "edtalk")
    assert load_model("auto", device="cpu").name == "edtalk_256"


def test_cuda_renders_where_onnxruntime_has_it_else_is_a_clear_error(
    tmp_path, clip_720p, speech, capsys
):
    """`--device cuda` follows this machine's onnxruntime: a render on the GPU where it
    offers CUDA, else exit 2 naming the missing provider (never a silent CPU fallback)."""
    name = install(tmp_path, standins.build_wav2lip_identity, "w2l", "wav2lip")
    out = tmp_path / "o.mp4"
    code = main(
        [
            "render",
            "--video",
            str(clip_720p),
            "--audio",
            str(speech),
            "-o",
            str(out),
            "--model",
            name,
            "--device",
            "cuda",
        ]
    )
    err = capsys.readouterr().err
    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        assert code == 0, err
        assert len(decode_all(out)) == len(decode_all(clip_720p))
    else:
        assert code == 2 and "CUDAExecutionProvider" in err
        assert not out.exists()


PORTRAIT_1080 = "video/v05_latentsync_demo1_woman_outdoor_1080x1920_hevc.mp4"


def lower_face_sharpness(frame: np.ndarray, landmarks: np.ndarray) -> float:
    """Variance of the Laplacian of the luma, nose tip to chin, cheek to cheek."""
    (rx, ry), (lx, ly) = landmarks[3], landmarks[4]
    w = lx - rx
    y0, y1 = int(landmarks[2][1]), int(max(ry, ly) + 1.0 * w)
    x0, x1 = int(rx - 0.4 * w), int(lx + 0.4 * w)
    luma = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV)[y0:y1, x0:x1, 0].astype(np.float64)
    return float(cv2.Laplacian(luma, cv2.CV_64F).var())


def test_identity_wav2lip_keeps_a_1080x1920_lower_face_sharp(shared_media, tmp_path, yunet_path):
    """Issue 14: the 96 px crop no longer softens the lower face; an identity model's
    render is as sharp (nose to chin) and as close to the source as a plain re-encode."""
    seconds = 1.2
    clip = tmp_path / "v05.mp4"
    with media.open_video(shared_media / PORTRAIT_1080) as reader:
        fps = reader.info.fps
        frames = [f for _, f in zip(range(int(seconds * fps)), reader.frames())]
    with media.VideoWriter(clip, 1080, 1920, fps, crf=4, preset="ultrafast") as w:
        for f in frames:
            w.write(f)
    audio = media.load_audio(shared_media / SPEECH)[: int(seconds * 16000)]
    speech = write_wav(tmp_path / "speech.wav", audio)
    name = install(tmp_path, standins.build_wav2lip_identity, "wav2lip_identity", "wav2lip")
    out = tmp_path / "out.mp4"
    settings = RenderSettings(
        video=clip, audio=speech, output=out, model=name, device="cpu", detector_model=yunet_path
    )
    result = render(settings)
    assert result.frames_with_face == result.frames
    source = decode_all(clip)
    ours = decode_all(out)
    plain = plain_reencode(clip, tmp_path, settings.crf, settings.preset)
    faces = [result.track.get(i).landmarks for i in range(len(ours))]
    ratio = np.mean([lower_face_sharpness(f, lm) for f, lm in zip(ours, faces)]) / np.mean(
        [lower_face_sharpness(f, lm) for f, lm in zip(plain, faces)]
    )
    assert ratio >= 0.92, f"lower-face sharpness {ratio:.3f}x a plain re-encode's"
    psnr, floor = mean_luma_psnr(ours, source), mean_luma_psnr(plain, source)
    assert psnr >= floor - 0.5, f"{psnr:.2f} dB vs plain re-encode {floor:.2f} dB"
