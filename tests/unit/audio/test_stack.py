"""The stacked audio model: cascade, combiner, loading."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from laughter_server.audio.stack import (
    StackedAudioDetector,
    cascade_mask,
    combiner_features,
    stack_probabilities,
)
from laughter_server.errors import ModelLoadError
from sklearn.linear_model import LogisticRegression

from tests.stacked_model import write_stacked_model


class _Half:
    """A combiner that answers 0.5 for every window it is asked about."""

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        return np.full((len(features), 2), 0.5)


class TestStackProbabilities:
    def test_rejected_windows_keep_the_cues_probability(self) -> None:
        """Below the cascade threshold the cues score stays; above it the combiner's, times the level weight."""
        cues = np.array([0.01, 0.2, 0.5, 0.9], np.float32)
        second = np.array([0.9, 0.9, 0.1, 0.8], np.float32)
        reached = cascade_mask(cues, 0.1)
        assert reached.tolist() == [False, True, True, True]
        weights = np.array([1.0, 1.0, 0.5, 1.0])
        got = stack_probabilities(_Half(), cues, second, reached, weights)
        assert got.tolist() == pytest.approx([0.01, 0.5, 0.25, 0.5])

    def test_the_second_score_moves_the_stack(self) -> None:
        """With a fitted combiner, a higher ResNet score raises the stacked probability of the same cues score."""
        rng = np.random.default_rng(3)
        labels = rng.integers(0, 2, 300)
        cues = np.clip(0.4 + 0.2 * labels + rng.normal(0, 0.1, 300), 0.01, 0.99)
        second = np.clip(0.1 + 0.8 * labels + rng.normal(0, 0.1, 300), 0.01, 0.99)
        combiner = LogisticRegression().fit(combiner_features(cues, second), labels)
        both = np.array([0.5, 0.5], np.float32)
        got = stack_probabilities(combiner, both, np.array([0.05, 0.95]), np.array([True, True]), np.ones(2))
        assert got[1] > 0.8 > 0.2 > got[0]


class TestStackedDetector:
    def test_loads_with_its_cues_model(self, tmp_path: Path) -> None:
        """The artifact loads with the cues model it names; its settings are the cues model's."""
        detector = StackedAudioDetector.load(write_stacked_model(tmp_path, cascade_threshold=0.25))
        assert detector.version == "9.9.0"
        assert detector.base.version == "1.4.0"
        assert detector.cascade_threshold == 0.25
        assert detector.settings == detector.base.settings

    def test_refuses_another_cues_model(self, tmp_path: Path) -> None:
        """A cues model whose sha256 is not the one the stack was trained on is refused."""
        path = write_stacked_model(tmp_path)
        metadata = json.loads(path.with_suffix(".json").read_text())
        metadata["base_model"]["sha256"] = "0" * 64
        path.with_suffix(".json").write_text(json.dumps(metadata))
        with pytest.raises(ModelLoadError, match="trained on another"):
            StackedAudioDetector.load(path)

    def test_refuses_a_path_as_cues_model(self, tmp_path: Path) -> None:
        """The cues model must be a file beside the stack, not a path elsewhere."""
        path = write_stacked_model(tmp_path)
        metadata = json.loads(path.with_suffix(".json").read_text())
        metadata["base_model"]["file"] = "../elsewhere/laughter-audio-1.4.0.skops"
        path.with_suffix(".json").write_text(json.dumps(metadata))
        with pytest.raises(ModelLoadError, match="names no cues model"):
            StackedAudioDetector.load(path)
