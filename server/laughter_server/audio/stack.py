"""The stacked audio model: the cues model, the conversational ResNet on the windows the cues model does not
reject, and a small logistic combiner over both scores.

An artifact is ``<name>-<version>.skops`` (the combiner) with ``<name>-<version>.json`` beside it, whose
``kind`` is ``"stacked"``. The metadata names the cues model it stacks on (``base_model``, a file in the same
folder, with its sha256) and the second model (``second_model``: the Triton model name, the version the
combiner was fitted over, 1 when absent, and its ONNX sha256), and holds the cascade threshold: a window whose
cues probability (calibrated, before the operating-point map) is below it is rejected outright and keeps that
probability; every other window gets the combiner's.

When the second model cannot serve, ``AudioStage`` falls back to the cues model alone (``cues_only``) and the
analysis carries a notice.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import skops.io

from laughter_server.audio.detector import TRUSTED_TYPES, AudioLaughterDetector, artifact_types
from laughter_server.audio.features import FrameCache, window_level_weights
from laughter_server.audio.scores import WindowScores, aggregate_clip_score, remap_operating_point
from laughter_server.errors import ModelLoadError
from laughter_server.media.types import AudioClip

STACKED_KIND = "stacked"
DEFAULT_SECOND_VERSION = "1"
LOGIT_CLIP = 1e-4


def is_stacked(metadata_path: Path) -> bool:
    """True when the model metadata beside an artifact describes a stacked model."""
    try:
        return bool(json.loads(metadata_path.read_text(encoding="utf-8")).get("kind") == STACKED_KIND)
    except (OSError, json.JSONDecodeError, AttributeError):
        return False


def logit(p: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float64]:
    """log(p / (1 - p)), with p kept within [1e-4, 1 - 1e-4]."""
    q = np.clip(np.asarray(p, np.float64), LOGIT_CLIP, 1.0 - LOGIT_CLIP)
    out: npt.NDArray[np.float64] = np.log(q / (1.0 - q))
    return out


def combiner_features(cues: npt.NDArray[np.floating[Any]], second: npt.NDArray[np.floating[Any]]) -> Any:
    """The combiner's input columns for windows with both scores: logit of each, and their product."""
    a, b = logit(cues), logit(second)
    return np.column_stack([a, b, a * b])


def cascade_mask(cues_raw: npt.NDArray[np.floating[Any]], threshold: float) -> npt.NDArray[np.bool_]:
    """Windows the cues model does not reject outright (they go on to the second model)."""
    return np.asarray(cues_raw, np.float64) >= threshold


def stack_probabilities(
    combiner: Any,
    cues_raw: npt.NDArray[np.floating[Any]],
    second: npt.NDArray[np.floating[Any]],
    reached: npt.NDArray[np.bool_],
    level_weights: npt.NDArray[np.floating[Any]],
) -> npt.NDArray[np.float32]:
    """Calibrated stacked probability of each window: where ``reached``, the combiner's times the window's
    level weight (``features.window_level_weights``; the cues probability carries it already); else the
    cues probability."""
    out = np.asarray(cues_raw, np.float32).copy()
    if np.any(reached):
        features = combiner_features(np.asarray(cues_raw)[reached], np.asarray(second)[reached])
        combined = combiner.predict_proba(features)[:, 1] * np.asarray(level_weights)[reached]
        out[reached] = np.clip(combined, 0.0, 1.0).astype(np.float32)
    return out


class StackedAudioDetector:
    """The stack's metadata, its combiner and the cues model it stacks on. Immutable after ``load``."""

    def __init__(
        self, base: AudioLaughterDetector, combiner: Any, metadata: dict[str, Any], sha256: str
    ) -> None:
        self.base = base
        self.combiner = combiner
        self.metadata = metadata
        self.name = str(metadata["name"])
        self.version = str(metadata["version"])
        self.sha256 = sha256
        self.settings = base.settings
        second = metadata["second_model"]
        self.second_model_name = str(second["triton_model"])
        self.second_model_sha256 = str(second.get("sha256", ""))
        self.second_model_version = str(second.get("version", DEFAULT_SECOND_VERSION))
        """The ResNet version its combiner was fitted over (1, float32, when the metadata names none)."""
        self.cascade_threshold = float(metadata["cascade_threshold"])
        self.clip_aggregate = str(metadata.get("clip_aggregate", "max"))
        self.operating_threshold = float(metadata.get("operating_threshold", 0.5))
        self.clip_threshold = float(metadata.get("clip_threshold", 0.5))
        for key, value in (
            ("cascade_threshold", self.cascade_threshold),
            ("operating_threshold", self.operating_threshold),
            ("clip_threshold", self.clip_threshold),
        ):
            if not 0.0 < value < 1.0:
                raise ValueError(key + " must lie strictly between 0 and 1")

    @classmethod
    def load(cls, path: Path | str) -> StackedAudioDetector:
        """Load ``<stem>.skops`` (sha256 and types checked, as for every audio model) and its cues model."""
        model_path = Path(path)
        metadata_path = model_path.with_suffix(".json")
        if not model_path.is_file():
            raise ModelLoadError("audio model not found: " + model_path.name)
        try:
            metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise ModelLoadError("audio model metadata is unreadable: " + metadata_path.name) from error
        raw = model_path.read_bytes()
        sha256 = hashlib.sha256(raw).hexdigest()
        if sha256 != metadata.get("artifact_sha256"):
            raise ModelLoadError("audio model sha256 mismatch for " + model_path.name)
        untrusted = artifact_types(raw) - set(TRUSTED_TYPES)
        if untrusted:
            raise ModelLoadError(
                "audio model "
                + model_path.name
                + " cannot be loaded: it holds untrusted types "
                + ", ".join(sorted(untrusted))
            )
        try:
            combiner = skops.io.loads(raw, trusted=list(TRUSTED_TYPES))
        except Exception as error:  # skops raises several types for untrusted or damaged content
            raise ModelLoadError("audio model cannot be loaded from " + model_path.name) from error
        base_name = str(metadata.get("base_model", {}).get("file", ""))
        if not base_name or "/" in base_name or "\\" in base_name:
            raise ModelLoadError("stacked audio model " + model_path.name + " names no cues model file")
        base = AudioLaughterDetector.load(model_path.parent / base_name)
        if base.sha256 != metadata["base_model"].get("sha256"):
            raise ModelLoadError(
                "stacked audio model " + model_path.name + " was trained on another " + base_name
            )
        try:
            return cls(base, combiner, metadata, sha256)
        except (KeyError, TypeError, ValueError) as error:
            raise ModelLoadError(
                "audio model metadata is incomplete or invalid: "
                + metadata_path.name
                + " ("
                + str(error)
                + ")"
            ) from error

    # cues-only scores (the fallback) ------------------------------------------------------------------
    def predict_windows(self, clip: AudioClip) -> WindowScores:
        """The cues model's window scores (what the analysis uses when the second model is not serving)."""
        return self.base.predict_windows(clip)

    def predict_blocks(
        self, clips: Sequence[AudioClip], cache: FrameCache | None = None
    ) -> list[WindowScores]:
        """The cues model's window scores of several blocks (``cache``: see the cues model's)."""
        return self.base.predict_blocks(clips, cache)

    # the stack ----------------------------------------------------------------------------------------
    def cues_raw_blocks(
        self, clips: Sequence[AudioClip], cache: FrameCache | None = None
    ) -> list[WindowScores]:
        """The cues model's calibrated window probabilities (level weights applied, no operating-point map)."""
        return self.base._raw_blocks(clips, cache)

    def finish(
        self,
        raw: WindowScores,
        second: npt.NDArray[np.float32],
        reached: npt.NDArray[np.bool_],
    ) -> WindowScores:
        """Window scores of the stack, with its operating threshold mapped to 0.5. ``second`` holds the second
        model's probability of the ``reached`` windows (other entries are ignored)."""
        weights = window_level_weights(raw.rms_dbfs, self.settings)
        stacked = stack_probabilities(self.combiner, raw.probabilities, second, reached, weights)
        mapped = remap_operating_point(np.clip(stacked, 0.0, 1.0), self.operating_threshold)
        return dataclasses.replace(raw, probabilities=mapped)

    def clip_score(self, stacked_raw: npt.NDArray[np.floating[Any]]) -> float:
        """One clip score from the stack's calibrated window probabilities, its clip threshold mapped to 0.5."""
        value = aggregate_clip_score(stacked_raw, self.clip_aggregate)
        return float(remap_operating_point(np.array([value]), self.clip_threshold)[0])
