"""The face-model seam: the pipeline talks to a ``FaceModels``; production passes Triton, unit tests a fake."""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np
import numpy.typing as npt

FACE_DETECTOR = "face_detector"
FACE_EMOTION = "face_emotion"
DETECTOR_OUTPUTS = ("heatmap", "scale", "offset", "landmarks")


@dataclasses.dataclass(frozen=True)
class ModelDescription:
    """What the summary reports about a model: name, version, where it runs and its file checksum."""

    name: str
    version: str
    role: str  # "face_detector" | "face_emotion" | "audio_laughter"
    backend: str
    sha256: str = ""


class FaceModels(Protocol):
    """Batched face detection and facial emotion."""

    async def detect(self, images: npt.NDArray[np.uint8]) -> dict[str, npt.NDArray[np.float32]]:
        """Run the detector on letterboxed RGB images (N, H, W, 3); returns the raw output tensors."""
        ...

    async def score_emotions(self, crops: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """Emotion probabilities (M, 7) for grayscale face crops (M, 64, 64, 1)."""
        ...

    async def is_ready(self) -> bool:
        """True when both models can serve requests now."""
        ...

    def describe(self) -> list[ModelDescription]:
        """The models behind this object, for summaries and ListModels."""
        ...
