"""Train, compare, calibrate and save the audio laughter model.

Cross-validation is grouped by source package (``StratifiedGroupKFold``), so one source is
never on both sides of a split, and augmentation happens inside each training fold from that
fold's clips only (augmented copies never reach a test fold). Candidates: logistic
regression on standardised features, random forest and histogram gradient boosting, each
with a sigmoid calibration fitted on grouped inner splits. The clip score is an aggregate
of window probabilities (``CLIP_AGGREGATES``); the (estimator, aggregate) pair with the best
out-of-fold ROC AUC (then F1 at its best threshold) wins. Two thresholds come from its
out-of-fold scores, each where F1 (smoothed over neighbouring thresholds) is best: the clip
threshold for its clip aggregate, and the window (event) threshold for the ``max`` aggregate, since
one window over the threshold is enough to start an event. The detector maps each to 0.5. The winner is refitted on
all clips and saved with skops.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import sklearn
import skops
import skops.io
import structlog
from laughter_server.audio.detector import (
    CLIP_AGGREGATES,
    TRUSTED_TYPES,
    aggregate_clip_score,
    artifact_types,
)
from laughter_server.audio.ensemble import MinProbabilityEnsemble
from laughter_server.audio.features import (
    FeatureSettings,
    compute_window_features,
    feature_names,
    window_level_weights,
)
from laughter_server.errors import ModelLoadError
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from laughter_train.augment import AugmentSettings, build_examples, label_windows
from laughter_train.dataset import LabeledClip, fingerprint_clips
from laughter_train.metrics import (
    clip_metrics,
    false_positive_rates,
    metrics_against,
    roc_auc_by_class,
)

log = structlog.get_logger()

CLIP_THRESHOLD = 0.5

HARD_NEGATIVE_LABELS: tuple[str, ...] = ("speech", "scream")
"""Negative classes a laugh is most often taken for (``--hard-negatives``)."""
HARD_NEGATIVE_WEIGHT = 8.0
"""Weight of a hard-negative clip in the second member of ``guarded_boosting`` (``--hard-negative-weight``).

Weighting speech and screams in one model alone trades classes: in grouped cross-validation on dev +
extra clips, weights 2/4/8 raised the ROC AUC against speech and screams from 0.898 to
0.906/0.913/0.915 but lowered it against applause (0.61 to 0.54/0.46/0.39), cheering and noise. The
minimum of a weighted and an unweighted model keeps both strengths (``laughter_server/audio/ensemble.py``).
"""


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """What to train and how; ``is_quick`` shrinks folds, augmentation and model sizes."""

    name: str = "laughter-audio"
    version: str = "1.4.0"
    seed: int = 20240601
    folds: int = 5
    is_quick: bool = False
    is_augmented: bool = True
    features: FeatureSettings = dataclasses.field(default_factory=FeatureSettings)
    augment: AugmentSettings = dataclasses.field(default_factory=AugmentSettings)
    hard_negative_labels: tuple[str, ...] = HARD_NEGATIVE_LABELS
    hard_negative_weight: float = HARD_NEGATIVE_WEIGHT
    estimator: str | None = None
    """The candidate to ship (its best clip aggregate); None: the row with the best ROC AUC."""


ESTIMATOR_NAMES = ("logistic_regression", "random_forest", "hist_gradient_boosting", "guarded_boosting")
"""The candidates of ``candidate_estimators``, in table order."""


@dataclasses.dataclass(frozen=True)
class TrainingWindows:
    """Training windows of one fold: features, labels, CV groups and two sets of sample weights."""

    features: npt.NDArray[np.float32]
    labels: npt.NDArray[np.int8]
    groups: npt.NDArray[Any]
    weights: npt.NDArray[np.float64]
    """``window_weights`` with every example weighing 1."""
    hard_weights: npt.NDArray[np.float64]
    """The same with hard-negative examples weighing ``hard_negative_weight``."""


@dataclasses.dataclass(frozen=True)
class TrainingResult:
    """Paths of the saved artifact and its metadata, and the metadata itself."""

    model_path: Path
    metadata_path: Path
    metadata: dict[str, Any]


def candidate_estimators(seed: int, is_quick: bool) -> dict[str, Callable[[], BaseEstimator]]:
    """The compared estimators (fresh, unfitted instances from each factory).

    Forest and boosting get per-window sample weights (``window_weights``); the logistic
    regression pipeline cannot take them through the calibration wrapper and balances its
    classes with ``class_weight`` instead. Boosting is kept shallow and strongly regularised
    (3 leaves, at least 60 windows per leaf): on unseen sources it ranked clips better than
    deeper trees (grouped-CV ROC AUC 0.86 against 0.83 with 7 leaves and 20 windows per leaf).
    ``guarded_boosting`` fits the boosting factory twice, with the plain and with the
    hard-negative weights, and keeps the lower probability (``_fit``).
    """
    trees = 30 if is_quick else 150
    iterations = 30 if is_quick else 300

    def boosting() -> BaseEstimator:
        return HistGradientBoostingClassifier(
            max_iter=iterations,
            learning_rate=0.03,
            max_leaf_nodes=3,
            min_samples_leaf=60,
            l2_regularization=2.0,
            random_state=seed,
        )

    return {
        "logistic_regression": lambda: make_pipeline(
            StandardScaler(), LogisticRegression(C=0.05, class_weight="balanced", max_iter=3000)
        ),
        "random_forest": lambda: RandomForestClassifier(
            n_estimators=trees,
            max_depth=8,
            min_samples_leaf=4,
            max_features="sqrt",
            random_state=seed,
        ),
        "hist_gradient_boosting": boosting,
        "guarded_boosting": boosting,
    }


WEIGHTED_ESTIMATORS = frozenset({"random_forest", "hist_gradient_boosting"})
"""Candidates fitted with ``window_weights`` as sample weights."""


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
        windows = _training_windows(train_clips, config, config.seed + fold_index)
        fitted: dict[str, BaseEstimator] = {}
        for name, factory in candidates.items():
            model = fitted[name] = _fit(name, factory, windows, config.seed, fitted)
            for i in test_index:
                probabilities = model.predict_proba(test_windows[i].features)[:, 1]
                probabilities *= window_level_weights(test_windows[i].rms_dbfs, config.features)
                scores[name][i] = [aggregate_clip_score(probabilities, a) for a in CLIP_AGGREGATES]
        log.info("training.fold_done", fold=fold_index, train_windows=int(windows.labels.size))
    table = _cv_table(clips, scores)
    rows = [row for row in table if config.estimator in (None, row["estimator"])]
    best = max(rows, key=lambda row: (row["roc_auc"], row["best_f1"]))
    best_scores = scores[best["estimator"]][:, CLIP_AGGREGATES.index(best["aggregate"])]
    windows = _training_windows(clips, config, config.seed + 1000)
    model = _fit(best["estimator"], candidates[best["estimator"]], windows, config.seed)
    metadata = _metadata(clips, config, len(folds), table, best, best_scores, windows.labels)
    metadata["training_seconds"] = round(time.perf_counter() - started, 1)
    return _save(model, metadata, out_dir, config)


def _split_clips(clips: Sequence[LabeledClip], config: TrainConfig) -> list[tuple[Any, Any]]:
    labels = np.array([c.is_laughter for c in clips], dtype=int)
    groups = np.array([c.group for c in clips])
    positive_groups = len(set(groups[labels == 1]))
    folds = max(2, min(config.folds if not config.is_quick else 3, positive_groups))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=config.seed)
    return list(splitter.split(np.zeros(len(clips)), labels, groups))


def _training_windows(clips: Sequence[LabeledClip], config: TrainConfig, seed: int) -> TrainingWindows:
    """Window features, labels, CV groups and weights of the training set (deterministic for ``seed``)."""
    rng = np.random.default_rng(seed)
    augment = config.augment
    if config.is_quick:
        augment = dataclasses.replace(augment, mixes_per_positive=2, speed_factors=(1.1,))
    features, labels, groups, sizes, example_weights = [], [], [], [], []
    for example in build_examples(clips, rng, augment, is_augmented=config.is_augmented):
        window_features, window_labels = label_windows(example, config.features, augment, rng)
        features.append(window_features)
        labels.append(window_labels)
        groups.extend([example.group] * window_labels.size)
        sizes.append(window_labels.size)
        is_hard = example.laughter is None and example.source_label in config.hard_negative_labels
        example_weights.append(config.hard_negative_weight if is_hard else 1.0)
    all_labels = np.concatenate(labels)
    return TrainingWindows(
        features=np.concatenate(features),
        labels=all_labels,
        groups=np.array(groups),
        weights=window_weights(all_labels, sizes),
        hard_weights=window_weights(all_labels, sizes, example_weights),
    )


def window_weights(
    labels: npt.NDArray[np.int8],
    example_sizes: Sequence[int],
    example_weights: Sequence[float] | None = None,
) -> npt.NDArray[np.float64]:
    """Sample weights: every example counts once (a 30 s clip no more than a 1 s one), classes weigh the same.

    ``example_sizes`` are the window counts of consecutive examples; ``example_weights`` (default
    all 1) scale whole examples, e.g. hard negatives, before the classes are balanced. The weights
    average 1.
    """
    if example_weights is None:
        example_weights = [1.0] * len(example_sizes)
    if len(example_weights) != len(example_sizes):
        raise ValueError("one weight per example is needed")
    weights = np.concatenate(
        [
            np.full(size, weight / size)
            for size, weight in zip(example_sizes, example_weights, strict=True)
            if size > 0
        ]
    )
    positive = labels == 1
    if positive.any() and (~positive).any():
        weights[positive] *= weights[~positive].sum() / weights[positive].sum()
    normalised: npt.NDArray[np.float64] = weights / weights.mean()
    return normalised


def _fit(
    name: str,
    factory: Callable[[], BaseEstimator],
    windows: TrainingWindows,
    seed: int,
    fitted: Mapping[str, BaseEstimator] | None = None,
) -> BaseEstimator:
    """Fit a fresh estimator inside its sigmoid calibration, with sample weights where the candidate takes them.

    ``guarded_boosting``: two calibrated fits, plain and hard-negative weights, combined by
    ``MinProbabilityEnsemble``. Its plain member is the same factory, windows, weights and seed as
    ``hist_gradient_boosting``, so when ``fitted`` (models already fitted on ``windows``) holds
    that candidate it is reused instead of fitted again.
    """
    if name == "guarded_boosting":
        plain = (fitted or {}).get("hist_gradient_boosting")
        if plain is None:
            plain = _fit_calibrated(factory(), windows, windows.weights, seed)
        weighted = _fit_calibrated(factory(), windows, windows.hard_weights, seed)
        return MinProbabilityEnsemble.from_fitted([plain, weighted])
    weights = windows.weights if name in WEIGHTED_ESTIMATORS else None
    return _fit_calibrated(factory(), windows, weights, seed)


def _fit_calibrated(
    estimator: BaseEstimator,
    windows: TrainingWindows,
    weights: npt.NDArray[np.float64] | None,
    seed: int,
) -> CalibratedClassifierCV:
    model = _calibrated(estimator, windows.groups, windows.labels, seed)
    if weights is None:
        return model.fit(windows.features, windows.labels)
    return model.fit(windows.features, windows.labels, sample_weight=weights)


def _calibrated(
    estimator: BaseEstimator, groups: npt.NDArray[Any], labels: npt.NDArray[np.int8], seed: int
) -> CalibratedClassifierCV:
    """Sigmoid calibration on grouped inner splits; one refitted estimator (``ensemble=False``)."""
    splits = min(3, len(set(groups[labels == 1])))
    if splits >= 2:
        splitter = StratifiedGroupKFold(n_splits=splits, shuffle=True, random_state=seed)
        inner = list(splitter.split(np.zeros(labels.size), labels, groups))
        if all(np.unique(labels[part]).size == 2 for split in inner for part in split):
            return CalibratedClassifierCV(estimator, method="sigmoid", cv=inner, ensemble=False)
        # a small set whose groups cannot put both classes on both sides of every split
        log.warning("training.calibration_ungrouped", reason="too few groups for grouped inner splits")
    return CalibratedClassifierCV(estimator, method="sigmoid", cv=3, ensemble=False)


def _cv_table(clips: Sequence[LabeledClip], scores: dict[str, Any]) -> list[dict[str, Any]]:
    truth = np.array([c.is_laughter for c in clips], dtype=int)
    table = []
    for name, matrix in scores.items():
        for column, aggregate in enumerate(CLIP_AGGREGATES):
            metrics = clip_metrics(truth, matrix[:, column], CLIP_THRESHOLD)
            threshold = best_f1_threshold(truth, matrix[:, column])
            at_best = clip_metrics(truth, matrix[:, column], threshold)
            table.append(
                {
                    "estimator": name,
                    "aggregate": aggregate,
                    **metrics,
                    "best_threshold": round(threshold, 4),
                    "best_precision": at_best["precision"],
                    "best_recall": at_best["recall"],
                    "best_f1": at_best["f1"],
                }
            )
    return table


def best_f1_threshold(
    truth: npt.NDArray[Any],
    scores: npt.NDArray[Any],
    bounds: tuple[float, float] = (0.05, 0.95),
    smoothing: float = 0.05,
) -> float:
    """The clip threshold where F1, averaged over thresholds within ``smoothing`` of it, is highest.

    Thresholds are tried every 0.01 within ``bounds``. Averaging over neighbours picks the middle of
    a broad good region rather than a lone spike that a few clips happen to make (out-of-fold scores
    of a few dozen laughs are coarse). Ties go to the middle of the tied thresholds. 0.5 when there
    are no positives or no negatives.
    """
    truth = np.asarray(truth).astype(int)
    values = np.asarray(scores, dtype=np.float64)
    if truth.min(initial=1) == truth.max(initial=0):
        return 0.5
    grid = np.round(np.arange(bounds[0], bounds[1] + 1e-9, 0.01), 2)
    predicted = values[None, :] >= grid[:, None]
    true_positives = (predicted & (truth[None, :] == 1)).sum(axis=1)
    f1 = 2.0 * true_positives / (predicted.sum(axis=1) + truth.sum())
    reach = round(smoothing / 0.01)
    smoothed = np.array([f1[max(0, i - reach) : i + reach + 1].mean() for i in range(grid.size)])
    best = np.flatnonzero(np.isclose(smoothed, smoothed.max()))
    return float(grid[best[best.size // 2]])


def _metadata(
    clips: Sequence[LabeledClip],
    config: TrainConfig,
    folds: int,
    table: list[dict[str, Any]],
    best: dict[str, Any],
    best_scores: Any,
    labels: npt.NDArray[np.int8],
) -> dict[str, Any]:
    clip_labels = Counter(c.label for c in clips)
    event_row = next(r for r in table if r["estimator"] == best["estimator"] and r["aggregate"] == "max")
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
            "folds": folds,
            "clip_threshold": CLIP_THRESHOLD,
            "table": table,
            "chosen_false_positive_rate_by_class": false_positive_rates(
                [c.label for c in clips], best_scores, best["best_threshold"]
            ),
            "chosen_roc_auc_by_class": roc_auc_by_class([c.label for c in clips], best_scores),
            "chosen_out_of_fold_scores": [
                {"file": c.relative_path, "label": c.label, "group": c.group, "score": round(float(v), 4)}
                for c, v in zip(clips, best_scores, strict=True)
            ],
            "chosen_against_speech_and_screams": metrics_against(
                [c.label for c in clips], best_scores, best["best_threshold"]
            ),
        },
        "chosen_estimator": best["estimator"],
        "chosen_by": "best ROC AUC" if config.estimator is None else "--estimator " + config.estimator,
        "clip_aggregate": best["aggregate"],
        "operating_threshold": event_row["best_threshold"],
        "clip_threshold": best["best_threshold"],
        "calibration": "CalibratedClassifierCV(method=sigmoid, grouped inner splits, ensemble=False)",
        "seed": config.seed,
        "is_quick": config.is_quick,
        "is_augmented": config.is_augmented,
        "sample_weights": "each example's windows share weight 1; classes balanced (random_forest, "
        "hist_gradient_boosting, guarded_boosting); logistic_regression uses class_weight=balanced; "
        "guarded_boosting's second member weighs hard-negative examples hard_negative_weight times more",
        "hard_negative_labels": list(config.hard_negative_labels),
        "hard_negative_weight": config.hard_negative_weight,
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
