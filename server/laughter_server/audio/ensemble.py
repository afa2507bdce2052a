"""The guarded audio model: a window is laughter only when two differently trained models agree.

One member is trained with every clip weighing the same; the other with speech and scream clips
weighing more (``TrainConfig.hard_negative_weight``). The second tells laughter from talk and
shouting better, the first from applause, cheering and noise; the laughter probability of the
pair is the lower of the two, so each vetoes the sounds it knows best.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, ClassifierMixin


class MinProbabilityEnsemble(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Binary classifier whose positive-class probability is the minimum over fitted members.

    It combines members that were fitted beforehand (each with its own sample weights, which one
    ``fit`` call cannot pass), so it has no ``fit`` method: build it with ``from_fitted``.
    """

    def __init__(self, members: Sequence[Any] = ()) -> None:
        self.members = members

    @classmethod
    def from_fitted(cls, members: Sequence[Any]) -> MinProbabilityEnsemble:
        """Wrap fitted binary classifiers that share the classes ``[0, 1]``."""
        if not members:
            raise ValueError("at least one member is needed")
        for member in members:
            if list(getattr(member, "classes_", [])) != [0, 1]:
                raise ValueError("every member must be a fitted classifier of the classes 0 and 1")
        ensemble = cls(list(members))
        ensemble.classes_ = np.array([0, 1])
        ensemble.n_features_in_ = members[0].n_features_in_
        return ensemble

    def predict_proba(self, features: Any) -> npt.NDArray[np.float64]:
        """``(n, 2)`` probabilities; column 1 is the lowest member probability of laughter."""
        positive = np.min([member.predict_proba(features)[:, 1] for member in self.members], axis=0)
        return np.column_stack([1.0 - positive, positive])

    def predict(self, features: Any) -> npt.NDArray[np.int64]:
        """1 where the combined probability is at least 0.5."""
        return (self.predict_proba(features)[:, 1] >= 0.5).astype(np.int64)
