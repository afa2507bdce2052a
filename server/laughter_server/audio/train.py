"""Train, compare, calibrate and save the audio laughter model.

Cross-validation is grouped by source package (``StratifiedGroupKFold``), so one source is
never on both sides of a split, and augmentation happens inside each training fold from that
fold's clips only (augmented copies never reach a test fold). Candidates: logistic
regression on standardised features, random forest and histogram gradient boosting, each
with a sigmoid calibration fitted on grouped inner splits. The clip score is an aggregate
of window probabilities (``max`` or ``top3_mean``); the (estimator, aggregate) pair with the
best out-of-fold ROC AUC + F1 at 0.5 wins, is refitted on all clips and saved with skops.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import sklearn
import skops
import skops.io
import structlog
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from laughter_server.audio.augment import AugmentSettings, build_examples, label_windows
from laughter_server.audio.dataset import LabeledClip, fingerprint_clips
from laughter_server.audio.detector import (
    CLIP_AGGREGATES,
    TRUSTED_TYPES,
    aggregate_clip_score,
    artifact_types,
)
from laughter_server.audio.features import FeatureSettings, compute_window_features, feature_names
from laughter_server.audio.metrics import clip_metrics, false_positive_rates
from laughter_server.errors import ModelLoadError

log = structlog.get_logger()

CLIP_THRESHOLD = 0.5


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """What to train and how; ``is_quick`` shrinks folds, augmentation and model sizes."""

    name: str = "laughter-audio"
    version: str = "1.0.0"
    seed: int = 20240601
    folds: int = 5
    is_quick: bool = False
    features: FeatureSettings = dataclasses.field(default_factory=FeatureSettings)
    augment: AugmentSettings = dataclasses.field(default_factory=AugmentSettings)


@dataclasses.dataclass(frozen=True)
class TrainingResult:
    """Paths of the saved artifact and its metadata, and the metadata itself."""

    model_path: Path
    metadata_path: Path
    metadata: dict[str, Any]


def candidate_estimators(seed: int, is_quick: bool) -> dict[str, Callable[[], BaseEstimator]]:
    """The compared estimators (fresh, unfitted instances from each factory).

    Gradient boosting has no class weights: with sample weights its fit is about 20x slower.
    """
    trees = 30 if is_quick else 100
    iterations = 40 if is_quick else 150
    return {
        "logistic_regression": lambda: make_pipeline(
            StandardScaler(), LogisticRegression(C=0.1, class_weight="balanced", max_iter=3000)
        ),
        "random_forest": lambda: RandomForestClassifier(
            n_estimators=trees,
            max_depth=10,
            min_samples_leaf=4,
            max_features="sqrt",
            class_weight="balanced_subsample",
            random_state=seed,
        ),
        "hist_gradient_boosting": lambda: HistGradientBoostingClassifier(
            max_iter=iterations,
            learning_rate=0.08,
            max_leaf_nodes=15,
            min_samples_leaf=20,
            l2_regularization=1.0,
            random_state=seed,
        ),
    }


def train_audio_model(clips: Sequence[LabeledClip], out_dir: Path, config: TrainConfig) -> TrainingResult:
    """Cross-validate the candidates, fit the best on all clips, calibrate it and save it under ``out_dir``.

    Runs single-threaded: OpenMP spin-waiting makes multi-threaded gradient boosting far slower
    on a small shared machine.
    """
    with threadpool_limits(limits=1):
        return _train(clips, out_dir, config)


def _train(clips: Sequence[LabeledClip], out_dir: Path, config: TrainConfig) -> TrainingResult:
    started = time.perf_counter()
    folds = _split_clips(clips, config)
    candidates = candidate_estimators(config.seed, config.is_quick)
    test_windows = [compute_window_features(c.samples, config.features) for c in clips]
    scores = {name: np.zeros((len(clips), len(CLIP_AGGREGATES))) for name in candidates}
    for fold_index, (train_index, test_index) in enumerate(folds):
        train_clips = [clips[i] for i in train_index]
        features, labels, groups = _training_windows(train_clips, config, config.seed + fold_index)
        for name, factory in candidates.items():
            model = _calibrated(factory(), groups, labels, config.seed).fit(features, labels)
            for i in test_index:
                probabilities = model.predict_proba(test_windows[i].features)[:, 1]
                probabilities[test_windows[i].rms_dbfs < config.features.silence_floor_dbfs] = 0.0
                scores[name][i] = [aggregate_clip_score(probabilities, a) for a in CLIP_AGGREGATES]
        log.info("training.fold_done", fold=fold_index, train_windows=int(labels.size))
    table = _cv_table(clips, scores)
    best = max(table, key=lambda row: (row["roc_auc"] + row["f1"], row["f1"]))
    best_scores = scores[best["estimator"]][:, CLIP_AGGREGATES.index(best["aggregate"])]
    features, labels, groups = _training_windows(clips, config, config.seed + 1000)
    model = _calibrated(candidates[best["estimator"]](), groups, labels, config.seed).fit(features, labels)
    metadata = _metadata(clips, config, table, best, best_scores, labels)
    metadata["training_seconds"] = round(time.perf_counter() - started, 1)
    return _save(model, metadata, out_dir, config)


def _split_clips(clips: Sequence[LabeledClip], config: TrainConfig) -> list[tuple[Any, Any]]:
    labels = np.array([c.is_laughter for c in clips], dtype=int)
    groups = np.array([c.group for c in clips])
    positive_groups = len(set(groups[labels == 1]))
    folds = max(2, min(config.folds if not config.is_quick else 3, positive_groups))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=config.seed)
    return list(splitter.split(np.zeros(len(clips)), labels, groups))


def _training_windows(
    clips: Sequence[LabeledClip], config: TrainConfig, seed: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int8], npt.NDArray[Any]]:
    """Window features, labels and CV groups of the augmented training set (deterministic for ``seed``)."""
    rng = np.random.default_rng(seed)
    augment = config.augment
    if config.is_quick:
        augment = dataclasses.replace(augment, mixes_per_positive=2, speed_factors=(1.1,))
    features, labels, groups = [], [], []
    for example in build_examples(clips, rng, augment):
        window_features, window_labels = label_windows(example, config.features, augment, rng)
        features.append(window_features)
        labels.append(window_labels)
        groups.extend([example.group] * window_labels.size)
    return np.concatenate(features), np.concatenate(labels), np.array(groups)


def _calibrated(
    estimator: BaseEstimator, groups: npt.NDArray[Any], labels: npt.NDArray[np.int8], seed: int
) -> CalibratedClassifierCV:
    """Sigmoid calibration on grouped inner splits; one refitted estimator (``ensemble=False``)."""
    splits = min(3, len(set(groups[labels == 1])))
    if splits < 2:
        return CalibratedClassifierCV(estimator, method="sigmoid", cv=3, ensemble=False)
    splitter = StratifiedGroupKFold(n_splits=splits, shuffle=True, random_state=seed)
    inner = list(splitter.split(np.zeros(labels.size), labels, groups))
    return CalibratedClassifierCV(estimator, method="sigmoid", cv=inner, ensemble=False)


def _cv_table(clips: Sequence[LabeledClip], scores: dict[str, Any]) -> list[dict[str, Any]]:
    truth = np.array([c.is_laughter for c in clips], dtype=int)
    table = []
    for name, matrix in scores.items():
        for column, aggregate in enumerate(CLIP_AGGREGATES):
            metrics = clip_metrics(truth, matrix[:, column], CLIP_THRESHOLD)
            table.append({"estimator": name, "aggregate": aggregate, **metrics})
    return table


def _metadata(
    clips: Sequence[LabeledClip],
    config: TrainConfig,
    table: list[dict[str, Any]],
    best: dict[str, Any],
    best_scores: Any,
    labels: npt.NDArray[np.int8],
) -> dict[str, Any]:
    clip_labels = Counter(c.label for c in clips)
    return {
        "name": config.name,
        "version": config.version,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "sample_rate_hertz": config.features.sample_rate_hertz,
        "feature_settings": config.features.to_dict(),
        "feature_names": feature_names(config.features),
        "augment_settings": {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(config.augment).items()
        },
        "data_fingerprint": fingerprint_clips(clips),
        "class_balance": {
            "clips": dict(sorted(clip_labels.items())),
            "positive_clips": sum(c.is_laughter for c in clips),
            "negative_clips": sum(not c.is_laughter for c in clips),
            "training_windows_positive": int(labels.sum()),
            "training_windows_negative": int(labels.size - labels.sum()),
        },
        "cross_validation": {
            "splitter": "StratifiedGroupKFold by source package, augmentation inside training folds",
            "folds": len(_split_clips(clips, config)),
            "clip_threshold": CLIP_THRESHOLD,
            "table": table,
            "chosen_false_positive_rate_by_class": false_positive_rates(
                [c.label for c in clips], best_scores, CLIP_THRESHOLD
            ),
        },
        "chosen_estimator": best["estimator"],
        "clip_aggregate": best["aggregate"],
        "calibration": "CalibratedClassifierCV(method=sigmoid, grouped inner splits, ensemble=False)",
        "seed": config.seed,
        "is_quick": config.is_quick,
        "sklearn_version": sklearn.__version__,
        "skops_version": skops.__version__,
        "numpy_version": np.__version__,
    }


def _save(
    model: CalibratedClassifierCV, metadata: dict[str, Any], out_dir: Path, config: TrainConfig
) -> TrainingResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = config.name + "-" + config.version
    model_path = out_dir / (stem + ".skops")
    metadata_path = out_dir / (stem + ".json")
    skops.io.dump(model, model_path)
    untrusted = artifact_types(model_path.read_bytes()) - set(TRUSTED_TYPES)
    if untrusted:
        model_path.unlink()
        raise ModelLoadError("model holds types outside the trusted list: " + ", ".join(sorted(untrusted)))
    metadata["artifact_file"] = model_path.name
    metadata["artifact_sha256"] = hashlib.sha256(model_path.read_bytes()).hexdigest()
    metadata["artifact_bytes"] = model_path.stat().st_size
    metadata_path.write_text(json.dumps(metadata, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    log.info(
        "training.saved",
        path=str(model_path),
        estimator=metadata["chosen_estimator"],
        sha256=metadata["artifact_sha256"],
    )
    return TrainingResult(model_path, metadata_path, metadata)
