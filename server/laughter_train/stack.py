"""Stacking the cues model and the conversational ResNet: cascade threshold, combiner, grouped CV, artifact.

* Cascade threshold: the highest of ``CASCADE_GRID`` at which at least ``cascade_recall`` of the laughter
  windows (out-of-fold cues scores) still reach the ResNet.
* Combiner: a logistic regression over ``stack.combiner_features`` (logits of both scores and their product)
  of the windows that reach the ResNet, every clip weighing 1 and the classes balanced
  (``train.window_weights``). Fitted on each fold's training clips and scored on its test clips (the same
  grouped folds as the cues model), then refitted on every clip for shipping.
* Clip scores of each model alone and of the stack: the aggregate (``CLIP_AGGREGATES``) with the best
  out-of-fold ROC AUC over all negatives; metrics at each model's own best-F1 clip threshold.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import sklearn
import skops.io
from laughter_server.audio.scores import CLIP_AGGREGATES, aggregate_clip_score
from laughter_server.audio.stack import STACKED_KIND, cascade_mask, combiner_features, stack_probabilities
from sklearn.linear_model import LogisticRegression

from laughter_train.dataset import LabeledClip, fingerprint_clips
from laughter_train.metrics import clip_metrics, false_positive_rates, metrics_against, roc_auc_by_class
from laughter_train.stack_scores import ClipWindows, StackScores, sha256_file
from laughter_train.train import best_f1_threshold, window_weights

CASCADE_GRID = (0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.1, 0.15, 0.2, 0.25, 0.3)
CASCADE_RECALL = 0.98
REACH_CLASSES = ("speech", "music", "laughter")
MODELS = ("cues", "resnet", "stack")

__all__ = ["StackReport", "cascade_threshold", "evaluate_stack", "fit_combiner", "save_stack"]


@dataclasses.dataclass(frozen=True)
class StackReport:
    """Out-of-fold figures of each model alone and of the stack, and what the artifact needs."""

    cascade_threshold: float
    reach: dict[str, float]
    models: dict[str, dict[str, Any]]
    window_scores: dict[str, list[npt.NDArray[np.float32]]]


def cascade_threshold(clips: Sequence[ClipWindows], recall: float = CASCADE_RECALL) -> float:
    """The highest grid threshold at which at least ``recall`` of the laughter windows reach the ResNet."""
    positives = np.concatenate([c.cues[c.labels == 1] for c in clips])
    chosen = CASCADE_GRID[0]
    for threshold in CASCADE_GRID:
        if positives.size and float(np.mean(positives >= threshold)) >= recall:
            chosen = threshold
    return chosen


def reach_fractions(
    clips: Sequence[ClipWindows],
    labels: Sequence[str],
    threshold: float,
    classes: Sequence[str] = REACH_CLASSES,
) -> dict[str, float]:
    """Share of the windows of each class (and of all) that the cascade sends on to the ResNet."""
    result: dict[str, float] = {}
    for name in (*classes, "all"):
        chosen = [c.cues for c, label in zip(clips, labels, strict=True) if name in ("all", label)]
        if chosen:
            values = np.concatenate(chosen)
            result[name] = round(float(np.mean(cascade_mask(values, threshold))), 4) if values.size else 0.0
    return result


def fit_combiner(clips: Sequence[ClipWindows], threshold: float) -> LogisticRegression:
    """The combiner fitted on the labelled windows of ``clips`` that reach the ResNet."""
    features, labels, sizes = [], [], []
    for clip in clips:
        keep = cascade_mask(clip.cues, threshold) & (clip.labels >= 0)
        features.append(combiner_features(clip.cues[keep], clip.resnet[keep]))
        labels.append(clip.labels[keep])
        sizes.append(int(keep.sum()))
    all_labels = np.concatenate(labels)
    weights = window_weights(all_labels, sizes)
    model = LogisticRegression(C=1.0, max_iter=2000)
    return model.fit(np.concatenate(features), all_labels, sample_weight=weights)


def stacked_windows(
    combiner: LogisticRegression, clip: ClipWindows, threshold: float
) -> npt.NDArray[np.float32]:
    """The stack's calibrated window probabilities of one clip (as the server computes them)."""
    reached = cascade_mask(clip.cues, threshold)
    return stack_probabilities(combiner, clip.cues, clip.resnet, reached, clip.level_weights)


def _clip_figures(labels: Sequence[str], windows: Sequence[npt.NDArray[np.float32]]) -> dict[str, Any]:
    truth = np.array([label == "laughter" for label in labels], dtype=int)
    by_aggregate = {a: np.array([aggregate_clip_score(w, a) for w in windows]) for a in CLIP_AGGREGATES}
    aucs = {a: clip_metrics(truth, s, 0.5)["roc_auc"] for a, s in by_aggregate.items()}
    aggregate = max(CLIP_AGGREGATES, key=lambda a: aucs[a])
    scores = by_aggregate[aggregate]
    threshold = best_f1_threshold(truth, scores)
    negatives = sorted(set(labels) - {"laughter"})
    return {
        "aggregate": aggregate,
        "clip_threshold": threshold,
        "all_negatives": clip_metrics(truth, scores, threshold),
        "speech_scream": metrics_against(labels, scores, threshold),
        "roc_auc_by_class": roc_auc_by_class(labels, scores),
        "false_positive_rates": false_positive_rates(labels, scores, threshold),
        "by_class": {n: metrics_against(labels, scores, threshold, (n,)) for n in negatives},
        "clip_scores": [round(float(s), 5) for s in scores],
    }


def evaluate_stack(scores: StackScores, labels: Sequence[str], recall: float = CASCADE_RECALL) -> StackReport:
    """Grouped CV of the combiner (the cues scores' folds) and the clip figures of each model and the stack."""
    threshold = cascade_threshold(scores.clips, recall)
    stacked: list[npt.NDArray[np.float32] | None] = [None] * len(scores.clips)
    for train_index, test_index in scores.folds:
        combiner = fit_combiner([scores.clips[i] for i in train_index], threshold)
        for i in test_index:
            stacked[i] = stacked_windows(combiner, scores.clips[i], threshold)
    windows = {
        "cues": [c.cues for c in scores.clips],
        "resnet": [c.resnet * c.level_weights for c in scores.clips],
        "stack": [s for s in stacked if s is not None],
    }
    if len(windows["stack"]) != len(scores.clips):
        raise ValueError("every clip must be in exactly one test fold")
    models = {name: _clip_figures(labels, windows[name]) for name in MODELS}
    reach = reach_fractions(scores.clips, labels, threshold)
    return StackReport(threshold, reach, models, windows)


def operating_threshold(labels: Sequence[str], windows: Sequence[npt.NDArray[np.float32]]) -> float:
    """The window-level operating point: best-F1 threshold of the ``max`` aggregate (as for the cues model)."""
    truth = np.array([label == "laughter" for label in labels], dtype=int)
    return best_f1_threshold(truth, np.array([aggregate_clip_score(w, "max") for w in windows]))


def resnet_version(resnet_onnx: Path) -> str:
    """The Triton model version of a ResNet file: the name of its version folder in the model repository
    (``laughter_resnet/2/model.onnx`` is version 2); 1 for a file outside one."""
    folder = resnet_onnx.resolve().parent.name
    return folder if folder.isdigit() else "1"


def save_stack(
    clips: Sequence[LabeledClip],
    scores: StackScores,
    report: StackReport,
    base_model: Path,
    resnet_onnx: Path,
    out_dir: Path,
    name: str,
    version: str,
    command: str,
) -> tuple[Path, dict[str, Any]]:
    """Refit the combiner on every clip and write ``<name>-<version>.skops`` and ``.json`` under ``out_dir``."""
    labels = [c.label for c in clips]
    combiner = fit_combiner(scores.clips, report.cascade_threshold)
    stack = report.models["stack"]
    raw = skops.io.dumps(combiner)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"{name}-{version}"
    model_path = stem.parent / (stem.name + ".skops")
    model_path.write_bytes(raw)
    base_meta = json.loads(base_model.with_suffix(".json").read_text(encoding="utf-8"))
    second_version = resnet_version(resnet_onnx)
    metadata: dict[str, Any] = {
        "name": name,
        "version": version,
        "kind": STACKED_KIND,
        "artifact_sha256": hashlib.sha256(raw).hexdigest(),
        "created": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sklearn_version": sklearn.__version__,
        "base_model": {
            "file": base_model.name,
            "sha256": sha256_file(base_model),
            "version": base_meta.get("version"),
        },
        "second_model": {
            "triton_model": "laughter_resnet",
            "version": second_version,
            "sha256": sha256_file(resnet_onnx),
            "source": "jrgillick/laughter-detection @ 5d5e0327916959d832d95ffbef5f484efc93d799, "
            "checkpoints/comparisons/resnet_without_augmentation/best.pth.tar (MIT; Switchboard)"
            + ("" if second_version == "1" else "; int8 quantization of version 1 (PROVENANCE.md)"),
        },
        "feature_settings": base_meta["feature_settings"],
        "combiner": {
            "estimator": "LogisticRegression(C=1.0)",
            "features": ["logit(cues)", "logit(resnet)", "logit(cues) * logit(resnet)"],
            "coefficients": [round(float(v), 5) for v in combiner.coef_[0]],
            "intercept": round(float(combiner.intercept_[0]), 5),
        },
        "cascade_threshold": report.cascade_threshold,
        "cascade_reach": report.reach,
        "clip_aggregate": stack["aggregate"],
        "clip_threshold": stack["clip_threshold"],
        "operating_threshold": operating_threshold(labels, report.window_scores["stack"]),
        "cross_validation": {
            name_: {k: v for k, v in figures.items() if k != "clip_scores"}
            for name_, figures in report.models.items()
        },
        "training_data": {
            "clips": len(clips),
            "laughter_clips": int(sum(label == "laughter" for label in labels)),
            "fingerprint": fingerprint_clips(clips),
            "sources": sorted({c.group for c in clips}),
        },
        "command": command,
    }
    metadata_path = stem.parent / (stem.name + ".json")
    metadata_path.write_text(json.dumps(metadata, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return model_path, metadata
