"""Tests of the compiled scoring of the boosted audio models (``audio/compiled.py``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from laughter_server.audio import compiled
from laughter_server.audio.compiled import CompiledBoosting, compile_classifier
from laughter_server.audio.detector import AudioLaughterDetector, default_model_path
from laughter_server.audio.ensemble import MinProbabilityEnsemble
from laughter_server.audio.features import compute_window_features
from laughter_server.media.types import AudioClip
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

from tests.unit.audio.test_detector import LAUGHTER, SPEECH, laugh_in_speech

Reader = Callable[[str], np.ndarray]


def _boosted_pair(features: np.ndarray, labels: np.ndarray, **boosting: object) -> MinProbabilityEnsemble:
    """A guarded pair like the shipped one: two sigmoid-calibrated boosting models, the second with other seeds."""
    members = [
        CalibratedClassifierCV(
            HistGradientBoostingClassifier(max_iter=40, random_state=seed, **boosting),  # type: ignore[arg-type]
            method="sigmoid",
            cv=2,
        ).fit(features, labels)
        for seed in (0, 1)
    ]
    return MinProbabilityEnsemble.from_fitted(members)


@pytest.fixture(scope="module", name="detector")
def fixture_detector() -> AudioLaughterDetector:
    return AudioLaughterDetector.load(default_model_path())


class TestShippedModel:
    """The default model's windows are scored by the compiled form, with scikit-learn's probabilities."""

    def test_default_model_is_compiled(self, detector: AudioLaughterDetector) -> None:
        assert detector.compiled_scoring

    def test_same_bits_as_scikit_learn_on_dev_features(
        self, detector: AudioLaughterDetector, read_clip: Reader
    ) -> None:
        rows = np.concatenate(
            [
                compute_window_features(read_clip(name), detector.settings).features
                for name in LAUGHTER + SPEECH
            ]
        )
        fast = compile_classifier(detector._model)
        assert fast is not None
        assert len(rows) > 100
        for count in (1, 2, 7, len(rows)):
            np.testing.assert_array_equal(
                fast(rows[:count]), detector._model.predict_proba(rows[:count])[:, 1]
            )

    def test_window_scores_unchanged(self, detector: AudioLaughterDetector, read_clip: Reader) -> None:
        """predict_blocks gives the same scores through scikit-learn's predict_proba."""
        clip, _ = laugh_in_speech(read_clip)
        blocks = [
            AudioClip(clip.samples[i : i + 40_000], start_s=i / 16_000) for i in range(0, 160_000, 40_000)
        ]
        compiled_scores = detector.predict_blocks(blocks)
        reference = AudioLaughterDetector(detector._model, detector.metadata, detector.sha256)
        reference._positive = lambda rows: detector._model.predict_proba(rows)[:, 1]
        for fast, slow in zip(compiled_scores, reference.predict_blocks(blocks), strict=True):
            np.testing.assert_array_equal(fast.probabilities, slow.probabilities)
        assert max(float(s.probabilities.max()) for s in compiled_scores) > 0.5  # the laugh is found


class TestCompileClassifier:
    """Which models compile, and the equality check that guards it."""

    def test_missing_values_follow_the_trees(self) -> None:
        """Rows with NaN features take each split's side for missing values, as scikit-learn does."""
        rng = np.random.default_rng(3)
        features = rng.normal(size=(400, 5))
        labels = (features[:, 0] + features[:, 1] > 0).astype(int)
        features[rng.random(features.shape) < 0.2] = np.nan
        model = _boosted_pair(features, labels)
        fast = compile_classifier(model)
        assert fast is not None
        probe = rng.normal(size=(300, 5))
        probe[rng.random(probe.shape) < 0.3] = np.nan
        np.testing.assert_array_equal(fast(probe), model.predict_proba(probe)[:, 1])

    def test_deeper_trees(self) -> None:
        rng = np.random.default_rng(4)
        features = rng.normal(size=(600, 8)).astype(np.float32)
        labels = (np.sin(3 * features[:, 0]) + features[:, 2] * features[:, 3] > 0).astype(int)
        model = _boosted_pair(features, labels, max_leaf_nodes=15)
        fast = compile_classifier(model)
        assert fast is not None
        probe = rng.normal(size=(257, 8)).astype(np.float32)
        np.testing.assert_array_equal(fast(probe), model.predict_proba(probe)[:, 1])

    def test_other_models_keep_scikit_learn(self) -> None:
        rng = np.random.default_rng(5)
        features = rng.normal(size=(200, 3))
        labels = (features[:, 0] > 0).astype(int)
        forest = CalibratedClassifierCV(RandomForestClassifier(n_estimators=5), method="sigmoid", cv=2)
        assert compile_classifier(forest.fit(features, labels)) is None
        isotonic = MinProbabilityEnsemble.from_fitted(
            [
                CalibratedClassifierCV(
                    HistGradientBoostingClassifier(max_iter=10), method="isotonic", cv=2
                ).fit(features, labels)
            ]
        )
        assert compile_classifier(isotonic) is None
        categories = np.column_stack([rng.integers(0, 4, 200), features[:, 1:]])
        categorical = _boosted_pair(categories, (categories[:, 0] > 1).astype(int), categorical_features=[0])
        assert compile_classifier(categorical) is None

    def test_one_calibrated_model_compiles(self) -> None:
        """A single sigmoid-calibrated boosting model (as 1.1.0) compiles, with several calibration folds."""
        rng = np.random.default_rng(8)
        features = rng.normal(size=(300, 4))
        single = CalibratedClassifierCV(HistGradientBoostingClassifier(max_iter=30), method="sigmoid", cv=3)
        single.fit(features, (features[:, 0] - features[:, 1] > 0).astype(int))
        fast = compile_classifier(single)
        assert fast is not None
        probe = rng.normal(size=(100, 4))
        np.testing.assert_array_equal(fast(probe), single.predict_proba(probe)[:, 1])

    def test_a_mismatch_keeps_scikit_learn(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """When the compiled form does not give scikit-learn's bits on the probe rows, it is not used."""
        rng = np.random.default_rng(6)
        features = rng.normal(size=(200, 3))
        model = _boosted_pair(features, (features[:, 0] > 0).astype(int))
        assert compile_classifier(model) is not None
        original = CompiledBoosting.decision_function
        monkeypatch.setattr(
            CompiledBoosting, "decision_function", lambda self, rows: original(self, rows) * (1 + 1e-12)
        )
        assert compile_classifier(model) is None

    def test_probe_rows_sit_on_the_thresholds(self) -> None:
        """The check exercises both sides of the splits: most probe values equal a threshold or lie next to one."""
        rng = np.random.default_rng(7)
        features = rng.normal(size=(300, 4))
        model = _boosted_pair(features, (features[:, 0] > 0.3).astype(int))
        ensemble = compiled.CompiledEnsemble(model.members)
        boosting = ensemble.members[0].parts[0][0]
        probe = boosting.probe_rows(np.random.default_rng(0), 200)
        thresholds = boosting.threshold[~boosting.is_leaf & (boosting.feature == 0)]
        nearest = np.min(np.abs(probe[:, 0][:, None] - thresholds[None, :]), axis=1)
        assert np.mean(nearest < 1e-6) > 0.9  # NaN (2 %) is never near
