"""The in-process audio laughter detector: window features -> calibrated scikit-learn model.

An artifact is ``<name>-<version>.skops`` with ``<name>-<version>.json`` beside it. Loading
checks the file's sha256 against the metadata and lets skops build only the types listed in
``TRUSTED_TYPES``; anything else is refused with ``ModelLoadError``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import skops.io
import structlog
from threadpoolctl import threadpool_limits

from laughter_server.audio.compiled import PositiveFunction, compile_classifier
from laughter_server.audio.features import (
    FeatureSettings,
    FrameCache,
    WindowFeatures,
    compute_window_features,
    window_centers_s,
    window_level_weights,
)
from laughter_server.audio.scores import (
    CLIP_AGGREGATES,
    SILENCE_DBFS,
    WindowScores,
    aggregate_clip_score,
    remap_operating_point,
    window_peak_dbfs,
)
from laughter_server.errors import InvalidMediaError, ModelLoadError
from laughter_server.media.types import AudioClip

__all__ = [
    "CLIP_AGGREGATES",
    "TRUSTED_TYPES",
    "AudioLaughterDetector",
    "aggregate_clip_score",
    "default_model_path",
]

log = structlog.get_logger()

DEFAULT_MODEL_FILE = "laughter-audio-1.4.0.skops"
"""The newest trained artifact, also the server's default (`config.DEFAULT_AUDIO_MODEL`)."""

TRUSTED_TYPES: tuple[str, ...] = (
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.Interval",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn.model_selection._split.StratifiedGroupKFold",
    "sklearn.utils._bunch.Bunch",
    "collections.OrderedDict",
    "laughter_server.audio.ensemble.MinProbabilityEnsemble",
    "builtins.bool",
    "builtins.dict",
    "builtins.float",
    "builtins.int",
    "builtins.list",
    "builtins.slice",
    "builtins.str",
    "builtins.tuple",
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "numpy.uint64",
    "numpy.random._generator.Generator",
    "sklearn.preprocessing._label.LabelEncoder",
)
"""The only types an audio model artifact may hold (checked on its schema before skops builds it)."""


def artifact_types(raw: bytes) -> set[str]:
    """Every ``module.Class`` named in a skops artifact's schema."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as error:
        raise ModelLoadError("audio model is not a skops archive") from error
    found: set[str] = set()
    pending: list[Any] = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if isinstance(node.get("__class__"), str) and isinstance(node.get("__module__"), str):
                found.add(node["__module__"] + "." + node["__class__"])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def default_model_path() -> Path:
    """Path of the shipped model inside the package."""
    return Path(__file__).resolve().parent.parent / "models" / "audio" / DEFAULT_MODEL_FILE


_THREAD = threading.local()


def score_on_one_thread() -> None:
    """Score audio with one BLAS and one OpenMP thread (set once per calling thread).

    The feature matrices and scikit-learn's boosted trees work on a few hundred windows per call: BLAS and
    OpenMP teams as wide as the machine cost more CPU than the work they share (an analysis's audio took 2.7x
    the CPU time of one thread, and longer on the clock), and the server already runs analyses side by side
    on the cores. OpenBLAS's limit holds for the whole process, OpenMP's for the calling thread only.
    """
    if not getattr(_THREAD, "one_thread", False):
        threadpool_limits(limits=1)
        _THREAD.one_thread = True


class AudioLaughterDetector:
    """Scores overlapping windows of 16 kHz mono audio with a calibrated laughter probability.

    Immutable after ``load``; ``predict_windows`` only reads the model, so one instance can be
    shared by concurrent requests and threads.
    """

    def __init__(self, model: Any, metadata: dict[str, Any], sha256: str) -> None:
        self._model = model
        compiled = compile_classifier(model)
        self.compiled_scoring = compiled is not None
        """Whether windows are scored by ``compile_classifier``'s form of the model (the same probabilities as
        its ``predict_proba``, without a per-tree cost on every call)."""
        self._positive: PositiveFunction = compiled or (lambda rows: model.predict_proba(rows)[:, 1])
        self.metadata = metadata
        self.name: str = str(metadata["name"])
        self.version: str = str(metadata["version"])
        self.sha256 = sha256
        self.settings = FeatureSettings.from_dict(metadata["feature_settings"])
        self.clip_aggregate: str = str(metadata.get("clip_aggregate", "max"))
        self.operating_threshold = float(metadata.get("operating_threshold", 0.5))
        self.clip_threshold = float(metadata.get("clip_threshold", 0.5))
        for key, value in (
            ("operating_threshold", self.operating_threshold),
            ("clip_threshold", self.clip_threshold),
        ):
            if not 0.0 < value < 1.0:
                raise ValueError(key + " must lie strictly between 0 and 1")

    @classmethod
    def load(cls, path: Path | str) -> AudioLaughterDetector:
        """Load ``<stem>.skops`` after checking it against the sha256 in ``<stem>.json``."""
        model_path = Path(path)
        metadata_path = model_path.with_suffix(".json")
        if not model_path.is_file():
            raise ModelLoadError("audio model not found: " + model_path.name)
        if not metadata_path.is_file():
            raise ModelLoadError("audio model metadata not found: " + metadata_path.name)
        try:
            metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise ModelLoadError("audio model metadata is unreadable: " + metadata_path.name) from error
        raw = model_path.read_bytes()
        sha256 = hashlib.sha256(raw).hexdigest()
        expected = metadata.get("artifact_sha256")
        if sha256 != expected:
            raise ModelLoadError(
                "audio model sha256 mismatch for "
                + model_path.name
                + ": expected "
                + str(expected)
                + ", file has "
                + sha256
            )
        untrusted = artifact_types(raw) - set(TRUSTED_TYPES)
        if untrusted:
            raise ModelLoadError(
                "audio model " + model_path.name + " cannot be loaded: it holds untrusted "
                "types " + ", ".join(sorted(untrusted))
            )
        try:
            model = skops.io.loads(raw, trusted=list(TRUSTED_TYPES))
        except Exception as error:  # skops raises several types for untrusted or damaged content
            raise ModelLoadError(
                "audio model cannot be loaded from " + model_path.name + ": the file is damaged or was "
                "written by an incompatible skops version; reinstall or retrain the model"
            ) from error
        try:
            detector = cls(model, metadata, sha256)
        except (KeyError, TypeError, ValueError) as error:
            raise ModelLoadError(
                "audio model metadata is incomplete or invalid: "
                + metadata_path.name
                + " ("
                + str(error)
                + ")"
            ) from error
        log.info(
            "audio_model.loaded",
            name=detector.name,
            version=detector.version,
            sha256=sha256,
            estimator=metadata.get("chosen_estimator"),
            feature_set=detector.settings.feature_set,
            compiled_scoring=detector.compiled_scoring,
        )
        return detector

    def predict_windows(self, clip: AudioClip) -> WindowScores:
        """Laughter score, RMS level and burst rate of every window of ``clip`` (media times).

        The score is the calibrated probability with the model's ``operating_threshold`` mapped to
        0.5: the window-level operating point chosen in cross-validation (stored in the metadata;
        0.5 when absent), where the fusion's enter threshold sits.

        Windows quieter than ``settings.silence_floor_dbfs`` get probability 0, and in models
        that record ``settings.quiet_full_weight_dbfs`` (1.4.0), windows between that floor and it a
        proportionally lower one (``features.window_level_weights``): the features are level-relative,
        so faint background would otherwise be scored like any other sound.
        """
        scores = self._raw_windows(clip)
        if self.operating_threshold != 0.5:
            scores = dataclasses.replace(
                scores, probabilities=remap_operating_point(scores.probabilities, self.operating_threshold)
            )
        return scores

    def score_clip(self, clip: AudioClip) -> float:
        """One laughter score for a whole clip: the calibrated window probabilities aggregated as chosen
        at training time, with the model's ``clip_threshold`` mapped to 0.5."""
        raw = aggregate_clip_score(self._raw_windows(clip).probabilities, self.clip_aggregate)
        if self.clip_threshold == 0.5:
            return raw
        return float(remap_operating_point(np.array([raw]), self.clip_threshold)[0])

    def predict_blocks(
        self, clips: Sequence[AudioClip], cache: FrameCache | None = None
    ) -> list[WindowScores]:
        """``predict_windows`` of several clips, with one classifier call for all their windows (the same
        scores as one call per clip: windows are scored independently). With ``cache``, the clips are
        consecutive blocks of one stream (``start_s`` from its start), and each takes the frames it shares
        with the block before it from there (the same scores, computed once)."""
        raw = self._raw_blocks(clips, cache)
        if self.operating_threshold == 0.5:
            return raw
        return [
            dataclasses.replace(
                s, probabilities=remap_operating_point(s.probabilities, self.operating_threshold)
            )
            for s in raw
        ]

    def _silent_windows(self, clip: AudioClip, centers: npt.NDArray[np.float64]) -> WindowFeatures:
        """The windows of a clip whose every window is silent, with their levels measured directly and no
        features: the model would score each of them 0 (their level is below every model's silence floor)."""
        settings = self.settings
        count = centers.size
        window = round(settings.window_s * settings.sample_rate_hertz)
        energy = np.concatenate([[0.0], np.cumsum(clip.samples.astype(np.float64) ** 2)])
        starts = np.clip(
            np.round((centers - settings.window_s / 2) * settings.sample_rate_hertz).astype(np.int64),
            0,
            clip.samples.size,
        )
        ends = np.clip(starts + window, 0, clip.samples.size)
        power = (energy[ends] - energy[starts]) / window
        rms = (10.0 * np.log10(np.maximum(power, 1e-12))).astype(np.float32)
        return WindowFeatures(centers, np.zeros((count, 0), np.float32), rms, np.zeros(count, np.float32))

    def _raw_windows(self, clip: AudioClip) -> WindowScores:
        return self._raw_blocks([clip])[0]

    def _raw_blocks(self, clips: Sequence[AudioClip], cache: FrameCache | None = None) -> list[WindowScores]:
        score_on_one_thread()
        for clip in clips:
            if clip.sample_rate_hertz != self.settings.sample_rate_hertz:
                raise InvalidMediaError(
                    "audio must be resampled to "
                    + str(self.settings.sample_rate_hertz)
                    + " Hz before laughter detection"
                )
            if clip.samples.ndim != 1:
                raise InvalidMediaError("audio must be mono for laughter detection")
        windows: list[WindowFeatures] = []
        peaks: list[npt.NDArray[np.float32]] = []
        rows: list[int] = []
        for clip in clips:
            centers = window_centers_s(clip.samples, self.settings)
            peak = window_peak_dbfs(clip.samples, clip.sample_rate_hertz, centers, self.settings.window_s)
            silent = centers.size > 0 and bool(np.all(peak < SILENCE_DBFS))
            found = (
                self._silent_windows(clip, centers)
                if silent
                else compute_window_features(
                    clip.samples, self.settings, cache, round(clip.start_s * clip.sample_rate_hertz)
                )
            )
            windows.append(found)
            peaks.append(peak)
            rows.append(0 if silent else found.features.shape[0])
        probabilities = np.zeros(0, np.float32)
        if sum(rows):
            features = np.concatenate([w.features for w, n in zip(windows, rows, strict=True) if n])
            probabilities = self._positive(features).astype(np.float32)
        results = []
        offset = 0
        for clip, w, count, peak in zip(clips, windows, rows, peaks, strict=True):
            if count:
                p = probabilities[offset : offset + count] * window_level_weights(w.rms_dbfs, self.settings)
            else:  # silent (or empty) clip: the level weights make every window 0 anyway
                p = np.zeros(w.centers_s.shape, np.float32)
            offset += count
            results.append(
                WindowScores(
                    centers_s=w.centers_s + clip.start_s,
                    probabilities=np.clip(p, 0.0, 1.0).astype(np.float32),
                    rms_dbfs=w.rms_dbfs,
                    burst_rate_hertz=w.burst_rate_hertz,
                    window_s=self.settings.window_s,
                    hop_s=self.settings.hop_s,
                    peak_dbfs=peak,
                )
            )
        return results
