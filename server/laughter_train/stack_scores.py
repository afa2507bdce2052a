"""Window scores for stacking: the cues model out of fold and the conversational ResNet, for every clip.

The cues model is retrained on each grouped fold's training part exactly as ``laughter-train audio`` does
(same folds, seeds, augmentation and ``guarded_boosting`` pair), so its scores of each test clip are the
out-of-fold scores of the shipped cues model's cross-validation. The ResNet is fixed (trained on
Switchboard, which the dev set does not hold), so its scores need no folds; it runs in process with
onnxruntime on the front end the server uses (``laughter_server.audio.resnet_frontend``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import structlog
from laughter_server.audio import resnet_frontend
from laughter_server.audio.features import compute_window_features, window_level_weights
from threadpoolctl import threadpool_limits

from laughter_train.augment import laughter_fraction
from laughter_train.dataset import LabeledClip, fingerprint_clips
from laughter_train.train import TrainConfig, _fit, _split_clips, _training_windows, candidate_estimators

log = structlog.get_logger(__name__)

CUES_ESTIMATOR = "guarded_boosting"
RESNET_BATCH = 64


@dataclasses.dataclass(frozen=True)
class ClipWindows:
    """One clip's windows: out-of-fold cues probability, ResNet probability, level weight, training label."""

    cues: npt.NDArray[np.float32]
    resnet: npt.NDArray[np.float32]
    level_weights: npt.NDArray[np.float32]
    labels: npt.NDArray[np.int8]
    """1 laughter, 0 not, -1 ambiguous (a laughter clip's window that is partly pause: left out of fitting)."""


@dataclasses.dataclass(frozen=True)
class StackScores:
    """The windows of every clip and the grouped folds they were scored in."""

    clips: list[ClipWindows]
    folds: list[tuple[Any, Any]]
    resnet_sha256: str = ""
    """sha256 of the ResNet file that scored the windows (empty in caches written before it was kept)."""


def window_labels(clip: LabeledClip, config: TrainConfig, count: int) -> npt.NDArray[np.int8]:
    """Training labels of a clip's windows, by the rule ``laughter-train audio`` uses."""
    if not clip.is_laughter:
        return np.zeros(count, np.int8)
    fraction = laughter_fraction(clip.samples, config.features, config.augment)[:count]
    labels = np.full(count, -1, np.int8)
    labels[fraction >= config.augment.positive_fraction] = 1
    labels[fraction <= config.augment.negative_fraction] = 0
    return labels


class ResnetScorer:
    """The ResNet ONNX file in process (one thread), scoring the windows of whole clips."""

    def __init__(self, onnx_path: Path) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])

    def score_features(self, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Probabilities of ``(N, 44, 128)`` windows."""
        if len(features) == 0:
            return np.zeros(0, np.float32)
        parts = [
            self._session.run(["probability"], {"melspec": features[i : i + RESNET_BATCH]})[0][:, 0]
            for i in range(0, len(features), RESNET_BATCH)
        ]
        scores: npt.NDArray[np.float32] = np.concatenate(parts).astype(np.float32)
        return scores

    def score_clip(self, samples: npt.NDArray[np.float32], centers_s: npt.NDArray[np.float64]) -> Any:
        """Probability of each window centred at ``centers_s`` (clip times, 1 s windows) of a 16 kHz clip."""
        block = resnet_frontend.resample_block(samples)
        starts = np.round((centers_s - 0.5) * resnet_frontend.SAMPLE_RATE_HERTZ).astype(np.int64)
        return self.score_features(resnet_frontend.window_features(block, starts))


def compute_stack_scores(clips: Sequence[LabeledClip], config: TrainConfig, resnet_onnx: Path) -> StackScores:
    """Out-of-fold cues scores and ResNet scores of every window of every clip (single-threaded)."""
    with threadpool_limits(limits=1):
        folds = _split_clips(clips, config)
        windows = [compute_window_features(c.samples, config.features) for c in clips]
        cues: list[npt.NDArray[np.float32] | None] = [None] * len(clips)
        factory = candidate_estimators(config.seed, config.is_quick)[CUES_ESTIMATOR]
        for fold_index, (train_index, test_index) in enumerate(folds):
            train_windows = _training_windows(
                [clips[i] for i in train_index], config, config.seed + fold_index
            )
            model = _fit(CUES_ESTIMATOR, factory, train_windows, config.seed)
            for i in test_index:
                probabilities = model.predict_proba(windows[i].features)[:, 1]
                cues[i] = (probabilities * window_level_weights(windows[i].rms_dbfs, config.features)).astype(
                    np.float32
                )
            log.info("stack.cues_fold_done", fold=fold_index)
        scorer = ResnetScorer(resnet_onnx)
        result = []
        for clip, found, cue in zip(clips, windows, cues, strict=True):
            assert cue is not None
            weights = window_level_weights(found.rms_dbfs, config.features).astype(np.float32)
            result.append(
                ClipWindows(
                    cues=cue,
                    resnet=scorer.score_clip(clip.samples, found.centers_s),
                    level_weights=weights,
                    labels=window_labels(clip, config, cue.size),
                )
            )
        log.info("stack.resnet_done", windows=int(sum(c.cues.size for c in result)))
    return StackScores(result, folds, sha256_file(resnet_onnx))


def rescore_resnet(
    scores: StackScores, clips: Sequence[LabeledClip], config: TrainConfig, resnet_onnx: Path
) -> StackScores:
    """The same out-of-fold cues scores with every window scored again by another ResNet file (the cues
    models take minutes to refit; the ResNet's windows seconds)."""
    with threadpool_limits(limits=1):
        scorer = ResnetScorer(resnet_onnx)
        rescored = [
            dataclasses.replace(
                windows,
                resnet=scorer.score_clip(
                    clip.samples, compute_window_features(clip.samples, config.features).centers_s
                ),
            )
            for clip, windows in zip(clips, scores.clips, strict=True)
        ]
    log.info("stack.resnet_rescored", windows=int(sum(c.cues.size for c in rescored)))
    return StackScores(rescored, scores.folds, sha256_file(resnet_onnx))


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_scores(scores: StackScores, path: Path, clips: Sequence[LabeledClip]) -> None:
    """Keep the scores (they take minutes to compute) for evaluation runs, with the clips' fingerprint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {
        "fold_count": np.array(len(scores.folds)),
        "fingerprint": np.array(fingerprint_clips(clips)),
        "resnet_sha256": np.array(scores.resnet_sha256),
    }
    for index, (train, test) in enumerate(scores.folds):
        arrays[f"fold{index}_train"], arrays[f"fold{index}_test"] = np.asarray(train), np.asarray(test)
    for index, clip in enumerate(scores.clips):
        for field in ("cues", "resnet", "level_weights", "labels"):
            arrays[f"clip{index}_{field}"] = getattr(clip, field)
    np.savez_compressed(path, **arrays)


def load_scores(path: Path, clips: Sequence[LabeledClip]) -> StackScores | None:
    """Scores saved by ``save_scores`` for the same clips (same fingerprint), else None."""
    if not path.is_file():
        return None
    clip_count = len(clips)
    with np.load(path) as data:
        if "fingerprint" not in data or str(data["fingerprint"]) != fingerprint_clips(clips):
            return None
        folds = [(data[f"fold{i}_train"], data[f"fold{i}_test"]) for i in range(int(data["fold_count"]))]
        windows = [
            ClipWindows(
                data[f"clip{i}_cues"],
                data[f"clip{i}_resnet"],
                data[f"clip{i}_level_weights"],
                data[f"clip{i}_labels"],
            )
            for i in range(clip_count)
        ]
        resnet_sha256 = str(data["resnet_sha256"]) if "resnet_sha256" in data else ""
    return StackScores(windows, folds, resnet_sha256)
