"""Tests of MinProbabilityEnsemble (the guarded audio model)."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import skops.io
from laughter_server.audio.detector import TRUSTED_TYPES, artifact_types
from laughter_server.audio.ensemble import MinProbabilityEnsemble
from sklearn.linear_model import LogisticRegression


def _member(shift: float) -> LogisticRegression:
    """A fitted one-feature classifier whose decision boundary sits at ``shift``."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 1))
    labels = (features[:, 0] > shift).astype(int)
    return LogisticRegression().fit(features, labels)


class TestMinProbabilityEnsemble:
    """Combining fitted members."""

    def test_probability_is_the_lowest_member_probability(self) -> None:
        low, high = _member(0.5), _member(-0.5)
        ensemble = MinProbabilityEnsemble.from_fitted([low, high])
        features = np.linspace(-2, 2, 21)[:, None]
        probabilities = ensemble.predict_proba(features)
        expected = np.minimum(low.predict_proba(features)[:, 1], high.predict_proba(features)[:, 1])
        np.testing.assert_allclose(probabilities[:, 1], expected)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
        np.testing.assert_array_equal(ensemble.predict(features), (expected >= 0.5).astype(int))
        assert ensemble.n_features_in_ == 1
        assert list(ensemble.classes_) == [0, 1]

    def test_either_member_vetoes(self) -> None:
        """A point one member scores high and the other low comes out low."""
        ensemble = MinProbabilityEnsemble.from_fitted([_member(1.0), _member(-1.0)])
        assert ensemble.predict(np.array([[0.0], [2.0]])).tolist() == [0, 1]

    def test_refuses_no_members_and_unfitted_members(self) -> None:
        with pytest.raises(ValueError, match="at least one member"):
            MinProbabilityEnsemble.from_fitted([])
        with pytest.raises(ValueError, match="fitted classifier of the classes 0 and 1"):
            MinProbabilityEnsemble.from_fitted([LogisticRegression()])

    def test_has_no_fit_of_its_own(self) -> None:
        """Members are fitted separately; the ensemble offers no fit that could ignore their weights."""
        ensemble = MinProbabilityEnsemble.from_fitted([_member(0.0)])
        with pytest.raises(AttributeError, match="fit"):
            ensemble.fit(np.zeros((2, 1)), np.array([0, 1]))  # type: ignore[attr-defined]

    def test_saved_artifact_loads_with_the_trusted_types_only(self, tmp_path: pathlib.Path) -> None:
        """The detector's trusted list covers an ensemble artifact, and it predicts the same after loading."""
        ensemble = MinProbabilityEnsemble.from_fitted([_member(0.5), _member(-0.5)])
        path = tmp_path / "ensemble.skops"
        skops.io.dump(ensemble, path)
        assert artifact_types(path.read_bytes()) <= set(TRUSTED_TYPES)
        loaded = skops.io.load(path, trusted=list(TRUSTED_TYPES))
        features = np.linspace(-2, 2, 9)[:, None]
        np.testing.assert_allclose(loaded.predict_proba(features), ensemble.predict_proba(features))
