"""A trained face head: a linear classifier over the expression model's scores or its embedding.

``laughter-train faces`` writes ``face_emotion-<version>.json``: which features it reads (``scores``: the
log of the ``face_expression`` model's seven probabilities, floored at 1e-6; ``embedding``: its 256-value
embedding), the standardisation (mean, scale), the logistic-regression weights and the classes they score
(names from ``EMOTIONS``). The file is plain JSON (no pickled code); the server applies it in-process after
the ``face_expression`` model, and classes the head was not trained on get probability 0.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from laughter_server.errors import ModelLoadError
from laughter_server.vision.emotion import EMOTION_INDEX, EMOTIONS

HEAD_FORMAT = "laughter-face-head-1"
FEATURE_SIZES = {"scores": 7, "embedding": 256}
SCORE_FLOOR = 1e-6


def head_features(
    kind: str, probabilities: npt.NDArray[np.float32], embedding: npt.NDArray[np.float32]
) -> Any:
    """The (M, D) features a head of ``kind`` reads from the expression model's two outputs."""
    if kind == "scores":
        return np.log(np.clip(np.asarray(probabilities, dtype=np.float64), SCORE_FLOOR, 1.0))
    return np.asarray(embedding, dtype=np.float64)


@dataclasses.dataclass(frozen=True)
class FaceHead:
    """Standardise, then a softmax (several classes) or sigmoid (two) over a linear map of the features."""

    version: str
    classes: tuple[str, ...]
    mean: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]
    coef: npt.NDArray[np.float64]  # (K, 256), or (1, 256) for two classes
    intercept: npt.NDArray[np.float64]
    features: str = "scores"
    sha256: str = ""
    base_version: str = "2"

    def __post_init__(self) -> None:
        if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
            raise ValueError("a face head needs at least two distinct classes")
        unknown = [c for c in self.classes if c not in EMOTION_INDEX]
        if unknown:
            raise ValueError(f"unknown classes {unknown}; expected names from {', '.join(EMOTIONS)}")
        if self.features not in FEATURE_SIZES:
            raise ValueError(f"features must be one of {', '.join(FEATURE_SIZES)}")
        size = FEATURE_SIZES[self.features]
        rows = 1 if len(self.classes) == 2 else len(self.classes)
        if self.coef.shape != (rows, size) or self.intercept.shape != (rows,):
            raise ValueError(f"weights must be ({rows}, {size}) with {rows} intercepts")
        if self.mean.shape != (size,) or self.scale.shape != (size,):
            raise ValueError(f"mean and scale must hold {size} values")
        if not np.all(np.isfinite(self.coef)) or not np.all(self.scale > 0):
            raise ValueError("weights must be finite and scales positive")

    def class_probabilities(self, features: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        """(M, K) probabilities of the head's own classes for (M, D) features (``head_features``)."""
        features = (np.asarray(features, dtype=np.float64) - self.mean) / self.scale
        logits = features @ self.coef.T + self.intercept
        if len(self.classes) == 2:
            positive = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            return np.stack([1.0 - positive, positive], axis=1)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))

    def emotions(
        self, probabilities: npt.NDArray[np.float32], embedding: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        """(M, 7) probabilities in ``EMOTIONS`` order from the expression model's outputs; classes outside
        the head score 0."""
        out = np.zeros((len(probabilities), len(EMOTIONS)), dtype=np.float32)
        if len(probabilities):
            features = head_features(self.features, probabilities, embedding)
            out[:, [EMOTION_INDEX[c] for c in self.classes]] = self.class_probabilities(features)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON document ``load_head`` reads."""
        return {
            "format": HEAD_FORMAT,
            "version": self.version,
            "base_version": self.base_version,
            "features": self.features,
            "classes": list(self.classes),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept.tolist(),
        }


def head_file_name(version: str) -> str:
    """File name of a head version: ``face_emotion-<version>.json``."""
    return f"face_emotion-{version}.json"


def save_head(head: FaceHead, directory: Path, metrics: dict[str, Any] | None = None) -> Path:
    """Write the head (and its training figures, under ``training``) as ``face_emotion-<version>.json``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / head_file_name(head.version)
    document = head.to_dict()
    if metrics:
        document["training"] = metrics
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return path


def load_head(path: Path) -> FaceHead:
    """Read a head file; ModelLoadError with a message a person can act on when it is not one."""
    try:
        raw = path.read_bytes()
        document = json.loads(raw)
    except OSError as error:
        raise ModelLoadError("face head not found: " + path.name) from error
    except json.JSONDecodeError as error:
        raise ModelLoadError("face head " + path.name + " is not JSON; retrain it") from error
    if not isinstance(document, dict) or document.get("format") != HEAD_FORMAT:
        raise ModelLoadError("face head " + path.name + " is not a " + HEAD_FORMAT + " file; retrain it")
    try:
        return FaceHead(
            version=str(document["version"]),
            base_version=str(document.get("base_version", "2")),
            features=str(document.get("features", "scores")),
            classes=tuple(str(c) for c in document["classes"]),
            mean=np.asarray(document["mean"], dtype=np.float64),
            scale=np.asarray(document["scale"], dtype=np.float64),
            coef=np.asarray(document["coef"], dtype=np.float64),
            intercept=np.asarray(document["intercept"], dtype=np.float64),
            sha256=hashlib.sha256(raw).hexdigest(),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ModelLoadError(
            "face head " + path.name + " is damaged: weights missing or misshapen; retrain it"
        ) from error
