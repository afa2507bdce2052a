"""Best-F1 threshold, the 1.2.x augmentation recipe and training on several sets."""

from __future__ import annotations

import dataclasses
import pathlib
import shutil

import numpy as np
import pytest
from laughter_train.augment import AugmentSettings, build_examples
from laughter_train.dataset import LabeledClip, TrainingDataError, load_labeled_clips
from laughter_train.train import best_f1_threshold

from tests.unit.train.test_train import fixture_subset_dir

__all__ = ["fixture_subset_dir"]


class TestBestF1Threshold:
    """best_f1_threshold."""

    def test_separable_scores_cut_in_the_middle_of_the_gap(self) -> None:
        """With a clean gap between 0.4 and 0.6 the threshold lands in the middle of it."""
        truth = np.array([1, 1, 0, 0, 0])
        scores = np.array([0.9, 0.6, 0.4, 0.2, 0.1])
        assert best_f1_threshold(truth, scores) == pytest.approx(0.5, abs=0.011)

    def test_broad_region_beats_a_lone_spike(self) -> None:
        """F1 0.89 only at 0.40 (a 0.01-wide sliver) loses to F1 0.77 over 0.61-0.85."""
        positives = [0.85] * 10 + [0.405] * 6
        negatives = [0.6] * 4 + [0.39] * 8 + [0.2] * 30
        truth = np.array([1] * len(positives) + [0] * len(negatives))
        scores = np.array(positives + negatives)
        assert best_f1_threshold(truth, scores, smoothing=0.0) == pytest.approx(0.40)
        smoothed = best_f1_threshold(truth, scores)
        assert 0.65 <= smoothed <= 0.8
        assert np.array_equal(scores >= smoothed, scores >= 0.85)

    def test_threshold_is_a_real_cut(self) -> None:
        """The chosen threshold separates the classes as well as any threshold on perfectly ranked scores."""
        truth = np.array([1, 1, 1, 0, 0, 0])
        scores = np.array([0.95, 0.8, 0.7, 0.3, 0.2, 0.1])
        threshold = best_f1_threshold(truth, scores)
        assert np.array_equal(scores >= threshold, truth == 1)

    def test_clamped_and_degenerate(self) -> None:
        """Thresholds stay inside the bounds; one class only gives 0.5."""
        assert 0.05 <= best_f1_threshold(np.array([1, 0]), np.array([0.02, 0.01])) <= 0.95
        assert best_f1_threshold(np.array([1, 1]), np.array([0.3, 0.2])) == 0.5


def _clip(label: str, seconds: float, group: str) -> LabeledClip:
    samples = (0.1 * np.sin(np.arange(int(seconds * 16_000)) * 0.05)).astype(np.float32)
    return LabeledClip(label + ".wav", label, group, samples, "0" * 64)


class TestAugmentRecipe:
    """The default (1.2.x) augmentation."""

    def test_only_laughs_get_copies(self) -> None:
        """Each laugh gets four speed copies and one telephone copy; negatives stay single."""
        clips = [_clip("laughter", 2.0, "a"), _clip("speech", 6.0, "b")]
        examples = build_examples(clips, np.random.default_rng(0), AugmentSettings())
        by_label = [e.source_label for e in examples]
        assert by_label.count("speech") == 1
        assert by_label.count("laughter") == 1 + 4 + 1
        assert all(e.laughter is not None for e in examples if e.source_label == "laughter")

    def test_mixing_and_negative_copies_still_available(self) -> None:
        """The older recipe (mixes, negative copies) is reachable through the settings."""
        clips = [_clip("laughter", 2.0, "a"), _clip("speech", 6.0, "b")]
        settings = dataclasses.replace(AugmentSettings(), mixes_per_positive=2, augment_negatives=True)
        examples = build_examples(clips, np.random.default_rng(0), settings)
        assert [e.source_label for e in examples].count("speech") >= 2
        assert [e.source_label for e in examples].count("laughter") == 1 + 2 + 4 + 1


class TestSeveralSets:
    """load_labeled_clips over several data sets."""

    def test_sets_are_joined_and_classes_checked_on_the_union(
        self, subset_dir: pathlib.Path, tmp_path: pathlib.Path
    ) -> None:
        """A set of negatives only is accepted next to a set with laughs."""
        extra = tmp_path / "extra"
        (extra / "scream").mkdir(parents=True)
        source = next((subset_dir / "speech").iterdir())
        shutil.copy(source, extra / "scream" / ("other-pkg__" + source.name))
        clips = load_labeled_clips([subset_dir, extra])
        assert len(clips) == len(load_labeled_clips(subset_dir)) + 1
        assert "scream" in {c.label for c in clips}
        with pytest.raises(TrainingDataError, match="laughter"):
            load_labeled_clips([extra])

    def test_same_relative_path_in_two_sets_refused(self, subset_dir: pathlib.Path) -> None:
        """Two sets holding the same relative path would make the data fingerprint ambiguous."""
        with pytest.raises(TrainingDataError, match="two data sets"):
            load_labeled_clips([subset_dir, subset_dir])

    def test_manifest_with_several_sets_refused(self, subset_dir: pathlib.Path) -> None:
        """--manifest belongs to exactly one --data."""
        with pytest.raises(TrainingDataError, match="exactly one"):
            load_labeled_clips([subset_dir, subset_dir], subset_dir / "manifest.csv")
