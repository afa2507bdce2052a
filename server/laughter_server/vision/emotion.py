"""Reading the emotion model's output: (M, 7) softmax probabilities in the order of ``EMOTIONS``."""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""Output order of the ``face_emotion`` model (FER-2013 classes)."""

EMOTION_INDEX: dict[str, int] = {name: index for index, name in enumerate(EMOTIONS)}
HAPPY_INDEX = EMOTION_INDEX["happy"]


@dataclasses.dataclass(frozen=True)
class DominantEmotion:
    """The most probable emotion of one face."""

    emotion: str
    score: float


def check_probabilities(probabilities: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Return the array as float32 (M, 7), or raise ValueError if it has another shape."""
    array = np.asarray(probabilities, dtype=np.float32)
    if array.ndim != 2 or array.shape[1] != len(EMOTIONS):
        raise ValueError(f"emotion probabilities must be (M, {len(EMOTIONS)}), got {array.shape}")
    return array


def label_emotions(probabilities: npt.NDArray[np.float32]) -> list[dict[str, float]]:
    """One ``{emotion: probability}`` dict per face, keys in ``EMOTIONS`` order."""
    array = check_probabilities(probabilities)
    return [dict(zip(EMOTIONS, (float(value) for value in row), strict=True)) for row in array]


def pick_dominant_emotions(probabilities: npt.NDArray[np.float32]) -> list[DominantEmotion]:
    """The arg-max emotion and its probability for each face."""
    array = check_probabilities(probabilities)
    best = np.argmax(array, axis=1)
    return [
        DominantEmotion(emotion=EMOTIONS[int(i)], score=float(array[row, i])) for row, i in enumerate(best)
    ]


def select_emotion(probabilities: npt.NDArray[np.float32], emotion: str) -> npt.NDArray[np.float32]:
    """The (M,) probabilities of one emotion, e.g. ``select_emotion(p, "happy")``."""
    if emotion not in EMOTION_INDEX:
        raise ValueError("unknown emotion {!r}; expected one of {}".format(emotion, ", ".join(EMOTIONS)))
    return check_probabilities(probabilities)[:, EMOTION_INDEX[emotion]]
