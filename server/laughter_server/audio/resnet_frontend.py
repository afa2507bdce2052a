"""The conversational ResNet's front end: 8 kHz log-mel windows of 44 frames, as the model was trained.

The model (``model_repository/laughter_resnet``, from jrgillick/laughter-detection, config ``resnet_base``)
was trained on 1 s segments featurised one at a time by its ``audio_utils.featurize_melspec``::

    y = librosa.load(file, sr=8000)[offset : offset + duration]          # the 1 s segment
    S = librosa.feature.melspectrogram(y, sr=8000, hop_length=186).T      # n_fft 2048, 128 mels, power 2,
    S = librosa.amplitude_to_db(S, ref=np.max)                            # centred frames, reflect padding

so one window is 8000 samples at 8 kHz, 44 frames by 128 bands, in dB relative to its own loudest bin
with an 80 dB floor. Here the same is computed for the analysis windows of one audio block: the block is
resampled from 16 kHz once (``resample_block``), then each window is cut from it and featurised as above
(``window_features``). librosa 0.10 changed ``melspectrogram``'s default padding to zeros; the original
ran on librosa 0.8, whose default was ``reflect``, so the padding is given explicitly.

Both whole-file and live analysis hand the detector the same blocks (``pipeline/audio_blocks.py``), so both
get the same features.
"""

from __future__ import annotations

import functools
from typing import Any

import librosa
import numpy as np
import numpy.typing as npt

from laughter_server.media.types import AUDIO_SAMPLE_RATE_HERTZ

SAMPLE_RATE_HERTZ = 8000
N_FFT = 2048
HOP_SAMPLES = 186
MEL_BANDS = 128
WINDOW_SAMPLES = SAMPLE_RATE_HERTZ  # 1 s
WINDOW_FRAMES = 1 + WINDOW_SAMPLES // HOP_SAMPLES  # 44 (centred frames)
TOP_DB = 80.0
AMPLITUDE_FLOOR = 1e-5  # amplitude_to_db's amin
RESAMPLE_TYPE = "soxr_hq"
"""librosa.load's resampler (the original used librosa 0.8's default, resampy's kaiser_best; soxr_hq is
librosa's default now and the one the reference fixture was made with)."""

__all__ = [
    "MEL_BANDS",
    "SAMPLE_RATE_HERTZ",
    "WINDOW_FRAMES",
    "melspec_db",
    "resample_block",
    "window_features",
]


def resample_block(samples: npt.NDArray[np.float32], sample_rate_hertz: int = AUDIO_SAMPLE_RATE_HERTZ) -> Any:
    """The block at 8 kHz (float32)."""
    if sample_rate_hertz == SAMPLE_RATE_HERTZ:
        return np.asarray(samples, np.float32)
    resampled = librosa.resample(
        np.asarray(samples, np.float32),
        orig_sr=sample_rate_hertz,
        target_sr=SAMPLE_RATE_HERTZ,
        res_type=RESAMPLE_TYPE,
    )
    return np.asarray(resampled, np.float32)


@functools.lru_cache(maxsize=1)
def _mel_basis() -> npt.NDArray[np.float32]:
    basis = librosa.filters.mel(sr=SAMPLE_RATE_HERTZ, n_fft=N_FFT, n_mels=MEL_BANDS)
    return np.asarray(basis, np.float32)


@functools.lru_cache(maxsize=1)
def _hann() -> npt.NDArray[np.float32]:
    return np.asarray(librosa.filters.get_window("hann", N_FFT, fftbins=True), np.float32)


def melspec_db(segment: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """``featurize_melspec`` of one 8 kHz segment: ``(frames, 128)`` dB relative to its maximum, floor -80 dB.

    Same as ``librosa.amplitude_to_db(librosa.feature.melspectrogram(y=segment, sr=8000, hop_length=186,
    pad_mode="reflect"), ref=np.max).T``, computed with one batched FFT.
    """
    y = np.asarray(segment, np.float32)
    padded = np.pad(y, N_FFT // 2, mode="reflect")
    frames = 1 + (padded.size - N_FFT) // HOP_SAMPLES
    view = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP_SAMPLES][:frames]
    spectrum = np.fft.rfft(view * _hann(), axis=1)
    power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
    mel = power @ _mel_basis().T
    # amplitude_to_db(S, ref=np.max): 20 log10 of the power values, as the original does
    reference = max(float(mel.max()), AMPLITUDE_FLOOR)
    db = 20.0 * np.log10(np.maximum(mel, np.float32(AMPLITUDE_FLOOR))) - np.float32(
        20.0 * np.log10(reference)
    )
    out: npt.NDArray[np.float32] = np.maximum(db, db.max() - TOP_DB).astype(np.float32)
    return out


def window_features(
    block_8k: npt.NDArray[np.float32], starts_8k: npt.NDArray[np.int64]
) -> npt.NDArray[np.float32]:
    """``(N, 44, 128)`` features of the 1 s windows starting at ``starts_8k`` (samples of ``block_8k``); a
    window reaching past either end of the block is zero-padded there, as the detector pads its windows."""
    out = np.empty((len(starts_8k), WINDOW_FRAMES, MEL_BANDS), np.float32)
    for row, start in enumerate(np.asarray(starts_8k, np.int64)):
        segment = np.zeros(WINDOW_SAMPLES, np.float32)
        lo, hi = max(0, int(start)), min(block_8k.size, int(start) + WINDOW_SAMPLES)
        if hi > lo:
            segment[lo - int(start) : hi - int(start)] = block_8k[lo:hi]
        out[row] = melspec_db(segment)
    return out
