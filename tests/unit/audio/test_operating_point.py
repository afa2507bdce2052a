"""Operating threshold, clip aggregates and level weights of the audio detector."""

from __future__ import annotations

import numpy as np
import pytest
from laughter_server.audio.detector import AudioLaughterDetector, default_model_path
from laughter_server.audio.scores import aggregate_clip_score, remap_operating_point
from laughter_server.media.types import AudioClip


class TestRemapOperatingPoint:
    """remap_operating_point."""

    @pytest.mark.parametrize("threshold", [0.1, 0.3, 0.5, 0.8])
    def test_threshold_goes_to_half_and_ends_stay(self, threshold: float) -> None:
        """The threshold maps to 0.5, 0 to 0 and 1 to 1, and the map is increasing."""
        values = np.array([0.0, threshold, 1.0], np.float32)
        np.testing.assert_allclose(remap_operating_point(values, threshold), [0.0, 0.5, 1.0], atol=1e-6)
        grid = np.linspace(0.0, 1.0, 101, dtype=np.float32)
        assert np.all(np.diff(remap_operating_point(grid, threshold)) > 0)

    def test_decisions_at_threshold_equal_decisions_at_half(self) -> None:
        """Scores at or above the threshold are exactly those at or above 0.5 after the map."""
        values = np.random.default_rng(3).random(1000).astype(np.float32)
        remapped = remap_operating_point(values, 0.27)
        np.testing.assert_array_equal(values >= np.float32(0.27), remapped >= 0.5)

    @pytest.mark.parametrize("threshold", [0.0, 1.0, -0.2])
    def test_threshold_outside_the_open_interval_refused(self, threshold: float) -> None:
        """0, 1 and negative thresholds would collapse or invert the map."""
        with pytest.raises(ValueError, match="strictly between"):
            remap_operating_point(np.zeros(3, np.float32), threshold)


class TestTopHalfMean:
    """The top_half_mean clip aggregate."""

    def test_mean_of_the_highest_half(self) -> None:
        """Odd counts round the half up."""
        assert aggregate_clip_score(np.array([0.1, 0.9, 0.5, 0.7]), "top_half_mean") == pytest.approx(0.8)
        assert aggregate_clip_score(np.array([0.2, 0.4, 0.6]), "top_half_mean") == pytest.approx(0.5)

    def test_one_high_window_in_a_long_clip_stays_low(self) -> None:
        """A single laughter-like window among 20 low ones does not carry the clip, unlike max."""
        values = np.array([0.95] + [0.05] * 20)
        assert aggregate_clip_score(values, "max") == pytest.approx(0.95)
        assert aggregate_clip_score(values, "top_half_mean") < 0.15

    def test_no_windows_is_zero(self) -> None:
        """An empty clip scores 0."""
        assert aggregate_clip_score(np.zeros(0), "top_half_mean") == 0.0


class TestDetectorOperatingThreshold:
    """The detector applies the operating threshold stored in the metadata."""

    def test_windows_are_remapped_and_clip_decisions_follow(self, read_clip) -> None:  # type: ignore[no-untyped-def]
        """The same estimator with threshold t gives remap(p, t) for every window."""
        base = AudioLaughterDetector.load(default_model_path())
        metadata = dict(base.metadata, operating_threshold=0.5)
        plain = AudioLaughterDetector(base._model, metadata, base.sha256)
        shifted = AudioLaughterDetector(base._model, dict(metadata, operating_threshold=0.2), base.sha256)
        clip = AudioClip(read_clip("audio/laughter/trackballs-data__sfx_crazylaugh.wav"))
        raw = plain.predict_windows(clip).probabilities
        moved = shifted.predict_windows(clip).probabilities
        np.testing.assert_allclose(moved, remap_operating_point(raw, 0.2), atol=1e-6)
        assert not np.allclose(moved, raw)

    def test_clip_score_uses_its_own_threshold(self, read_clip) -> None:  # type: ignore[no-untyped-def]
        """The clip score is the aggregate of the unmapped windows, mapped with clip_threshold only."""
        base = AudioLaughterDetector.load(default_model_path())
        metadata = dict(base.metadata, operating_threshold=0.5, clip_threshold=0.5)
        plain = AudioLaughterDetector(base._model, metadata, base.sha256)
        both = AudioLaughterDetector(
            base._model, dict(metadata, operating_threshold=0.9, clip_threshold=0.3), base.sha256
        )
        clip = AudioClip(read_clip("audio/speech/redeclipse-data__voice_thanks.wav"))
        raw = plain.score_clip(clip)
        assert both.score_clip(clip) == pytest.approx(float(remap_operating_point(np.array([raw]), 0.3)[0]))

    def test_invalid_threshold_in_metadata_refused(self) -> None:
        """A threshold of 1 in the metadata is refused when the detector is built."""
        base = AudioLaughterDetector.load(default_model_path())
        with pytest.raises(ValueError, match="operating_threshold"):
            AudioLaughterDetector(base._model, dict(base.metadata, operating_threshold=1.0), base.sha256)
        with pytest.raises(ValueError, match="clip_threshold"):
            AudioLaughterDetector(base._model, dict(base.metadata, clip_threshold=0.0), base.sha256)


class TestWindowLevelWeights:
    """features.window_level_weights and the settings field behind it."""

    def test_ramp_between_floor_and_full_level(self) -> None:
        """0 at and below -60 dBFS, 1 from -40 dBFS up, linear in between."""
        from laughter_server.audio.features import FeatureSettings, window_level_weights

        rms = np.array([-80.0, -60.0, -50.0, -45.0, -40.0, -10.0], np.float32)
        weights = window_level_weights(rms, FeatureSettings())
        np.testing.assert_allclose(weights, [0.0, 0.0, 0.5, 0.75, 1.0, 1.0], atol=1e-6)

    def test_models_saved_without_the_field_keep_the_step(self) -> None:
        """Settings read from older metadata have no ramp: every window above the floor counts fully."""
        from laughter_server.audio.features import FeatureSettings, window_level_weights

        old = FeatureSettings.from_dict({"feature_set": "laughter-cues-2", "silence_floor_dbfs": -60.0})
        assert old.quiet_full_weight_dbfs is None
        rms = np.array([-61.0, -59.0, -45.0], np.float32)
        np.testing.assert_array_equal(window_level_weights(rms, old), [0.0, 1.0, 1.0])
        assert FeatureSettings.from_dict(FeatureSettings().to_dict()) == FeatureSettings()

    def test_quiet_copy_of_a_laugh_scores_lower(self, read_clip) -> None:  # type: ignore[no-untyped-def]
        """The same laugh 35 dB quieter scores lower than at its recorded level, but above 0."""
        detector = AudioLaughterDetector.load(default_model_path())
        laugh = read_clip("audio/laughter/wesnoth-1.16-data__sounds_dwarf-laugh.wav")
        loud = detector.predict_windows(AudioClip(laugh)).probabilities
        quiet = detector.predict_windows(AudioClip(laugh * np.float32(10 ** (-35 / 20)))).probabilities
        assert quiet.max() < loud.max()
        assert quiet.max() > 0.0
