"""The face-model seam: the pipeline talks to a ``FaceModels``; production passes Triton, unit tests a fake."""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np
import numpy.typing as npt

from laughter_server.vision.emotion_versions import EmotionVersion

FACE_DETECTOR = "face_detector"
FACE_EMOTION = "face_emotion"
FACE_LANDMARKS = "face_landmarks"
FACE_EXPRESSION = "face_expression"
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

    async def score_emotions(
        self, crops: npt.NDArray[np.uint8], version: EmotionVersion | None = None
    ) -> npt.NDArray[np.float32]:
        """Emotion probabilities (M, 7) of face crops cut for ``version`` (default: the one in use):
        grayscale (M, 64, 64, 1) for version 1, RGB (M, 112, 112, 3) for version 2 and trained heads."""
        ...

    def current_emotion_version(self) -> EmotionVersion:
        """The face emotion version new analyses use (each analysis keeps the one it started with)."""
        ...

    def set_emotion_version(self, version: EmotionVersion) -> ModelDescription:
        """Make ``version`` the one new analyses use; returns the face emotion model's description."""
        ...

    async def locate_landmarks(self, crops: npt.NDArray[np.uint8]) -> dict[str, npt.NDArray[np.float32]]:
        """Face-mesh outputs for RGB face crops (M, 192, 192, 3): ``landmarks`` (M, 468, 3) and
        ``face_presence`` (M, 1)."""
        ...

    async def is_ready(self) -> bool:
        """True when every face model can serve requests now."""
        ...

    def describe(self, emotion_version: EmotionVersion | None = None) -> list[ModelDescription]:
        """The models behind this object, for summaries and ListModels (the face emotion model as
        ``emotion_version``, default the one in use)."""
        ...
