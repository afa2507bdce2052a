"""Laughter cues pooled over windows: repetition, aspiration and pitch height.

A laugh is a train of similar "ha" syllables, every 0.12-0.4 s, with breathy (aspirated) gaps
between voiced bursts and a raised pitch. Speech strings different syllables together at an
irregular pace, a scream is one sustained sound, so these cues separate the three without
relying on the absolute spectrum (which mostly encodes the microphone and the codec).

Per window:

* ``spectral_repetition_peak`` / ``_contrast`` / ``_lag_s``: the highest normalised
  correlation between the cepstral shape (MFCC 1-12, running mean removed) of frames 0.12-0.4 s
  apart, how far it rises above the lowest correlation at a shorter lag (periodic, not merely
  steady), and the lag where it peaks;
* ``envelope_repetition_peak`` / ``_contrast`` / ``_lag_s``: the same for the loudness envelope;
* ``high_band_unvoiced`` / ``high_band_voiced`` / ``high_band_gap_contrast``: the share of
  energy above ``high_band_hertz`` in active unvoiced frames, in voiced frames, and their
  difference;
* ``unvoiced_active_fraction``: the share of active frames that are unvoiced;
* ``f0_voiced_p90`` / ``f0_voiced_range``: 90th percentile and 90th-10th percentile range of
  log2 f0 over voiced frames.

Everything is computed from frame-level sums, so the cost grows with the clip length only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

CUE_NAMES: tuple[str, ...] = (
    "spectral_repetition_peak",
    "spectral_repetition_contrast",
    "spectral_repetition_lag_s",
    "envelope_repetition_peak",
    "envelope_repetition_contrast",
    "envelope_repetition_lag_s",
    "high_band_unvoiced",
    "high_band_voiced",
    "high_band_gap_contrast",
    "unvoiced_active_fraction",
    "f0_voiced_p90",
    "f0_voiced_range",
)
"""Column names of ``compute_laughter_cues``, in order."""

_SHAPE_COEFFICIENTS = slice(1, 13)
_MIN_LAG_S = 0.03
_PERIOD_RANGE_S = (0.12, 0.40)
_ENVELOPE_FLOOR_DB = -80.0
_EPS = 1e-9
_PERIOD_TOLERANCE = 0.05
_VARIANCE_FLOOR = 1.0  # per frame and dimension (dB^2): near-constant tracks correlate as 0, not as noise


def compute_laughter_cues(
    cepstra: FloatArray,
    log_rms_db: FloatArray,
    high_band_ratio: FloatArray,
    voiced: FloatArray,
    active: FloatArray,
    log2_f0: FloatArray,
    starts: npt.NDArray[np.int64],
    frames_per_window: int,
    frame_rate_hertz: float,
) -> FloatArray:
    """Cues of every window (``(W, len(CUE_NAMES))``) from frame-level tracks of one clip.

    ``cepstra`` is ``(T, K)`` MFCCs; the other tracks are ``(T,)``; window ``w`` covers frames
    ``starts[w]`` to ``starts[w] + frames_per_window``.
    """
    lags = np.arange(
        max(1, round(_MIN_LAG_S * frame_rate_hertz)), round(_PERIOD_RANGE_S[1] * frame_rate_hertz) + 1
    )
    lags = lags[lags < frames_per_window // 2]
    shape = _centred(cepstra[:, _SHAPE_COEFFICIENTS], frames_per_window) * active[:, None]
    envelope = np.maximum(log_rms_db, _ENVELOPE_FLOOR_DB)[:, None]
    envelope = _centred(envelope, frames_per_window)
    spectral = _periodicity(_lag_correlations(shape, lags, starts, frames_per_window), lags, frame_rate_hertz)
    rhythm = _periodicity(
        _lag_correlations(envelope, lags, starts, frames_per_window), lags, frame_rate_hertz
    )

    unvoiced = active * (1.0 - voiced)
    active_count = np.maximum(_window_sums(active, starts, frames_per_window), 1.0)
    voiced_count = _window_sums(voiced, starts, frames_per_window)
    unvoiced_count = _window_sums(unvoiced, starts, frames_per_window)
    high_unvoiced = _window_sums(high_band_ratio * unvoiced, starts, frames_per_window) / np.maximum(
        unvoiced_count, 1.0
    )
    high_voiced = _window_sums(high_band_ratio * voiced, starts, frames_per_window) / np.maximum(
        voiced_count, 1.0
    )
    f0_low, f0_high = _masked_percentiles(log2_f0, voiced, starts, frames_per_window, (0.1, 0.9))
    columns = [
        *spectral,
        *rhythm,
        high_unvoiced,
        high_voiced,
        high_unvoiced - high_voiced,
        unvoiced_count / active_count,
        f0_high,
        f0_high - f0_low,
    ]
    stacked: npt.NDArray[np.float64] = np.nan_to_num(
        np.stack(columns, axis=1), nan=0.0, posinf=0.0, neginf=0.0
    )
    return stacked


def _window_sums(values: npt.NDArray[Any], starts: npt.NDArray[np.int64], length: int) -> Any:
    cumulative = np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0)], axis=0)
    return cumulative[starts + length] - cumulative[starts]


def _centred(values: FloatArray, length: int) -> FloatArray:
    """Subtract a centred running mean over ``length`` frames (edges use the frames available)."""
    half = length // 2
    cumulative = np.concatenate([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)], axis=0)
    index = np.arange(values.shape[0])
    low = np.maximum(index - half, 0)
    high = np.minimum(index + half + 1, values.shape[0])
    mean = (cumulative[high] - cumulative[low]) / (high - low)[:, None]
    centred: FloatArray = values - mean
    return centred


def _lag_correlations(
    values: FloatArray, lags: npt.NDArray[np.int64], starts: npt.NDArray[np.int64], length: int
) -> FloatArray:
    """Normalised correlation of frames ``lag`` apart inside each window: ``(W, len(lags))``.

    ``lags`` is a run of consecutive lags; the frame products of every lag come from one strided view of
    the frames (no copy per lag), each lag's running sums from one cumulative sum along its row.
    """
    if lags.size == 0:
        return np.empty((starts.size, 0))
    first, last = int(lags[0]), int(lags[-1])
    if last - first + 1 != lags.size:
        raise ValueError("lags must be consecutive")
    floor = _VARIANCE_FLOOR * values.shape[1]
    frames = values.shape[0]
    energy = np.einsum("tk,tk->t", values, values)
    energy_sums = np.concatenate([[0.0], np.cumsum(energy)])
    # shifted[j, :, t] is frame t + lags[j] (zero past the end, where no window reaches)
    padded = np.concatenate([values, np.zeros((last, values.shape[1]))])
    shifted = np.lib.stride_tricks.sliding_window_view(padded, frames, axis=0)[first : last + 1]
    products = np.einsum("tk,lkt->lt", values, shifted)
    product_sums = np.concatenate([np.zeros((lags.size, 1)), np.cumsum(products, axis=1)], axis=1)
    span = length - lags
    ends = starts[:, None] + span[None, :]
    numerator = product_sums[np.arange(lags.size)[None, :], ends] - product_sums[:, starts].T
    head = energy_sums[ends] - energy_sums[starts][:, None]
    tail = energy_sums[starts[:, None] + length] - energy_sums[starts[:, None] + lags[None, :]]
    correlations: FloatArray = numerator / (np.sqrt((head + floor * span) * (tail + floor * span)) + _EPS)
    return correlations


def _periodicity(
    correlations: FloatArray, lags: npt.NDArray[np.int64], frame_rate_hertz: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Peak correlation over the laugh-period lags, its rise above the dip before it, its lag (s)."""
    in_range = lags >= round(_PERIOD_RANGE_S[0] * frame_rate_hertz)
    if not in_range.any():
        zeros = np.zeros(correlations.shape[0])
        return zeros, zeros, zeros
    candidates = np.where(in_range[None, :], correlations, -np.inf)
    rows = np.arange(correlations.shape[0])
    highest = candidates[rows, np.argmax(candidates, axis=1)]
    # the shortest lag nearly as good as the best one: the period, not one of its multiples
    best = np.argmax(candidates >= highest[:, None] - _PERIOD_TOLERANCE, axis=1)
    peak = correlations[rows, best]
    dip = np.minimum.accumulate(correlations, axis=1)[rows, best]
    return peak, peak - dip, lags[best] / frame_rate_hertz


def _masked_percentiles(
    values: FloatArray,
    mask: FloatArray,
    starts: npt.NDArray[np.int64],
    length: int,
    quantiles: tuple[float, float],
) -> tuple[FloatArray, FloatArray]:
    """Per window, two quantiles of ``values`` over frames where ``mask`` is set (0 when none is)."""
    windows = np.lib.stride_tricks.sliding_window_view(values, length)[starts]
    selected = np.lib.stride_tricks.sliding_window_view(mask, length)[starts] > 0
    ordered = np.sort(np.where(selected, windows, np.inf), axis=1)
    count = selected.sum(axis=1)
    results = []
    for quantile in quantiles:
        index = np.minimum((quantile * np.maximum(count - 1, 0)).round().astype(int), length - 1)
        picked = ordered[np.arange(starts.size), index]
        results.append(np.where(count > 0, picked, 0.0))
    return results[0], results[1]
