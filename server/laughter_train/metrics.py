"""Metrics of the audio laughter model: clip level (training and ``laughter-eval``) and segment level."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)

from laughter_train.dataset import POSITIVE_LABEL


def clip_metrics(truth: npt.NDArray[Any], scores: npt.NDArray[Any], threshold: float) -> dict[str, float]:
    """Precision, recall, F1 at ``threshold`` and ROC AUC of clip scores against 0/1 truth."""
    predicted = (np.asarray(scores) >= threshold).astype(int)
    truth = np.asarray(truth).astype(int)
    has_both = len(set(truth.tolist())) == 2
    return {
        "precision": round(float(precision_score(truth, predicted, zero_division=0)), 4),
        "recall": round(float(recall_score(truth, predicted, zero_division=0)), 4),
        "f1": round(float(f1_score(truth, predicted, zero_division=0)), 4),
        "roc_auc": round(float(roc_auc_score(truth, scores)), 4) if has_both else float("nan"),
    }


def false_positive_rates(
    labels: Sequence[str], scores: npt.NDArray[Any], threshold: float
) -> dict[str, dict[str, float]]:
    """Per negative label: clip count, clips scored at or above ``threshold`` and their share."""
    result: dict[str, dict[str, float]] = {}
    scores = np.asarray(scores)
    for label in sorted(set(labels) - {POSITIVE_LABEL}):
        mask = np.array([item == label for item in labels])
        positives = int(np.sum(scores[mask] >= threshold))
        result[label] = {
            "clips": int(mask.sum()),
            "false_positives": positives,
            "rate": round(positives / int(mask.sum()), 4),
        }
    return result


TARGET_NEGATIVES = ("speech", "scream")
"""The negative classes of the product's clip-level targets (laughter against speech and screams)."""


def metrics_against(
    labels: Sequence[str],
    scores: npt.NDArray[Any],
    threshold: float,
    negatives: Sequence[str] = TARGET_NEGATIVES,
) -> dict[str, Any]:
    """Clip metrics on the laughter clips and the clips of ``negatives`` only (the others left out)."""
    keep = np.array([label == POSITIVE_LABEL or label in negatives for label in labels])
    truth = np.array([label == POSITIVE_LABEL for label in labels], dtype=int)[keep]
    return {
        "negatives": list(negatives),
        "clips": int(keep.sum()),
        **clip_metrics(truth, np.asarray(scores)[keep], threshold),
    }


def roc_auc_by_class(labels: Sequence[str], scores: npt.NDArray[Any]) -> dict[str, float]:
    """ROC AUC of the laughter clips against each negative class on its own."""
    values = np.asarray(scores)
    positive = np.array([label == POSITIVE_LABEL for label in labels])
    result: dict[str, float] = {}
    if not positive.any():
        return result
    for label in sorted(set(labels) - {POSITIVE_LABEL}):
        mask = positive | np.array([item == label for item in labels])
        result[label] = round(float(roc_auc_score(positive[mask].astype(int), values[mask])), 4)
    return result


ONSET_SLACK_S = 1e-9
"""Added to the onset tolerance so that a difference of exactly the tolerance counts despite float rounding."""


@dataclasses.dataclass(frozen=True)
class OnsetMatch:
    """One-to-one pairing of detected segments with true ones; ``pairs`` are (truth index, detection index)."""

    pairs: tuple[tuple[int, int], ...]
    true_count: int
    detected_count: int

    @property
    def true_positives(self) -> int:
        """Detections paired with a true segment."""
        return len(self.pairs)

    @property
    def false_positives(self) -> int:
        """Detections left without a true segment."""
        return self.detected_count - len(self.pairs)

    @property
    def misses(self) -> int:
        """True segments left without a detection."""
        return self.true_count - len(self.pairs)


def match_onsets(
    truth_onsets_s: Sequence[float], detected_onsets_s: Sequence[float], tolerance_s: float
) -> OnsetMatch:
    """Pair detections with true segments, closest onsets first, each used at most once.

    A pair is allowed when the onsets differ by at most ``tolerance_s``; ties are broken by the
    earlier true segment, then the earlier detection.
    """
    candidates = sorted(
        (abs(detected - truth), i, j)
        for i, truth in enumerate(truth_onsets_s)
        for j, detected in enumerate(detected_onsets_s)
        if abs(detected - truth) <= tolerance_s + ONSET_SLACK_S
    )
    used_truth: set[int] = set()
    used_detected: set[int] = set()
    pairs = []
    for _, i, j in candidates:
        if i not in used_truth and j not in used_detected:
            used_truth.add(i)
            used_detected.add(j)
            pairs.append((i, j))
    return OnsetMatch(tuple(sorted(pairs)), len(truth_onsets_s), len(detected_onsets_s))


def segment_metrics(true_positives: int, false_positives: int, misses: int) -> dict[str, float]:
    """Segment precision, recall and F1 from match counts (0.0 where a ratio has no denominator)."""
    detected = true_positives + false_positives
    actual = true_positives + misses
    precision = true_positives / detected if detected else 0.0
    recall = true_positives / actual if actual else 0.0
    f1 = 2.0 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def precision_recall_points(truth: npt.NDArray[Any], scores: npt.NDArray[Any]) -> dict[str, Any]:
    """The clip-level precision-recall curve (scikit-learn's points) and its average precision.

    ``thresholds[k]`` gives ``precision[k]`` and ``recall[k]``; the last point (precision 1, recall 0)
    has no threshold.
    """
    truth = np.asarray(truth).astype(int)
    scores = np.asarray(scores, dtype=np.float64)
    precision, recall, thresholds = precision_recall_curve(truth, scores)
    return {
        "average_precision": round(float(average_precision_score(truth, scores)), 4),
        "positive_share": round(float(truth.mean()), 4) if truth.size else 0.0,
        "precision": [round(float(v), 4) for v in precision],
        "recall": [round(float(v), 4) for v in recall],
        "thresholds": [round(float(v), 4) for v in thresholds],
    }
