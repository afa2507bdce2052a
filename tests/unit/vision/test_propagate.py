"""The cut test and optical-flow box propagation on real frames of the bundled sample, against the detector
(in-process onnxruntime) run on the same frames."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import pytest
from laughter_server.media.decode import iter_video_frames
from laughter_server.vision.detection import (
    DEFAULT_DETECTOR_INPUT_HW,
    FaceBox,
    plan_frames,
    shrink,
)
from laughter_server.vision.propagate import BoxPropagator, is_cut, move_box, thumbnail
from laughter_server.vision.tracker import iou

from tests.conftest import SAMPLE
from tests.unit.vision.conftest import detect

RATE_HERTZ = 10.0


@pytest.fixture(name="frames", scope="module")
def fixture_frames() -> list[npt.NDArray[np.uint8]]:
    """The first 3 s of the sample at 10 frames/s."""
    return [image for t, image in iter_video_frames(SAMPLE.read_bytes(), RATE_HERTZ) if t < 3.0]


def as_tuple(box: FaceBox, image: npt.NDArray[np.uint8]) -> tuple[float, float, float, float]:
    height, width = image.shape[:2]
    return box.x1 / width, box.y1 / height, box.x2 / width, box.y2 / height


class TestThumbnail:
    @pytest.mark.parametrize("size_hw", [(720, 1280), (288, 360), (1280, 720), (240, 320), (100, 80)])
    def test_shared_letterbox_frame_gives_the_same_thumbnail(self, size_hw: tuple[int, int]) -> None:
        """Handed the detector's scaled frame, the thumbnail equals the one made from the frame alone, for
        frames where the sizes agree (landscape frames) and where they do not (portrait, small)."""
        rng = np.random.default_rng(1)
        image = rng.integers(0, 255, (*size_hw, 3), dtype=np.uint8)
        image = cv2.GaussianBlur(image, (9, 9), 3)  # some structure for the area averaging
        shrunk = shrink(image, plan_frames([image], DEFAULT_DETECTOR_INPUT_HW))
        alone, shared = thumbnail(image), thumbnail(image, shrunk)
        np.testing.assert_array_equal(shared.gray, alone.gray)
        np.testing.assert_array_equal(shared.tiny, alone.tiny)
        assert shared.scale == alone.scale
        if size_hw[1] >= size_hw[0] and size_hw[1] > 320:
            assert shrunk.shape[:2] == alone.gray.shape  # the resize was shared

    def test_a_different_frame_of_the_right_size_is_used(self) -> None:
        """The shared frame is taken as given (the caller's promise): a black one gives a black thumbnail."""
        image = np.full((720, 1280, 3), 200, np.uint8)
        assert thumbnail(image, np.zeros((180, 320, 3), np.uint8)).gray.max() == 0
        assert thumbnail(image, np.zeros((100, 100, 3), np.uint8)).gray.min() == 200  # wrong size: not used


class TestCut:
    def test_consecutive_frames_are_not_a_cut(self, frames: list[npt.NDArray[np.uint8]]) -> None:
        thumbs = [thumbnail(image) for image in frames]
        assert not any(is_cut(a, b) for a, b in itertools.pairwise(thumbs))

    def test_another_scene_is_a_cut(self, frames: list[npt.NDArray[np.uint8]]) -> None:
        image = frames[0]
        other = np.ascontiguousarray(image[::-1, ::-1])  # the same pixels, another layout
        assert is_cut(thumbnail(image), thumbnail(other))

    def test_brightness_change_is_not_a_cut(self, frames: list[npt.NDArray[np.uint8]]) -> None:
        image = frames[0]
        darker = (image.astype(np.float32) * 0.7).astype(np.uint8)
        assert not is_cut(thumbnail(image), thumbnail(darker))

    def test_size_change_is_a_cut(self, frames: list[npt.NDArray[np.uint8]]) -> None:
        image = frames[0]
        larger = cv2.resize(image, (image.shape[1] * 2, image.shape[0] * 2))
        assert is_cut(thumbnail(image), thumbnail(larger))


class TestPropagation:
    def test_known_shift_moves_the_box(
        self, frames: list[npt.NDArray[np.uint8]], detector_session: ort.InferenceSession
    ) -> None:
        image = frames[0]
        (face,) = detect(detector_session, [image])[0][:1]
        dx, dy = 9.0, -5.0
        shifted = cv2.warpAffine(
            image,
            np.float32([[1, 0, dx], [0, 1, dy]]),
            (image.shape[1], image.shape[0]),
            borderMode=cv2.BORDER_REPLICATE,
        )
        moved, confidence = move_box(thumbnail(image), thumbnail(shifted), face)
        assert confidence >= 0.6
        assert moved.x1 - face.x1 == pytest.approx(dx, abs=1.5)
        assert moved.y1 - face.y1 == pytest.approx(dy, abs=1.5)
        assert moved.width == pytest.approx(face.width, rel=0.05)
        assert moved.landmarks is not None
        assert face.landmarks is not None
        assert moved.landmarks[:, 0] - face.landmarks[:, 0] == pytest.approx(np.full(5, dx), abs=1.5)

    def test_carried_boxes_follow_the_detector(
        self, frames: list[npt.NDArray[np.uint8]], detector_session: ort.InferenceSession
    ) -> None:
        """Boxes carried over 5 frames from one detection overlap the detector's own boxes on those frames."""
        detected = detect(detector_session, frames[:6])
        propagator = BoxPropagator(detect_every=6)
        propagator.accept(thumbnail(frames[0]), detected[0], detected=True)
        for image, reference in zip(frames[1:6], detected[1:6], strict=True):
            moved = propagator.propagate(thumbnail(image))
            assert moved is not None
            assert len(moved) == len(reference) == 1
            assert iou(as_tuple(moved[0], image), as_tuple(reference[0], image)) >= 0.7
            propagator.accept(thumbnail(image), moved, detected=False)
        assert (propagator.detections, propagator.propagations) == (1, 5)

    def test_a_vanished_face_is_lost(
        self, frames: list[npt.NDArray[np.uint8]], detector_session: ort.InferenceSession
    ) -> None:
        image = frames[0]
        faces = detect(detector_session, [image])[0]
        propagator = BoxPropagator(detect_every=5)
        propagator.accept(thumbnail(image), faces, detected=True)
        flat = np.full_like(image, 128)
        assert propagator.propagate(thumbnail(flat)) is None

    def test_no_faces_propagate_to_no_faces(self, frames: list[npt.NDArray[np.uint8]]) -> None:
        propagator = BoxPropagator(detect_every=5)
        propagator.accept(thumbnail(frames[0]), [], detected=True)
        assert propagator.propagate(thumbnail(frames[1])) == []
