"""Issue 14's face enhancer: registry entries, the runner's contract, the render stage."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from app.engine.models import registry as models
from app.engine.models.enhance.loader import load_enhancer
from app.engine.models.enhance.runner import ENHANCERS, FaceEnhancer
from app.engine.models.importing import import_model
from app.engine.models.providers import SessionCache
from app.engine.render import media
from app.engine.render.crop import estimate_alignment
from app.engine.render.masks import crop_points, face_mask
from app.engine.render.pipeline import render
from app.engine.settings import RenderSettings
from tests.support import standins
from tests.support.media import PORTRAIT_VIDEO, SPEECH, decode_all, write_wav
from tests.support.models import install

SECONDS = 1.0


def session(path: Path):
    return SessionCache().get(path, "cpu")


def test_registry_lists_the_four_enhancers_with_licences():
    registry = models.load_registry()
    entries = {e.name: e for e in registry if e.family == "face_enhancer"}
    assert set(entries) == {"gfpgan_1.4", "restoreformer_plus_plus", "gpen_bfr_256", "gpen_bfr_512"}
    assert set(ENHANCERS) == set(entries)
    for name, entry in entries.items():
        assert entry.crc32_file == f"{name}.hash" and entry.sha256 is None
        assert entry.urls[0].startswith("https://github.com/facefusion/facefusion-assets/")
        assert entry.licence and entry.licence_note
    assert entries["gpen_bfr_256"].non_commercial and entries["gpen_bfr_512"].non_commercial
    assert "non-commercial" in entries["gfpgan_1.4"].licence_note.lower()
    assert ENHANCERS["gpen_bfr_256"] == ("arcface_128", 256)


def test_identity_round_trip_is_bit_exact(tmp_path):
    path = standins.build_face_enhancer(tmp_path / "id.onnx", size=256)
    enhancer = FaceEnhancer(session(path), "gpen_bfr_256", batch_size=8)
    assert (enhancer.size, enhancer.template) == (256, "arcface_128")
    crops = np.random.default_rng(1).integers(0, 256, (5, 256, 256, 3), dtype=np.uint8)
    np.testing.assert_array_equal(enhancer.enhance(crops), crops)


def test_rgb_order_scale_and_clipping(tmp_path):
    """+0.4 on the model's R channel: BGR index 2 gains ~51 levels, clipped at 255."""
    path = standins.build_face_enhancer(tmp_path / "red.onnx", brighten=(0.4, 0.0, 0.0))
    enhancer = FaceEnhancer(session(path), "gfpgan_1.4")
    crops = np.full((2, 512, 512, 3), 100, np.uint8)
    crops[1] = 240
    out = enhancer.enhance(crops)
    assert np.all(out[0, ..., 2] == 151) and np.all(out[0, ..., :2] == 100)
    assert np.all(out[1, ..., 2] == 255) and np.all(out[1, ..., :2] == 240)


def test_a_file_fixed_to_batch_1_takes_batches_of_8(tmp_path):
    path = standins.build_face_enhancer(tmp_path / "b1.onnx", brighten=0.2, batch=1)
    enhancer = FaceEnhancer(session(path), "gfpgan_1.4", batch_size=8)
    crops = np.full((8, 512, 512, 3), 50, np.uint8)
    assert np.all(enhancer.enhance(crops) == 50 + round(0.2 * 127.5))


def test_unknown_or_missing_enhancer_says_so(tmp_path):
    from app.engine.errors import InputError, ModelNotInstalled

    with pytest.raises(InputError, match="not a face enhancer"):
        load_enhancer("wav2lip_96", "cpu", None, SessionCache())
    with pytest.raises(ModelNotInstalled, match="gfpgan_1.4"):
        load_enhancer("gfpgan_1.4", "cpu", None, SessionCache())
    assert load_enhancer("none", "cpu", None, SessionCache()) is None


@pytest.fixture
def clip(shared_media, tmp_path) -> Path:
    """1 s of a real 512x512 presenter, losslessly re-encoded (our own source)."""
    path = tmp_path / "presenter.mp4"
    with media.open_video(shared_media / PORTRAIT_VIDEO) as reader:
        frames = [f for _, f in zip(range(int(SECONDS * 25)), reader.frames())]
    with media.VideoWriter(path, 512, 512, 25.0, crf=0, preset="ultrafast") as w:
        for f in frames:
            w.write(f)
    return path


@pytest.fixture
def speech(shared_media, tmp_path) -> Path:
    samples = media.load_audio(shared_media / SPEECH)[: int(SECONDS * 16000)]
    return write_wav(tmp_path / "speech.wav", samples)


def lossless(
    clip: Path, speech: Path, out: Path, model: str, yunet: Path, **look
) -> RenderSettings:
    return RenderSettings(
        video=clip,
        audio=speech,
        output=out,
        model=model,
        device="cpu",
        crf=0,
        preset="ultrafast",
        detector_model=yunet,
        **look,
    )


def test_a_brightening_enhancer_changes_only_the_pasted_face_region(
    clip, speech, tmp_path, yunet_path
):
    lipsync = install(tmp_path, standins.build_wav2lip_identity, "w2l_identity", "wav2lip")
    bright = standins.build_face_enhancer(tmp_path / "bright.onnx", brighten=0.2)
    import_model(bright, as_name="gfpgan_1.4")
    plain = render(lossless(clip, speech, tmp_path / "plain.mp4", lipsync, yunet_path))
    enhanced = render(
        lossless(clip, speech, tmp_path / "enh.mp4", lipsync, yunet_path, enhancer="gfpgan_1.4")
    )
    before, after = decode_all(tmp_path / "plain.mp4"), decode_all(tmp_path / "enh.mp4")
    assert len(before) == len(after) == enhanced.frames
    for i, (a, b) in enumerate(zip(before, after)):
        face = plain.track.get(i)
        matrix = estimate_alignment(face.landmarks, "wav2lip", 96)
        mask = face_mask(crop_points(face.landmarks, matrix), 96, "lower-face")
        reach = cv2.warpAffine(
            mask, matrix, (512, 512), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        )
        # 2 px margin: 4:2:0 chroma is shared by 2x2 pixel blocks.
        region = cv2.dilate((reach > 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        changed = np.abs(b.astype(np.int16) - a).max(axis=2) > 0
        assert not (changed & ~region).any(), f"frame {i}: changed outside the face region"
        core = reach > 0.95
        gain = b[core].astype(np.float32).mean() - a[core].mean()
        assert 0.8 * 0.8 * 25 < gain < 30, f"frame {i}: +{gain:.1f} levels inside"


def test_enhancer_none_is_byte_identical_to_no_stage(clip, speech, tmp_path, yunet_path):
    """`none` and an enhancer at blend 0 give the same bytes as a render without it."""
    identity = standins.build_face_enhancer(tmp_path / "bright.onnx", brighten=0.2)
    import_model(identity, as_name="gpen_bfr_512")
    outs = []
    for name, look in (
        ("none.mp4", {"enhancer": "none"}),
        ("zero.mp4", {"enhancer": "gpen_bfr_512", "enhancer_blend": 0.0}),
    ):
        render(lossless(clip, speech, tmp_path / name, "draft", yunet_path, **look))
        outs.append((tmp_path / name).read_bytes())
    assert outs[0] == outs[1]
