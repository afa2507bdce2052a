"""The shipped boosted-tree audio models scored in a few numpy operations, with scikit-learn's results.

scikit-learn scores a ``HistGradientBoostingClassifier`` one tree at a time, with a Python call, input
validation and an OpenMP region per tree: about 10 ms per call for the 2 x 300 small trees of the guarded pair
(``ensemble.MinProbabilityEnsemble`` of sigmoid-calibrated boosting models), however few windows the call
scores. A live session scores two windows every 0.5 s, so that fixed cost was most of its audio stage.

``compile_classifier`` turns such a model into arrays (every tree's nodes side by side) and walks all trees at
once, level by level. It sums the leaf values in scikit-learn's order (baseline, then tree after tree, in
float64) and applies the same sigmoid calibration and averaging, so the probabilities are the same bits; it
checks that on probe rows built from the trees' own thresholds before it is used, and any other model, or one
that does not match, keeps scikit-learn's ``predict_proba``. One sigmoid-calibrated boosting model (1.1.0)
compiles the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import structlog
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV

from laughter_server.audio.ensemble import MinProbabilityEnsemble

log = structlog.get_logger(__name__)

PositiveFunction = Callable[[npt.NDArray[Any]], npt.NDArray[np.float64]]
"""Feature rows (n, features) to the laughter probability of each (n,)."""

PROBE_ROWS = 512
"""Rows of the equality check: feature values at, just below and just above the trees' thresholds."""
MISSING_SHARE = 0.02
"""Share of the probe values that are missing (NaN), for the splits' missing-value sides."""


class CompiledBoosting:
    """The trees of one fitted binary ``HistGradientBoostingClassifier`` without categorical features."""

    def __init__(self, estimator: Any) -> None:
        if getattr(estimator, "n_trees_per_iteration_", None) != 1 or getattr(
            estimator, "_preprocessor", None
        ):
            raise ValueError("only binary models without a preprocessor are compiled")
        if getattr(estimator, "is_categorical_", None) is not None and np.any(estimator.is_categorical_):
            raise ValueError("categorical features are not compiled")
        trees = [iteration[0].nodes for iteration in estimator._predictors]
        if not trees:
            raise ValueError("the model has no trees")
        width = max(len(nodes) for nodes in trees)
        count = len(trees)
        self.feature = np.zeros((count, width), np.intp)
        self.threshold = np.zeros((count, width), np.float64)
        self.missing_left = np.zeros((count, width), bool)
        self.left = np.zeros((count, width), np.intp)
        self.right = np.zeros((count, width), np.intp)
        self.is_leaf = np.ones((count, width), bool)
        self.value = np.zeros((count, width), np.float64)
        for index, nodes in enumerate(trees):
            size = len(nodes)
            if np.any(nodes["is_categorical"][~nodes["is_leaf"].astype(bool)]):
                raise ValueError("categorical splits are not compiled")
            self.feature[index, :size] = nodes["feature_idx"]
            self.threshold[index, :size] = nodes["num_threshold"]
            self.missing_left[index, :size] = nodes["missing_go_to_left"].astype(bool)
            self.left[index, :size] = nodes["left"]
            self.right[index, :size] = nodes["right"]
            self.is_leaf[index, :size] = nodes["is_leaf"].astype(bool)
            self.value[index, :size] = nodes["value"]
        self.depth = int(max(int(np.max(nodes["depth"])) for nodes in trees))
        self.baseline = np.asarray(estimator._baseline_prediction, np.float64).reshape(-1)
        if self.baseline.shape != (1,):
            raise ValueError("only binary models are compiled")
        self.n_features = int(estimator.n_features_in_)
        # flat node arrays; a node is tree * width + index, children point into the same tree, and a leaf is its
        # own child on both sides, so walking ``depth`` levels ends on every row's leaf
        self._tree_starts = (np.arange(count) * width)[:, None]
        own = np.arange(count * width).reshape(count, width)
        self._feature = self.feature.reshape(-1)
        self._threshold = self.threshold.reshape(-1)
        self._missing_left = self.missing_left.reshape(-1)
        self._left = np.where(self.is_leaf, own, self.left + self._tree_starts).reshape(-1)
        self._right = np.where(self.is_leaf, own, self.right + self._tree_starts).reshape(-1)
        self._value = self.value.reshape(-1)

    def decision_function(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Raw scores (n,) of float64 rows (n, features): the baseline plus every tree's leaf, in tree order."""
        count = features.shape[0]
        flat_features = np.ascontiguousarray(features).reshape(-1)
        row_starts = (np.arange(count) * features.shape[1])[None, :]
        node = np.broadcast_to(self._tree_starts, (self._tree_starts.shape[0], count))  # every tree's root
        for _ in range(self.depth):
            values = flat_features.take(self._feature.take(node) + row_starts)
            goes_left = values <= self._threshold.take(node)
            missing = np.isnan(values)
            if missing.any():
                goes_left = np.where(missing, self._missing_left.take(node), goes_left)
            node = np.where(goes_left, self._left.take(node), self._right.take(node))
        leaves = self._value.take(node)
        stacked = np.concatenate([np.broadcast_to(self.baseline, (1, count)), leaves], axis=0)
        return np.asarray(np.cumsum(stacked, axis=0)[-1], np.float64)

    def probe_rows(self, rng: np.random.Generator, count: int) -> npt.NDArray[np.float64]:
        """Rows whose every feature sits at, just below or just above one of the trees' thresholds for it, with
        a few values missing (NaN)."""
        split = ~self.is_leaf
        rows = rng.normal(0.0, 1.0, (count, self.n_features))
        for column in range(self.n_features):
            thresholds = self.threshold[split & (self.feature == column)]
            thresholds = thresholds[np.isfinite(thresholds)]
            if thresholds.size:
                chosen = rng.choice(thresholds, count)
                nudge = rng.choice([-1e-9, 0.0, 1e-9], count) * np.maximum(1.0, np.abs(chosen))
                rows[:, column] = chosen + nudge
        rows[rng.random(rows.shape) < MISSING_SHARE] = np.nan
        return rows


class _CompiledCalibrated:
    """A sigmoid-calibrated ``CalibratedClassifierCV`` over compiled boosting models."""

    def __init__(self, calibrated: Any) -> None:
        if getattr(calibrated, "method", None) != "sigmoid" or list(calibrated.classes_) != [0, 1]:
            raise ValueError("only sigmoid calibration of the classes 0 and 1 is compiled")
        self.parts: list[tuple[CompiledBoosting, float, float]] = []
        for part in calibrated.calibrated_classifiers_:
            if len(part.calibrators) != 1 or list(part.estimator.classes_) != [0, 1]:
                raise ValueError("only binary calibrations are compiled")
            calibrator = part.calibrators[0]
            self.parts.append((CompiledBoosting(part.estimator), calibrator.a_, calibrator.b_))
        if not self.parts:
            raise ValueError("the calibration holds no model")

    def positive(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Probability of class 1, as ``CalibratedClassifierCV.predict_proba(features)[:, 1]`` computes it."""
        mean = np.zeros(features.shape[0])
        for boosting, a, b in self.parts:
            mean += expit(-(a * boosting.decision_function(features) + b))
        mean /= len(self.parts)
        return mean


class CompiledEnsemble:
    """``MinProbabilityEnsemble`` of compiled, calibrated boosting members (one member: that member alone)."""

    def __init__(self, members: Sequence[Any]) -> None:
        self.members = [_CompiledCalibrated(member) for member in members]

    def positive(self, features: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        """Laughter probability (n,) of feature rows (n, features), float32 or float64."""
        rows = np.asarray(features, dtype=np.float64)
        if len(self.members) == 1:
            return self.members[0].positive(rows)
        return np.asarray(np.min([member.positive(rows) for member in self.members], axis=0), np.float64)

    def probe_rows(self, seed: int = 0) -> npt.NDArray[np.float32]:
        """Float32 rows (as the server's features come) near every member's thresholds, and some far off."""
        rng = np.random.default_rng(seed)
        parts = [b.probe_rows(rng, PROBE_ROWS) for m in self.members for b, _, _ in m.parts]
        rows = np.concatenate([*parts, rng.normal(0.0, 3.0, (PROBE_ROWS, parts[0].shape[1]))])
        return np.asarray(rows, np.float32)


def compile_classifier(model: Any) -> PositiveFunction | None:
    """A faster ``model.predict_proba(rows)[:, 1]`` with the same results, or None when ``model`` is neither a
    guarded pair of sigmoid-calibrated boosting models nor one such model, or the compiled form does not give
    scikit-learn's bits on the probe rows."""
    if isinstance(model, MinProbabilityEnsemble):
        members = list(model.members)
    elif isinstance(model, CalibratedClassifierCV):
        members = [model]
    else:
        return None
    try:
        compiled = CompiledEnsemble(members)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError) as error:
        log.info("audio_model.compiled_scoring_unavailable", reason=type(error).__name__)
        return None
    probe = compiled.probe_rows()
    if not np.array_equal(compiled.positive(probe), model.predict_proba(probe)[:, 1], equal_nan=True):
        log.warning("audio_model.compiled_scoring_mismatch", rows=len(probe))
        return None
    return compiled.positive
