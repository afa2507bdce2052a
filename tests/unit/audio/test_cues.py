"""Tests of the laughter cues (repetition, aspiration, pitch height)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from laughter_server.audio.cues import _EPS, _VARIANCE_FLOOR, CUE_NAMES, _lag_correlations
from laughter_server.audio.features import FeatureSettings, compute_window_features, feature_names

RATE = 16_000


def burst_train(period_s: float, duration_s: float = 3.0, f0_hertz: float = 220.0) -> np.ndarray:
    """Harmonic 'ha' bursts (60 % of each period) separated by breathy noise, one every ``period_s``."""
    rng = np.random.default_rng(7)
    time_s = np.arange(round(duration_s * RATE)) / RATE
    voiced = sum(np.sin(2 * np.pi * f0_hertz * k * time_s) / k for k in range(1, 6))
    phase = (time_s % period_s) / period_s
    is_burst = phase < 0.6
    breath = rng.normal(0.0, 0.05, time_s.size)
    return np.where(is_burst, 0.3 * voiced, breath).astype(np.float32)


def cue_column(name: str) -> int:
    """Column of a cue in the default feature matrix."""
    return feature_names().index(name)


class TestLaughterCues:
    """compute_laughter_cues through compute_window_features (feature set laughter-cues-2)."""

    def test_names_are_appended(self) -> None:
        """The cues feature set ends with every cue and holds no MFCC statistics."""
        names = feature_names()
        assert names[-len(CUE_NAMES) :] == list(CUE_NAMES)
        assert not any(name.startswith(("mfcc", "delta_mfcc")) for name in names)

    @pytest.mark.parametrize("period_s", [0.2, 0.3])
    def test_burst_period_is_found(self, period_s: float) -> None:
        """A burst train gives a strong envelope repetition at its period."""
        result = compute_window_features(burst_train(period_s), FeatureSettings())
        middle = result.features[2:-2]
        lag = middle[:, cue_column("envelope_repetition_lag_s")]
        peak = middle[:, cue_column("envelope_repetition_peak")]
        assert np.median(lag) == pytest.approx(period_s, abs=0.03)
        assert np.median(peak) > 0.6

    def test_steady_tone_is_not_periodic(self) -> None:
        """A steady tone has no envelope rise at a laugh period, unlike a burst train."""
        time_s = np.arange(3 * RATE) / RATE
        tone = (0.3 * np.sin(2 * np.pi * 220.0 * time_s)).astype(np.float32)
        steady = compute_window_features(tone, FeatureSettings()).features
        bursts = compute_window_features(burst_train(0.25), FeatureSettings()).features
        column = cue_column("envelope_repetition_contrast")
        assert np.median(bursts[:, column]) > np.median(steady[:, column]) + 0.5

    def test_aspiration_between_bursts(self) -> None:
        """Breathy gaps carry more high-band energy than the voiced bursts."""
        features = compute_window_features(burst_train(0.25), FeatureSettings()).features
        assert np.all(features[:, cue_column("high_band_gap_contrast")] > 0.2)
        fraction = features[:, cue_column("unvoiced_active_fraction")]
        assert np.all((fraction > 0.15) & (fraction < 0.7))

    def test_pitch_height(self) -> None:
        """The 90th-percentile f0 follows the bursts' pitch (log2 Hz)."""
        features = compute_window_features(burst_train(0.25, f0_hertz=300.0), FeatureSettings()).features
        assert np.median(features[:, cue_column("f0_voiced_p90")]) == pytest.approx(np.log2(300.0), abs=0.15)

    def test_real_clips_are_finite(self, read_clip: Callable[[str], np.ndarray]) -> None:
        """Cues of a real laugh and a real speech clip are finite."""
        for relative in (
            "audio/laughter/btanks-data__sounds_laugh01.wav",
            "audio/speech/codec2-examples__raw_vk5qi.wav",
        ):
            features = compute_window_features(read_clip(relative), FeatureSettings()).features
            assert np.isfinite(features).all()
            assert features.shape[1] == len(feature_names())


def lag_correlation_by_window(values: np.ndarray, lag: int, start: int, length: int) -> float:
    """The normalised lag correlation of one window, written out directly."""
    window = values[start : start + length]
    head, tail = window[:-lag], window[lag:]
    span = length - lag
    floor = _VARIANCE_FLOOR * values.shape[1] * span
    energy = np.sqrt(((head * head).sum() + floor) * ((tail * tail).sum() + floor))
    return float((head * tail).sum() / (energy + _EPS))


class TestLagCorrelations:
    """The strided all-lags computation against each window and lag written out."""

    @pytest.mark.parametrize("columns", [1, 12])
    def test_matches_each_window_and_lag(self, columns: int) -> None:
        rng = np.random.default_rng(columns)
        values = rng.normal(0.0, 4.0, (260, columns))
        lags = np.arange(3, 41)
        starts = np.arange(7) * 25
        correlations = _lag_correlations(values, lags, starts, 98)
        assert correlations.shape == (starts.size, lags.size)
        expected = [[lag_correlation_by_window(values, int(lag), int(s), 98) for lag in lags] for s in starts]
        np.testing.assert_allclose(correlations, expected, rtol=1e-10, atol=1e-12)

    def test_periodic_frames_peak_at_their_period(self) -> None:
        period = 17
        values = np.sin(2 * np.pi * np.arange(300) / period)[:, None] * 10.0
        correlations = _lag_correlations(values, np.arange(3, 41), np.array([0, 100]), 150)
        at_period = correlations[:, period - 3]
        at_half_period = correlations[:, period // 2 - 3]
        assert (at_period > 0.9).all()
        assert (at_half_period < -0.9).all()

    def test_no_lags_and_gaps_in_lags(self) -> None:
        values = np.ones((50, 2))
        assert _lag_correlations(values, np.arange(0), np.array([0, 5]), 20).shape == (2, 0)
        with pytest.raises(ValueError, match="consecutive"):
            _lag_correlations(values, np.array([3, 5]), np.array([0]), 20)
