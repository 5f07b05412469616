"""Mel spectrogram against librosa (Wav2Lip's hparams), and the per-frame chunking rule."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from app.engine.render.audio import MEL_STEP, SILENCE, mel_chunks, mel_filter_bank, mel_spectrogram
from tests.support.media import load_mono_16k
from tests.support.paths import SHARED_MEDIA

SR, N_FFT, HOP, WIN = 16000, 800, 200, 800


def librosa_wav2lip_mel(wav: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """Wav2Lip's audio.melspectrogram, written with librosa as Wav2Lip does (stft with
    this librosa's default padding; `dtype` float32 is what librosa.load would give)."""
    wav = wav.astype(dtype)
    emphasised = np.append(wav[0], wav[1:] - 0.97 * wav[:-1])
    spec = librosa.stft(y=emphasised, n_fft=N_FFT, hop_length=HOP, win_length=WIN)
    basis = librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=80, fmin=55, fmax=7600, dtype=dtype)
    db = 20 * np.log10(np.maximum(1e-5, basis @ np.abs(spec))) - 20
    return np.clip(8 * ((db + 100) / 100) - 4, -4, 4)


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return load_mono_16k(SHARED_MEDIA / "audio" / "a03_en_latentsync_demo1_audio.wav")


def test_filter_bank_is_librosas_slaney_bank():
    ours = mel_filter_bank()
    theirs = librosa.filters.mel(
        sr=SR,
        n_fft=N_FFT,
        n_mels=80,
        fmin=55,
        fmax=7600,
        htk=False,
        norm="slaney",
        dtype=np.float64,
    )
    assert ours.shape == (80, 401)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


def test_mel_matches_librosa_on_real_speech(speech):
    assert len(speech) == pytest.approx(9.6 * SR, abs=SR // 100)  # really the 9.6 s clip
    ours = mel_spectrogram(speech)
    assert ours.dtype == np.float32 and ours.shape == (80, 1 + len(speech) // HOP)
    # float64 reference: only our float32 output rounding remains.
    assert np.abs(ours - librosa_wav2lip_mel(speech)).max() < 1e-6
    # float32 reference (Wav2Lip's own numbers): librosa's float32 arithmetic.
    assert np.abs(ours - librosa_wav2lip_mel(speech, np.float32)).max() < 1e-4
    # Real speech uses the range: loud frames near the top, pauses near the floor.
    assert ours.max() > 2.0 and np.percentile(ours, 5) < -3.0


def test_mel_matches_librosa_on_a_tone():
    t = np.arange(2 * SR) / SR
    tone = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    ours = mel_spectrogram(tone)
    assert np.abs(ours - librosa_wav2lip_mel(tone)).max() < 1e-6
    # The loudest band is the one centred nearest 440 Hz.
    loudest = int(np.argmax(ours[:, 40]))
    peaks_hz = np.argmax(mel_filter_bank(), axis=1) * SR / N_FFT
    assert abs(peaks_hz[loudest] - 440.0) < 40.0


def test_digital_silence_is_the_floor():
    mel = mel_spectrogram(np.zeros(SR, dtype=np.float32))
    assert mel.shape == (80, 81)
    assert np.all(mel == SILENCE)


def test_chunks_start_at_each_frames_time():
    # Column j holds the value j: a chunk's first value says where it starts.
    mel = np.tile(np.arange(800, dtype=np.float32), (80, 1))  # 10 s
    for fps, n in [(25.0, 250), (30.0, 300), (29.97, 299), (24.0, 240)]:
        chunks = mel_chunks(mel, fps, n)
        assert chunks.shape == (n, 80, MEL_STEP) and chunks.dtype == np.float32
        starts = chunks[:, 0, 0].astype(int)
        expected = [min(int(80 * i / fps), 800 - MEL_STEP) for i in range(n)]
        assert starts.tolist() == expected
        # Each chunk is 16 consecutive columns.
        assert np.all(np.diff(chunks[:, 0, :], axis=1) == 1)


def test_chunks_near_the_end_take_the_last_16_columns(speech):
    mel = mel_spectrogram(speech)  # 769 columns
    n = int(len(speech) / SR * 25)  # 240 frames at 25 fps
    chunks = mel_chunks(mel, 25.0, n)
    assert chunks.shape == (240, 80, 16)
    np.testing.assert_array_equal(chunks[0], mel[:, :16])
    np.testing.assert_array_equal(chunks[100], mel[:, 320:336])
    # Frame 238 starts at column 761: fewer than 16 remain, so the last 16 it is.
    assert int(80 * 238 / 25) + 16 > mel.shape[1]
    np.testing.assert_array_equal(chunks[238], mel[:, -16:])
    np.testing.assert_array_equal(chunks[239], mel[:, -16:])
    # Frames past the audio's end (a longer video) keep the last chunk too.
    np.testing.assert_array_equal(mel_chunks(mel, 25.0, 260)[-1], mel[:, -16:])


def test_a_clip_shorter_than_a_chunk_is_padded_with_silence():
    mel = mel_spectrogram(np.full(1000, 0.3, dtype=np.float32))  # 6 columns
    assert mel.shape == (80, 6)
    chunks = mel_chunks(mel, 25.0, 2)
    assert chunks.shape == (2, 80, 16)
    np.testing.assert_array_equal(chunks[0, :, :6], mel)
    assert np.all(chunks[:, :, 6:] == SILENCE)
    np.testing.assert_array_equal(chunks[1], chunks[0])


def test_chunks_reject_nonsense():
    mel = np.zeros((80, 100), dtype=np.float32)
    assert mel_chunks(mel, 25.0, 0).shape == (0, 80, 16)
    with pytest.raises(ValueError):
        mel_chunks(mel, 0.0, 10)
    with pytest.raises(ValueError):
        mel_chunks(np.zeros((40, 100), dtype=np.float32), 25.0, 10)
