"""Tests for laughter_server.vision.landmarks: crops for the face mesh and the mouth geometry."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import pytest
from laughter_server.vision.detection import FaceBox
from laughter_server.vision.landmarks import (
    LANDMARK_INPUT_SIZE_PX,
    MOUTH_CLOSED_RATIO,
    MOUTH_OPEN_RATIO,
    landmark_crops,
    mouth_geometry,
    mouth_open_score,
    mouth_open_scores,
)

from tests.unit.vision.conftest import open_session


def mesh_with_mouth(gap_px: float, width_px: float) -> npt.NDArray[np.float32]:
    """One (1, 468, 3) mesh whose inner lips are ``gap_px`` apart and corners ``width_px`` apart."""
    mesh = np.zeros((1, 468, 3), np.float32)
    mesh[0, 78, :2] = (100.0 - width_px / 2, 120.0)
    mesh[0, 308, :2] = (100.0 + width_px / 2, 120.0)
    mesh[0, 13, :2] = (100.0, 120.0 - gap_px / 2)
    mesh[0, 14, :2] = (100.0, 120.0 + gap_px / 2)
    return mesh


class TestLandmarkCrops:
    """landmark_crops()."""

    def test_square_rgb_crop_around_the_box(self) -> None:
        """A 40x40 box centred on a red square gives a 192x192 RGB crop that is red in its centre."""
        frame = np.zeros((120, 160, 3), np.uint8)
        frame[40:80, 60:100, 0] = 255
        crops = landmark_crops(frame[None], [[FaceBox(60.0, 40.0, 100.0, 80.0, 0.9)]])
        assert crops.shape == (1, LANDMARK_INPUT_SIZE_PX, LANDMARK_INPUT_SIZE_PX, 3)
        assert crops.dtype == np.uint8
        assert tuple(crops[0, 96, 96]) == (255, 0, 0)
        assert tuple(crops[0, 2, 2]) == (0, 0, 0)

    def test_eyes_are_levelled(self) -> None:
        """With the eyes on a 45 degree line, the crop turns so that the eye line is horizontal."""
        frame = np.zeros((200, 200, 3), np.uint8)
        frame[95:105, :] = 255  # a horizontal bar through the face centre
        eyes = np.array([[80.0, 80.0], [120.0, 120.0], [100, 100], [90, 110], [110, 110]], np.float32)
        face = FaceBox(70.0, 70.0, 130.0, 130.0, 0.9, landmarks=eyes)
        crop = landmark_crops(frame[None], [[face]])[0]
        level = FaceBox(70.0, 70.0, 130.0, 130.0, 0.9)
        straight = landmark_crops(frame[None], [[level]])[0]
        assert straight[96, 10, 0] == 255  # the bar crosses the unturned crop horizontally
        assert crop[96, 10, 0] == 0  # turned by 45 degrees it no longer does

    def test_rejects_mismatched_box_lists(self) -> None:
        """One face list per frame is required."""
        with pytest.raises(ValueError, match="face lists"):
            landmark_crops(np.zeros((2, 10, 10, 3), np.uint8), [[]])


class TestMouthGeometry:
    """mouth_geometry() and the mouth_open score."""

    def test_ratio_is_gap_over_width(self) -> None:
        """Gap 12 px over width 60 px is a ratio of 0.2."""
        (geometry,) = mouth_geometry(mesh_with_mouth(12.0, 60.0))
        assert geometry.opening_ratio == pytest.approx(0.2)

    def test_score_ramps_between_the_thresholds(self) -> None:
        """0 when closed, 1 when open, linear between."""
        assert mouth_open_score(MOUTH_CLOSED_RATIO, MOUTH_CLOSED_RATIO, MOUTH_OPEN_RATIO) == 0.0
        assert mouth_open_score(MOUTH_OPEN_RATIO + 0.1, MOUTH_CLOSED_RATIO, MOUTH_OPEN_RATIO) == 1.0
        middle = (MOUTH_CLOSED_RATIO + MOUTH_OPEN_RATIO) / 2
        assert mouth_open_score(middle, MOUTH_CLOSED_RATIO, MOUTH_OPEN_RATIO) == pytest.approx(0.5)

    def test_absent_face_counts_as_closed(self) -> None:
        """A mesh the model does not see a face in gives mouth_open 0."""
        meshes = np.concatenate([mesh_with_mouth(18.0, 60.0)] * 2)
        scores = mouth_open_scores(meshes, np.array([[0.99], [0.1]], np.float32))
        assert scores.tolist() == [1.0, 0.0]


@pytest.fixture(name="landmark_session", scope="module")
def fixture_landmark_session() -> ort.InferenceSession:
    """The exported face mesh."""
    return open_session("face_landmarks")


class TestOnDevFaces:
    """The exported face mesh on the labelled dev faces."""

    def test_laughs_open_wider_than_neutral_faces(
        self,
        dev_images: dict[str, npt.NDArray[np.uint8]],
        dev_faces: dict[str, list[FaceBox]],
        face_labels: dict[str, str],
        landmark_session: ort.InferenceSession,
    ) -> None:
        """Every face-laugh image opens its mouth past 0.15; most neutral faces stay under 0.08."""
        ratios: dict[str, list[float]] = {"face-laugh": [], "face-neutral": []}
        for name, faces in dev_faces.items():
            label = face_labels[name]
            if label not in ratios or not faces:
                continue
            crops = landmark_crops(dev_images[name][None], [faces[:1]])
            meshes, presence = landmark_session.run(["landmarks", "face_presence"], {"crops": crops})
            assert presence[0, 0] > 0.5
            ratios[label].append(mouth_geometry(meshes)[0].opening_ratio)
        assert len(ratios["face-laugh"]) == 3
        assert min(ratios["face-laugh"]) > 0.15
        assert np.mean(np.array(ratios["face-neutral"]) < MOUTH_CLOSED_RATIO) >= 0.7
