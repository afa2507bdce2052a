"""Clip-level metrics for the audio laughter model (used by training and by ``laughter-eval``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

from laughter_server.audio.dataset import POSITIVE_LABEL


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
