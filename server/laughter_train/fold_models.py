"""Out-of-fold audio models for event-level cross-validation.

The event layer is tuned and measured on scenes built from each fold's test clips, scored by a model that
never saw that fold: for every fold of the grouped split (``StratifiedGroupKFold`` on the source, the same
splitter and seed as ``laughter-train``), the shipped recipe (the guarded boosting pair, laughs augmented)
is fitted on the other folds' clips. A fold model keeps the shipped model's operating and clip thresholds
(they came from the full cross-validation), so only its training data differs from the shipped one.

Fold models are cached under a folder, named by the fingerprint of their training clips and the recipe,
so a second run on the same data loads them instead of fitting them again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import skops.io
import structlog
from laughter_server.audio.detector import TRUSTED_TYPES, AudioLaughterDetector
from sklearn.model_selection import StratifiedGroupKFold
from threadpoolctl import threadpool_limits

from laughter_train.dataset import LabeledClip, TrainingDataError, fingerprint_clips

log = structlog.get_logger()

DEFAULT_FOLDS = 5
DEFAULT_SEED = 20240601
FOLD_ESTIMATOR = "guarded_boosting"


@dataclasses.dataclass(frozen=True)
class Fold:
    """One split of the clips: ``test`` indices are held out, ``train`` the rest."""

    index: int
    train: tuple[int, ...]
    test: tuple[int, ...]


def grouped_folds(
    clips: Sequence[LabeledClip], folds: int = DEFAULT_FOLDS, seed: int = DEFAULT_SEED
) -> list[Fold]:
    """Folds by source (``LabeledClip.group``), stratified on laughter; a source is never on both sides.

    As many folds as asked, but no more than there are laughter sources (each test part needs a laugh).
    """
    labels = np.array([c.is_laughter for c in clips], dtype=int)
    groups = np.array([c.group for c in clips])
    laughter_sources = len(set(groups[labels == 1]))
    if laughter_sources < 2:
        raise TrainingDataError(
            "grouped folds need laughter from at least 2 sources (found "
            + str(laughter_sources)
            + "); name files <source>__<name> or fill the manifest's source_package column"
        )
    count = max(2, min(folds, laughter_sources))
    splitter = StratifiedGroupKFold(n_splits=count, shuffle=True, random_state=seed)
    return [
        Fold(index, tuple(int(i) for i in train), tuple(int(i) for i in test))
        for index, (train, test) in enumerate(splitter.split(np.zeros(len(clips)), labels, groups))
    ]


def fold_detectors(
    clips: Sequence[LabeledClip],
    folds: Sequence[Fold],
    template: AudioLaughterDetector,
    cache_dir: Path | None,
    *,
    seed: int = DEFAULT_SEED,
    is_quick: bool = False,
) -> list[AudioLaughterDetector]:
    """One detector per fold, fitted on that fold's training clips with ``template``'s feature settings
    and thresholds (loaded from ``cache_dir`` when fitted there before)."""
    from laughter_train.train import TrainConfig, _fit, _training_windows, candidate_estimators

    config = TrainConfig(seed=seed, is_quick=is_quick, features=template.settings)
    detectors = []
    for fold in folds:
        train_clips = [clips[i] for i in fold.train]
        key = _fold_key(train_clips, config, template)
        path = None if cache_dir is None else cache_dir / ("fold-" + key[:16] + ".skops")
        metadata = _fold_metadata(template, fold, key)
        if path is not None and path.is_file():
            raw = path.read_bytes()
            model = skops.io.loads(raw, trusted=list(TRUSTED_TYPES))
        else:
            log.info("events_cv.fitting_fold", fold=fold.index, clips=len(train_clips))
            with threadpool_limits(limits=1):
                windows = _training_windows(train_clips, config, seed + fold.index)
                factory = candidate_estimators(seed, is_quick)[FOLD_ESTIMATOR]
                model = _fit(FOLD_ESTIMATOR, factory, windows, seed)
            raw = skops.io.dumps(model)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(raw)
                path.with_suffix(".json").write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
        detectors.append(AudioLaughterDetector(model, metadata, hashlib.sha256(raw).hexdigest()))
    return detectors


def _fold_key(clips: Sequence[LabeledClip], config: Any, template: AudioLaughterDetector) -> str:
    digest = hashlib.sha256()
    digest.update(fingerprint_clips(clips).encode())
    digest.update(json.dumps(template.settings.to_dict(), sort_keys=True).encode())
    digest.update(f"{FOLD_ESTIMATOR}|{config.seed}|{config.is_quick}|{config.is_augmented}".encode())
    return digest.hexdigest()


def _fold_metadata(template: AudioLaughterDetector, fold: Fold, key: str) -> dict[str, Any]:
    return {
        "name": template.name + "-fold",
        "version": template.version + "-fold" + str(fold.index),
        "feature_settings": template.settings.to_dict(),
        "clip_aggregate": template.clip_aggregate,
        "operating_threshold": template.operating_threshold,
        "clip_threshold": template.clip_threshold,
        "chosen_estimator": FOLD_ESTIMATOR,
        "fold": fold.index,
        "training_key": key,
    }
