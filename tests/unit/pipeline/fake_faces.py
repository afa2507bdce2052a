"""A deterministic stand-in for the Triton face models, for tests of one stage: the frames say what it finds.

A synthetic frame (320x320, the detector's input size, so no letterbox scaling) encodes its faces: the red
value of the top-left pixel divided by 16 is the number of faces, and face ``k`` is a grey square centred
at ``face_centre(k)`` whose grey level is its happy probability times 255. Every face's mesh has the inner-lip
opening ratio ``mouth_ratio`` (a laughing 0.3 unless a test sets another).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from laughter_server.inference.models import ModelDescription
from laughter_server.vision.emotion_versions import BUILTIN_VERSIONS, EmotionVersion

SIDE_PX = 320
FACE_PX = 24
CELL_PX = 4
MAX_FACES = 8


def face_centre(k: int) -> tuple[int, int]:
    """(row, column) pixel centre of face ``k``."""
    return 20 * CELL_PX + 2, (8 + 9 * k) * CELL_PX + 2


def make_frame(happy: list[float]) -> npt.NDArray[np.uint8]:
    """A frame with one face per entry of ``happy`` (at most ``MAX_FACES``)."""
    image = np.zeros((SIDE_PX, SIDE_PX, 3), np.uint8)
    image[:4, :4, 0] = 16 * len(happy) + 8
    for k, level in enumerate(happy):
        row, col = face_centre(k)
        image[row - 18 : row + 18, col - 18 : col + 18] = round(255 * level)
    return image


class FakeFaceModels:
    """Finds the faces that ``make_frame`` drew and scores each one happy by its grey level."""

    def __init__(self, mouth_ratio: float = 0.3) -> None:
        self.detect_calls = 0
        self.frames_seen = 0
        self.landmark_calls = 0
        self.mouth_ratio = mouth_ratio
        self.emotion_version = BUILTIN_VERSIONS["1"]  # grayscale crops: the grey level is the happy score
        self.emotion_calls: list[tuple[tuple[int, ...], str]] = []  # (crop shape, version) per call

    async def detect(self, images: npt.NDArray[np.uint8]) -> dict[str, npt.NDArray[np.float32]]:
        self.detect_calls += 1
        self.frames_seen += len(images)
        n, cells = len(images), SIDE_PX // CELL_PX
        heatmap = np.zeros((n, 1, cells, cells), np.float32)
        scale = np.zeros((n, 2, cells, cells), np.float32)
        for i, image in enumerate(images):
            for k in range(min(MAX_FACES, int(image[0, 0, 0]) // 16)):
                row, col = (c // CELL_PX for c in face_centre(k))
                heatmap[i, 0, row, col] = 0.9
                scale[i, :, row, col] = math.log(FACE_PX / CELL_PX)
        zeros = np.zeros((n, 2, cells, cells), np.float32)
        return {
            "heatmap": heatmap,
            "scale": scale,
            "offset": zeros,
            "landmarks": np.zeros((n, 10, cells, cells), np.float32),
        }

    async def score_emotions(
        self, crops: npt.NDArray[np.uint8], version: EmotionVersion | None = None
    ) -> npt.NDArray[np.float32]:
        self.emotion_calls.append((tuple(crops.shape[1:]), (version or self.emotion_version).version))
        happy = crops.reshape(len(crops), -1).mean(axis=1) / 255.0 if len(crops) else np.zeros(0)
        probabilities = np.zeros((len(crops), 7), np.float32)
        probabilities[:, 3] = happy
        probabilities[:, 6] = 1.0 - happy
        return probabilities

    def current_emotion_version(self) -> EmotionVersion:
        return self.emotion_version

    def set_emotion_version(self, version: EmotionVersion) -> ModelDescription:
        self.emotion_version = version
        return self.describe(version)[1]

    async def locate_landmarks(self, crops: npt.NDArray[np.uint8]) -> dict[str, npt.NDArray[np.float32]]:
        self.landmark_calls += 1
        meshes = np.zeros((len(crops), 468, 3), np.float32)
        meshes[:, 78, :2] = (66.0, 130.0)  # mouth corners 60 px apart
        meshes[:, 308, :2] = (126.0, 130.0)
        meshes[:, 13, :2] = (96.0, 130.0 - 30.0 * self.mouth_ratio)
        meshes[:, 14, :2] = (96.0, 130.0 + 30.0 * self.mouth_ratio)
        return {"landmarks": meshes, "face_presence": np.ones((len(crops), 1), np.float32)}

    async def is_ready(self) -> bool:
        return True

    def describe(self, emotion_version: EmotionVersion | None = None) -> list[ModelDescription]:
        return [
            ModelDescription("fake-detector", "1", "face_detector", "test"),
            ModelDescription(
                "fake-emotion", (emotion_version or self.emotion_version).version, "face_emotion", "test"
            ),
        ]
