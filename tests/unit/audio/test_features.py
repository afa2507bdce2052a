"""Tests of the window feature extraction."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from laughter_server.audio.features import (
    CUES_FEATURE_SET,
    LEGACY_FEATURE_SET,
    FeatureSettings,
    FrameCache,
    compute_window_features,
    extract_window_features,
    feature_names,
)
from laughter_server.pipeline.audio_blocks import AudioAccumulator

CLIPS = [
    "audio/laughter/btanks-data__sounds_laugh01.wav",
    "audio/speech/codec2-examples__raw_vk5qi.wav",
    "audio/music/sonic-pi-samples__samples_loop_amen.wav",
    "audio/cough/hedgewars-data__Default_ru_PoisonCough.wav",
]


class TestExtractWindowFeatures:
    """extract_window_features / compute_window_features."""

    @pytest.mark.parametrize("relative", CLIPS)
    def test_real_clip_shapes_and_values(self, read_clip: Callable[[str], np.ndarray], relative: str) -> None:
        """Real clips give finite float32 features, one row per window, centres a hop apart."""
        samples = read_clip(relative)
        centers_s, features = extract_window_features(samples)
        duration_s = samples.size / 16_000
        assert features.dtype == np.float32
        assert features.shape == (centers_s.size, len(feature_names()))
        assert np.isfinite(features).all()
        if duration_s >= 1.0:
            assert centers_s[0] == pytest.approx(0.5)
            assert np.allclose(np.diff(centers_s), 0.25)
            assert centers_s[-1] + 0.5 >= duration_s - 1e-6
            assert centers_s[-1] - 0.25 + 0.5 < duration_s

    def test_silence_is_finite_and_flat(self) -> None:
        """Digital silence gives finite features, no voicing and a very low level."""
        result = compute_window_features(np.zeros(3 * 16_000, np.float32), FeatureSettings())
        names = feature_names()
        assert np.isfinite(result.features).all()
        assert result.features.shape[0] == 9
        assert np.all(result.features[:, names.index("voiced_mean")] == 0.0)
        assert np.all(result.rms_dbfs < -90.0)

    def test_short_clip_is_padded_to_one_centred_window(self, read_clip: Callable[[str], np.ndarray]) -> None:
        """A clip shorter than a window gives exactly one window centred on the clip's midpoint."""
        samples = read_clip("audio/cough/hedgewars-data__Default_ru_PoisonCough.wav")
        assert samples.size < 16_000
        centers_s, features = extract_window_features(samples)
        assert features.shape[0] == 1
        assert centers_s[0] == pytest.approx(samples.size / 16_000 / 2, abs=1e-4)

    def test_empty_clip_has_no_windows(self) -> None:
        """An empty clip gives zero windows with the right feature width."""
        centers_s, features = extract_window_features(np.zeros(0, np.float32))
        assert centers_s.size == 0
        assert features.shape == (0, len(feature_names()))

    @pytest.mark.parametrize(
        ("feature_set", "name"), [(LEGACY_FEATURE_SET, "mfcc0_mean"), (CUES_FEATURE_SET, "centroid_mean")]
    )
    def test_gain_leaves_spectral_features_alone(
        self, read_clip: Callable[[str], np.ndarray], feature_set: str, name: str
    ) -> None:
        """Level-relative features barely move under a 20 dB gain change; the window level follows it."""
        settings = FeatureSettings(feature_set=feature_set)
        samples = read_clip(CLIPS[0])
        loud = compute_window_features(samples, settings)
        quiet = compute_window_features(samples * 0.1, settings)
        column = feature_names(settings).index(name)
        audible = quiet.rms_dbfs > -45.0
        assert audible.sum() >= 5
        assert np.allclose(loud.features[audible, column], quiet.features[audible, column], atol=1.0)
        assert np.allclose(loud.rms_dbfs - quiet.rms_dbfs, 20.0, atol=0.5)

    def test_window_settings_are_honoured(self, read_clip: Callable[[str], np.ndarray]) -> None:
        """A 2 s window with a 0.5 s hop gives centres at 1.0, 1.5, ..."""
        samples = read_clip(CLIPS[1])
        centers_s, _ = extract_window_features(samples, window_s=2.0, hop_s=0.5)
        assert centers_s[:3] == pytest.approx([1.0, 1.5, 2.0])


class TestFeatureSets:
    """The legacy (1.0.x) and cues (1.1.x) feature sets."""

    def test_legacy_matrix_is_unchanged(self, read_clip: Callable[[str], np.ndarray]) -> None:
        """The legacy set keeps its 124 columns; the cues set shares its non-MFCC columns."""
        samples = read_clip(CLIPS[0])
        legacy_settings = FeatureSettings(feature_set=LEGACY_FEATURE_SET)
        legacy = compute_window_features(samples, legacy_settings).features
        cues = compute_window_features(samples, FeatureSettings()).features
        legacy_names = feature_names(legacy_settings)
        cue_names = feature_names(FeatureSettings())
        assert legacy.shape[1] == len(legacy_names) == 124
        assert cues.shape[1] == len(cue_names) == 50
        for name in ("zcr_mean", "burst_rate_hertz", "harmonicity_p90"):
            np.testing.assert_array_equal(legacy[:, legacy_names.index(name)], cues[:, cue_names.index(name)])

    def test_metadata_without_feature_set_is_legacy(self) -> None:
        """Settings saved before the field existed load as the legacy set; new ones round-trip."""
        stored = FeatureSettings().to_dict()
        del stored["feature_set"]
        assert FeatureSettings.from_dict(stored).feature_set == LEGACY_FEATURE_SET
        assert FeatureSettings.from_dict(FeatureSettings().to_dict()) == FeatureSettings()

    def test_unknown_feature_set_refused(self) -> None:
        """An unknown feature set name is refused."""
        with pytest.raises(ValueError, match="unknown feature set"):
            FeatureSettings.from_dict({"feature_set": "nope"})


def stream_blocks(samples: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """The analysis blocks of ``samples`` as one stream (``AudioAccumulator``): ``(block samples, first
    sample)`` in order."""
    accumulator = AudioAccumulator(1.0, 0.25)
    accumulator.place(samples.astype(np.float32), 0)
    blocks = []
    while (taken := accumulator.take(final=True)) is not None:
        clip = taken[0]
        blocks.append((clip.samples, round(clip.start_s * 16_000)))
    return blocks


class TestFrameCache:
    """compute_window_features with a FrameCache: the same features bit for bit, the shared frames computed
    once."""

    @pytest.mark.parametrize("relative", CLIPS[:3])
    def test_blocks_of_a_stream_give_the_uncached_features(
        self, read_clip: Callable[[str], np.ndarray], relative: str
    ) -> None:
        """Every block of a real clip streamed through one cache has exactly the features it has alone, and
        most of each block's frames (all but its new half second and its zero-padded tail) come from the
        cache."""
        samples = np.tile(read_clip(relative), 3)[: 8 * 16_000]  # several blocks, whatever the clip's length
        settings = FeatureSettings(feature_set=CUES_FEATURE_SET)
        cache = FrameCache()
        blocks = stream_blocks(samples)
        assert len(blocks) >= 10
        for block, start in blocks:
            alone = compute_window_features(block, settings)
            cached = compute_window_features(block, settings, cache, start)
            np.testing.assert_array_equal(cached.features, alone.features)
            np.testing.assert_array_equal(cached.rms_dbfs, alone.rms_dbfs)
            np.testing.assert_array_equal(cached.burst_rate_hertz, alone.burst_rate_hertz)
        frames = sum((block.size - 512) // 160 + 1 for block, _ in blocks)
        assert cache.reused_frames > 0.6 * frames

    def test_a_block_off_the_frame_grid_is_computed_alone(
        self, read_clip: Callable[[str], np.ndarray]
    ) -> None:
        """A clip starting between two 10 ms frames of the stream shares no frame with the cached one."""
        samples = read_clip(CLIPS[1])[: 4 * 16_000]
        settings = FeatureSettings()
        cache = FrameCache()
        compute_window_features(samples[: 3 * 16_000], settings, cache, 0)
        shifted = samples[80 : 80 + 3 * 16_000]
        cached = compute_window_features(shifted, settings, cache, 80)
        assert cache.reused_frames == 0
        np.testing.assert_array_equal(cached.features, compute_window_features(shifted, settings).features)

    def test_other_settings_do_not_share_frames(self, read_clip: Callable[[str], np.ndarray]) -> None:
        """A cache filled under one frame length is not read under another."""
        samples = read_clip(CLIPS[1])[: 3 * 16_000]
        cache = FrameCache()
        compute_window_features(samples, FeatureSettings(), cache, 0)
        other = FeatureSettings(frame_length_samples=400)
        cached = compute_window_features(samples, other, cache, 0)
        assert cache.reused_frames == 0
        np.testing.assert_array_equal(cached.features, compute_window_features(samples, other).features)

    def test_a_later_block_reuses_what_it_shares(self, read_clip: Callable[[str], np.ndarray]) -> None:
        """The second of two overlapping blocks takes exactly the frames it shares with the first, minus the
        frames of the first that reach into its zero padding."""
        samples = read_clip(CLIPS[1])[: 4 * 16_000]
        settings = FeatureSettings()
        cache = FrameCache()
        first = samples[:37_600]  # 2.35 s: its last window is zero-padded to 2.5 s
        compute_window_features(first, settings, cache, 0)
        assert cache.reused_frames == 0
        compute_window_features(samples[8_000 : 8_000 + 37_600], settings, cache, 8_000)
        whole_frames_of_first = (first.size - 512) // 160 + 1
        assert cache.reused_frames == whole_frames_of_first - 8_000 // 160
