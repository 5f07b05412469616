"""Speech → mel-spectrogram chunks, one per output video frame.

The mel spectrogram follows Wav2Lip's `audio.melspectrogram` with its hparams, so the
Wav2Lip ONNX models see exactly what they were trained on; the draft model reads the
same chunks. Pure numpy: the mel filter bank is librosa's Slaney-normalised bank
(htk=False), rebuilt here so the engine does not depend on librosa.
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 800
HOP = 200  # 12.5 ms: 80 mel columns per second
WIN = 800
NUM_MELS = 80
FMIN = 55.0
FMAX = 7600.0
PREEMPHASIS = 0.97
REF_LEVEL_DB = 20.0
MIN_LEVEL_DB = -100.0
MAX_ABS_VALUE = 4.0

MEL_COLUMNS_PER_SECOND = SAMPLE_RATE / HOP  # 80.0
MEL_STEP = 16  # columns per chunk (0.2 s), Wav2Lip's syncnet_mel_step_size
SILENCE = -MAX_ABS_VALUE  # the normalised value of "below -100 dB"


# Slaney's auditory scale (librosa's default, which Wav2Lip's mels use): linear below
# 1 kHz, logarithmic above.
_SLANEY_HZ_PER_MEL = 200.0 / 3
_SLANEY_LOG_HZ = 1000.0  # where the log part starts
_SLANEY_LOG_MEL = _SLANEY_LOG_HZ / _SLANEY_HZ_PER_MEL
_SLANEY_LOG_STEP = np.log(6.4) / 27.0


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / _SLANEY_HZ_PER_MEL
    log_part = hz >= _SLANEY_LOG_HZ
    mel[log_part] = _SLANEY_LOG_MEL + np.log(hz[log_part] / _SLANEY_LOG_HZ) / _SLANEY_LOG_STEP
    return mel


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    hz = _SLANEY_HZ_PER_MEL * mel
    log_part = mel >= _SLANEY_LOG_MEL
    hz[log_part] = _SLANEY_LOG_HZ * np.exp(_SLANEY_LOG_STEP * (mel[log_part] - _SLANEY_LOG_MEL))
    return hz


def _mel_edges(fmin: float, fmax: float, n_mels: int) -> np.ndarray:
    """n_mels + 2 frequencies (Hz) evenly spaced on the mel scale: filter edges/centres."""
    lo, hi = _hz_to_mel(np.array([fmin, fmax]))
    return _mel_to_hz(np.linspace(lo, hi, n_mels + 2))


def mel_filter_bank(
    sr: int = SAMPLE_RATE,
    n_fft: int = N_FFT,
    n_mels: int = NUM_MELS,
    fmin: float = FMIN,
    fmax: float = FMAX,
) -> np.ndarray:
    """(n_mels, 1 + n_fft//2) triangular filters, Slaney area normalisation, as
    librosa.filters.mel(htk=False, norm="slaney") (computed in float64)."""
    fft_freqs = np.linspace(0.0, sr / 2, 1 + n_fft // 2)
    mel_edges = _mel_edges(fmin, fmax, n_mels)
    fdiff = np.diff(mel_edges)
    ramps = mel_edges[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    # Constant energy per channel: each triangle scaled by 2 / its width in Hz.
    weights *= (2.0 / (mel_edges[2:] - mel_edges[:-2]))[:, None]
    return weights


def mel_centre_frequencies() -> np.ndarray:
    """(80,) centre frequency in Hz of each mel band (the peak of its triangle)."""
    return _mel_edges(FMIN, FMAX, NUM_MELS)[1:-1]


_MEL_BASIS = mel_filter_bank()
# Periodic Hann (scipy's get_window("hann", N, fftbins=True), as librosa uses).
_WINDOW = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(WIN) / WIN)


def _stft_frames(y: np.ndarray) -> np.ndarray:
    """(1 + len//hop, n_fft) read-only view of the windows librosa.stft(center=True)
    takes. librosa >= 0.10 pads with zeros ("constant"); Wav2Lip's pinned librosa 0.7
    reflected, which changes only the first and last two columns."""
    pad = N_FFT // 2
    padded = np.pad(y, (pad, pad), mode="constant")
    n_cols = 1 + (len(padded) - N_FFT) // HOP
    return np.lib.stride_tricks.as_strided(
        padded,
        shape=(n_cols, N_FFT),
        strides=(padded.strides[0] * HOP, padded.strides[0]),
        writeable=False,
    )


BLOCK_COLUMNS = 2048  # columns per FFT block: the float64 spectra of a long clip stay small


def mel_spectrogram(wav: np.ndarray) -> np.ndarray:
    """Mono 16 kHz float audio in [-1, 1] -> (80, 1 + len//200) float32 in [-4, 4].

    Computed in blocks of columns, so a long clip's transient memory is one block's
    spectra (a few MB), not the whole clip's (hundreds of MB at 5 minutes)."""
    wav = np.asarray(wav, dtype=np.float64).reshape(-1)
    # Pre-emphasis y[n] = x[n] - 0.97 x[n-1] (scipy.signal.lfilter([1, -k], [1], x)).
    emphasised = np.empty_like(wav)
    if len(wav):
        emphasised[0] = wav[0]
        emphasised[1:] = wav[1:] - PREEMPHASIS * wav[:-1]
    frames = _stft_frames(emphasised)
    out = np.empty((NUM_MELS, len(frames)), dtype=np.float32)
    min_level = np.exp(MIN_LEVEL_DB / 20 * np.log(10))  # 1e-5
    for start in range(0, len(frames), BLOCK_COLUMNS):
        block = frames[start : start + BLOCK_COLUMNS]
        mel = _MEL_BASIS @ np.abs(np.fft.rfft(block * _WINDOW, axis=1)).T
        db = 20 * np.log10(np.maximum(min_level, mel)) - REF_LEVEL_DB
        normalised = 2 * MAX_ABS_VALUE * ((db - MIN_LEVEL_DB) / -MIN_LEVEL_DB) - MAX_ABS_VALUE
        out[:, start : start + len(block)] = np.clip(normalised, -MAX_ABS_VALUE, MAX_ABS_VALUE)
    return out


def mel_chunks(mel: np.ndarray, fps: float, n_frames: int) -> np.ndarray:
    """(n_frames, 80, 16) float32: chunk i starts at column int(80 * i / fps), the
    audio from that frame's time on (Wav2Lip's rule); where fewer than 16 columns
    remain, the last 16 columns."""
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if n_frames < 0:
        raise ValueError(f"n_frames must be >= 0, got {n_frames}")
    mel = np.asarray(mel, dtype=np.float32)
    if mel.ndim != 2 or mel.shape[0] != NUM_MELS:
        raise ValueError(f"mel must be ({NUM_MELS}, T), got {mel.shape}")
    if mel.shape[1] < MEL_STEP:  # shorter than 0.2 s: the rest is silence
        mel = np.pad(
            mel, ((0, 0), (0, MEL_STEP - mel.shape[1])), mode="constant", constant_values=SILENCE
        )
    last_start = mel.shape[1] - MEL_STEP
    starts = np.array(
        [min(int(MEL_COLUMNS_PER_SECOND * i / fps), last_start) for i in range(n_frames)],
        dtype=np.int64,
    )
    columns = starts[:, None] + np.arange(MEL_STEP)[None, :]  # (n_frames, 16)
    return np.ascontiguousarray(mel[:, columns].transpose(1, 0, 2))
