"""The weightless draft model: openness from real speech, a mouth warp on a real face."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from app.engine.models.lipsync.base import LipSyncModel
from app.engine.models.lipsync.draft import DraftModel, openness_from_mels
from app.engine.render import media
from app.engine.render.audio import SILENCE, mel_chunks, mel_spectrogram
from app.engine.render.crop import estimate_alignment, template_points, warp_to_crop
from tests.conftest import REPO, SHARED_MEDIA, YUNET_PATH
from tests.unit.test_audio import load_mono_16k

FPS = 25
SR = 16000


def aligned_crop(image_name: str) -> np.ndarray:
    """The 256 px Wav2Lip-template crop of the one face in a shared portrait."""
    image = cv2.imread(str(SHARED_MEDIA / "image" / image_name))
    assert image is not None
    height, width = image.shape[:2]
    detector = cv2.FaceDetectorYN.create(str(YUNET_PATH), "", (width, height), 0.6)
    _, faces = detector.detect(image)
    assert faces is not None and len(faces) == 1
    landmarks = faces[0, 4:14].reshape(5, 2)
    return warp_to_crop(image, estimate_alignment(landmarks, "wav2lip", 256), 256)


@pytest.fixture(scope="module")
def crop() -> np.ndarray:
    return aligned_crop("i03_sadtalker_people_0_474.png")


def mouth_region() -> tuple[slice, slice]:
    """Lips to chin between the cheeks, from the template's mouth corners."""
    (rx, ry), (lx, ly) = template_points("wav2lip", 256)[3:5]
    w = lx - rx
    return np.s_[int(ry - 0.3 * w) : int(ry + 0.6 * w), int(rx - 0.2 * w) : int(lx + 0.2 * w)]


def mouth_change(before: np.ndarray, after: np.ndarray) -> float:
    region = mouth_region()
    return float(np.abs(after[region].astype(np.float32) - before[region]).mean())


def speech_chunks(name: str, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """(mel chunks at 25 fps, per-frame RMS of the wav over each 1/25 s)."""
    wav = load_mono_16k(SHARED_MEDIA / "audio" / name)[: int(seconds * SR)]
    n = len(wav) * FPS // SR
    step = SR // FPS
    rms = np.sqrt(np.mean(wav[: n * step].reshape(n, step).astype(np.float64) ** 2, axis=1))
    return mel_chunks(mel_spectrogram(wav), FPS, n), rms


def test_draft_is_a_lipsync_model():
    model = DraftModel()
    assert isinstance(model, LipSyncModel)
    assert (model.name, model.template, model.crop_size, model.batch_size) == (
        "draft",
        "wav2lip",
        256,
        8,
    )


def test_engine_modules_import_without_librosa_or_qt():
    script = (
        "import sys, app.engine.render.audio, app.engine.models.lipsync.draft; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('librosa', 'scipy', 'PySide6', 'numba')]; print(bad); sys.exit(bool(bad))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_closed_mouth_is_bit_identical(crop):
    model = DraftModel()
    model.prepare(np.full((10, 80, 16), SILENCE, dtype=np.float32))
    crops = np.stack([crop] * 3)
    out = model.infer(crops, np.full((3, 80, 16), SILENCE, np.float32), np.array([0, 4, 9]))
    assert out.shape == crops.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out, crops)
    np.testing.assert_array_equal(model.open_mouth(crop, 0.0), crop)


def test_open_mouth_darkens_the_mouth_and_leaves_the_eyes(crop):
    opened = DraftModel().open_mouth(crop, 1.0)
    assert opened.shape == crop.shape and opened.dtype == np.uint8
    np.testing.assert_array_equal(opened[: 256 // 3], crop[: 256 // 3])
    assert mouth_change(crop, opened) > 12.0
    # A dark interior between the lips: a block of pixels far darker than before.
    region = mouth_region()
    before = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)[region].astype(np.float32)
    after = cv2.cvtColor(opened, cv2.COLOR_BGR2GRAY)[region].astype(np.float32)
    assert np.count_nonzero(after < before - 80) > 600
    assert after.mean() < before.mean() - 10


def test_change_grows_with_openness(crop):
    model = DraftModel()
    changes = [mouth_change(crop, model.open_mouth(crop, o)) for o in (0.1, 0.25, 0.5, 0.75, 1.0)]
    assert all(a < b for a, b in zip(changes, changes[1:])), changes
    assert changes[0] > 0.0


def test_another_face_opens_too():
    crop = aligned_crop("i02_sadtalker_happy_256.png")
    opened = DraftModel().open_mouth(crop, 1.0)
    np.testing.assert_array_equal(opened[: 256 // 3], crop[: 256 // 3])
    assert mouth_change(crop, opened) > 10.0


def test_the_warp_neither_tears_nor_folds():
    """On a vertical ramp (value = row), every column stays non-decreasing (no fold)
    with small steps (no tear), everywhere outside the shaded gap between the lips."""
    ramp = np.repeat(np.arange(256, dtype=np.uint8)[:, None, None], 256, axis=1)
    ramp = np.ascontiguousarray(np.repeat(ramp, 3, axis=2))
    (rx, ry), (lx, _) = template_points("wav2lip", 256)[3:5]
    w = lx - rx
    outside_gap = np.ones((256, 256), dtype=bool)
    gap = np.s_[int(ry - 0.15 * w) : int(ry + 0.35 * w), int(rx - 0.2 * w) : int(lx + 0.2 * w)]
    outside_gap[gap] = False
    for openness in (0.3, 1.0):
        warped = DraftModel().open_mouth(ramp, openness)[..., 0].astype(np.int32)
        steps = np.diff(warped, axis=0)
        keep = outside_gap[1:] & outside_gap[:-1]
        assert steps[keep].min() >= 0
        assert steps[keep].max() <= 4
        assert np.any(warped != ramp[..., 0])  # it did warp the ramp


def test_mouth_follows_real_speech(crop):
    chunks, rms = speech_chunks("a03_en_latentsync_demo1_audio.wav", 5.0)
    model = DraftModel()
    model.prepare(chunks)
    changes = []
    for start in range(0, len(chunks), model.batch_size):
        indices = np.arange(start, min(start + model.batch_size, len(chunks)))
        out = model.infer(np.stack([crop] * len(indices)), chunks[indices], indices)
        changes += [mouth_change(crop, o) for o in out]
    r = float(np.corrcoef(changes, rms)[0, 1])
    assert r >= 0.6, f"Pearson r = {r:.3f}"
    assert 0 < np.count_nonzero(model.openness == 0) < len(chunks)  # closes in pauses


def test_silence_and_faint_noise_stay_closed():
    assert np.all(openness_from_mels(np.full((50, 80, 16), SILENCE, np.float32)) == 0)
    noise = np.random.default_rng(7).standard_normal(4 * SR) * 10 ** (-60 / 20)
    chunks = mel_chunks(mel_spectrogram(noise.astype(np.float32)), FPS, 4 * FPS)
    assert np.all(openness_from_mels(chunks) == 0)


def test_quiet_speech_still_moves_the_mouth():
    chunks, rms = speech_chunks("a05_en_vexpress_AOC_aud.mp3", 5.0)
    assert 20 * np.log10(np.sqrt(np.mean(rms**2))) < -24  # really the quiet clip
    openness = openness_from_mels(chunks)
    voiced = 20 * np.log10(rms + 1e-12) > -40
    assert voiced.sum() > 50
    assert np.mean(openness[voiced] > 0) > 0.8
    assert openness.max() > 0.8


def test_openness_is_smoothed_fast_attack_slow_release():
    # 1 s silence, 1 s loud tone-ish speech band noise, 1 s silence.
    rng = np.random.default_rng(3)
    wav = np.zeros(3 * SR, dtype=np.float32)
    wav[SR : 2 * SR] = 0.1 * rng.standard_normal(SR)
    openness = openness_from_mels(mel_chunks(mel_spectrogram(wav), FPS, 3 * FPS))
    assert np.all(openness[:20] == 0) and np.all(openness[-15:] == 0)
    assert openness[25:50].min() > 0.5  # open within a frame or two of the onset
    onset = int(np.argmax(openness > 0))
    assert 23 <= onset <= 25 and openness[onset + 1] > 0.8
    # Release: shut within 2-3 frames of the end, not in one jump.
    offset = 50 + int(np.argmax(openness[50:] == 0))
    assert 2 <= offset - 49 <= 3
    assert np.all(np.diff(openness[49:offset]) < 0)


def test_pauses_of_120_ms_close_the_mouth():
    """Bursts of loud speech-band noise with 120 ms gaps: the mouth shuts in every gap."""
    rng = np.random.default_rng(5)
    burst, gap = int(0.5 * SR), int(0.12 * SR)
    parts = [np.zeros(SR // 2, np.float32)]
    for _ in range(4):
        parts += [0.1 * rng.standard_normal(burst).astype(np.float32), np.zeros(gap, np.float32)]
    wav = np.concatenate(parts + [np.zeros(SR // 2, np.float32)])
    n = len(wav) * FPS // SR
    openness = openness_from_mels(mel_chunks(mel_spectrogram(wav), FPS, n))
    for k in range(4):
        start = (SR // 2 + k * (burst + gap)) / SR
        gap_frames = range(int((start + 0.5) * FPS), int(np.ceil((start + 0.62) * FPS)) + 1)
        during = int(start * FPS) + 5
        assert openness[during] > 0.5, f"burst {k}"
        assert min(openness[i] for i in gap_frames) == 0.0, f"gap {k}: {openness[gap_frames]}"


def test_mouth_closes_within_3_frames_of_real_speech_ending():
    chunks, rms = speech_chunks("a03_en_latentsync_demo1_audio.wav", 9.0)
    openness = openness_from_mels(chunks)
    voiced = 20 * np.log10(rms + 1e-12) > -40
    ends = [i for i in range(1, len(voiced) - 4) if voiced[i - 1] and not voiced[i : i + 4].any()]
    assert len(ends) >= 3  # the clip has pauses
    for end in ends:
        assert openness[end + 2] == 0.0, (
            f"speech ends at frame {end}: {openness[end - 1 : end + 4]}"
        )


# --- an already-open mouth ---------------------------------------------------------


def centre_profile(crop: np.ndarray) -> str:
    """The rows through the mouth centre, lips to chin, as D (dark: mouth cavity),
    T (bright: teeth) or . (lips, skin), from the luma of the centre columns."""
    (rx, ry), (lx, ly) = template_points("wav2lip", 256)[3:5]
    w, cx, cy = lx - rx, (rx + lx) / 2, (ry + ly) / 2
    y0, y1 = int(cy - 0.3 * w), int(cy + 0.6 * w)
    luma = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).astype(np.float32)
    skin = np.median(luma[y0:y1, int(cx - 0.6 * w) : int(cx + 0.6 * w)])
    band = luma[y0:y1, int(cx - 0.1 * w) : int(cx + 0.1 * w)]
    dark, bright = (band < 0.5 * skin).mean(1) > 0.5, (band > skin + 25).mean(1) > 0.5
    return "".join("D" if d else ("T" if b else ".") for d, b in zip(dark, bright))


def open_mouth_crops() -> list[tuple[str, np.ndarray]]:
    """The smiling still (i01) and the turned-head clip's frames (h02) whose mouth
    already shows teeth."""
    found = [("i01", aligned_crop("i01_face_recognition_obama_720p.jpg"))]
    path = SHARED_MEDIA / "hard/h02_liveportrait_s32_woman_turned_head_1280x720.mp4"
    detector = None
    with media.open_video(path) as reader:
        for index, frame in zip(range(150), reader.frames()):
            if index % 10:
                continue
            height, width = frame.shape[:2]
            detector = detector or cv2.FaceDetectorYN.create(
                str(YUNET_PATH), "", (width, height), 0.6
            )
            _, faces = detector.detect(frame)
            landmarks = faces[0, 4:14].reshape(5, 2)
            crop = warp_to_crop(frame, estimate_alignment(landmarks, "wav2lip", 256), 256)
            if centre_profile(crop).count("T") >= 4:
                found.append((f"h02 frame {index}", crop))
    return found


def test_an_open_mouth_opens_further_instead_of_growing_a_second_opening():
    """Issue 14 on i01 and h02: the upper teeth stay under the upper lip and the one
    dark opening appears inside the existing one, not above or below it (the old
    draft put the cavity at the corners' line and pushed all the teeth under it)."""
    crops = open_mouth_crops()
    assert len(crops) >= 4
    for name, crop in crops:
        source = centre_profile(crop)
        teeth_top, teeth_bottom = source.index("T"), source.rindex("T")
        assert "D" not in source
        for openness in (0.5, 1.0):
            got = centre_profile(DraftModel().open_mouth(crop, openness))
            dark_runs = [r for r in got.replace("T", ".").split(".") if r]
            assert len(dark_runs) == 1, f"{name} at {openness}: {got}"
            dark_top = got.index("D")
            assert teeth_top < dark_top <= teeth_bottom + 2, f"{name} at {openness}: {got}"
            assert "T" in got[:dark_top], f"{name}: no upper teeth above the opening: {got}"


def test_the_presenters_own_interior_fills_a_closed_mouth(crop):
    """After a frame with the mouth wide open, a closed mouth opens onto that interior
    (aligned crops: the same place), not onto the synthetic cavity."""
    model = DraftModel()
    model.prepare(np.zeros((4, 80, 16), np.float32))
    synthetic = model.open_mouth(crop, 1.0)
    wide = DraftModel().open_mouth(crop, 1.0)  # a stand-in for a frame with an open mouth
    painted = wide.copy()
    (rx, ry), (lx, _) = template_points("wav2lip", 256)[3:5]
    w, cx = lx - rx, (rx + lx) / 2
    interior = np.s_[
        int(ry + 0.02 * w) : int(ry + 0.16 * w), int(cx - 0.25 * w) : int(cx + 0.25 * w)
    ]
    painted[interior] = (10, 90, 10)  # a dark green interior, to be recognised
    model.infer(painted[None], np.zeros((1, 80, 16), np.float32), np.array([0]))
    reused = model.open_mouth(crop, 1.0)
    green = (reused[..., 1].astype(int) - reused[..., 2]) > 40
    assert green[interior].mean() > 0.5
    assert not ((synthetic[..., 1].astype(int) - synthetic[..., 2]) > 40)[interior].any()
    model.prepare(np.zeros((4, 80, 16), np.float32))  # a new clip forgets it
    np.testing.assert_array_equal(model.open_mouth(crop, 1.0), synthetic)


def test_infer_before_prepare_says_so(crop):
    with pytest.raises(RuntimeError, match="prepare"):
        DraftModel().infer(crop[None], np.zeros((1, 80, 16), np.float32), np.array([0]))
