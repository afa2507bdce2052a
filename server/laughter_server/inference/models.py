"""The face-model seam: the pipeline talks to a ``FaceModels``; production passes Triton, unit tests a fake."""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np
import numpy.typing as npt

FACE_DETECTOR = "face_detector"
FACE_EMOTION = "face_emotion"
FACE_LANDMARKS = "face_landmarks"
DETECTOR_OUTPUTS = ("heatmap", "scale", "offset", "landmarks")
LANDMARK_OUTPUTS = ("landmarks", "face_presence")


@dataclasses.dataclass(frozen=True)
class ModelDescription:
    """What the summary reports about a model: name, version, where it runs and its file checksum."""

    name: str
    version: str
    role: str  # "face_detector" | "face_emotion" | "face_landmarks" | "audio_laughter"
    backend: str
    sha256: str = ""


class FaceModels(Protocol):
    """Batched face detection, facial emotion and face landmarks."""

    async def detect(self, images: npt.NDArray[np.uint8]) -> dict[str, npt.NDArray[np.float32]]:
        """Run the detector on letterboxed RGB images (N, H, W, 3); returns the raw output tensors."""
        ...

    async def score_emotions(self, crops: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """Emotion probabilities (M, 7) for grayscale face crops (M, 64, 64, 1)."""
        ...

    async def locate_landmarks(self, crops: npt.NDArray[np.uint8]) -> dict[str, npt.NDArray[np.float32]]:
        """Face-mesh outputs for RGB face crops (M, 192, 192, 3): ``landmarks`` (M, 468, 3) and
        ``face_presence`` (M, 1)."""
        ...

    async def is_ready(self) -> bool:
        """True when every face model can serve requests now."""
        ...

    def describe(self) -> list[ModelDescription]:
        """The models behind this object, for summaries and ListModels."""
        ...
