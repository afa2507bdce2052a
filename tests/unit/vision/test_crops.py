"""Tests for laughter_server.vision.crops."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from laughter_server.vision.crops import (
    EMOTION_INPUT_SIZE_PX,
    average_mirrors,
    crop_faces,
    square_around,
    with_mirrors,
)
from laughter_server.vision.detection import FaceBox


def make_frame() -> npt.NDArray[np.uint8]:
    """A 120x160 RGB frame: black, with a white 40x40 square at x 60-100, y 40-80."""
    frame = np.zeros((120, 160, 3), dtype=np.uint8)
    frame[40:80, 60:100] = 255
    return frame


MARGIN = 0.2


class TestSquareAround:
    """square_around()."""

    def test_square_centred_with_margin(self) -> None:
        """A 40x60 box with margin 0.25 gives a 90 px square on the same centre."""
        x1, y1, x2, y2 = square_around(FaceBox(10.0, 20.0, 50.0, 80.0, 0.9), margin=0.25)
        assert (x2 - x1, y2 - y1) == (90, 90)
        assert ((x1 + x2) / 2, (y1 + y2) / 2) == pytest.approx((30.0, 50.0), abs=0.5)


class TestCropFaces:
    """crop_faces()."""

    def test_shapes_dtype_and_frame_index(self) -> None:
        """Crops are (M, 64, 64, 1) uint8 with the frame index of each face, in frame order."""
        frames = np.stack([make_frame(), make_frame(), make_frame()])
        face = FaceBox(60.0, 40.0, 100.0, 80.0, 0.9)
        crops, index = crop_faces(frames, [[face, face], [], [face]])
        assert crops.shape == (3, EMOTION_INPUT_SIZE_PX, EMOTION_INPUT_SIZE_PX, 1)
        assert crops.dtype == np.uint8
        assert index.tolist() == [0, 0, 2]

    def test_margin_frames_the_box(self) -> None:
        """With no margin the box fills the crop; with a 0.2 margin a dark border surrounds it."""
        frames = make_frame()[None]
        face = FaceBox(60.0, 40.0, 100.0, 80.0, 0.9)
        tight, _ = crop_faces(frames, [[face]], margin=0.0)
        framed, _ = crop_faces(frames, [[face]], margin=MARGIN)
        assert tight.min() == 255
        assert framed[0, 0, 0, 0] == 0
        assert framed[0, 32, 32, 0] == 255
        border_px = round(EMOTION_INPUT_SIZE_PX * MARGIN / (1 + 2 * MARGIN))
        assert np.all(framed[0, border_px + 1 : -border_px - 1, border_px + 1 : -border_px - 1] == 255)

    def test_box_at_frame_edge_is_padded(self) -> None:
        """A face touching the corner still yields a full crop, padded by repeating the edge."""
        frame = np.full((50, 50, 3), 90, dtype=np.uint8)
        crops, _ = crop_faces(frame[None], [[FaceBox(0.0, 0.0, 30.0, 30.0, 0.9)]], margin=0.5)
        assert crops.shape == (1, 64, 64, 1)
        assert np.all(crops == 90)

    def test_grayscale_uses_luma(self) -> None:
        """Pure green is brighter than pure blue after conversion, as in cv2's RGB2GRAY."""
        green = np.zeros((1, 32, 32, 3), dtype=np.uint8)
        green[..., 1] = 255
        blue = np.zeros((1, 32, 32, 3), dtype=np.uint8)
        blue[..., 2] = 255
        face = [[FaceBox(0.0, 0.0, 32.0, 32.0, 0.9)]]
        assert (
            crop_faces(green, face, margin=0.0)[0].mean() > crop_faces(blue, face, margin=0.0)[0].mean() * 4
        )

    def test_rejects_mismatched_box_lists(self) -> None:
        """One face list per frame is required."""
        with pytest.raises(ValueError, match="face lists"):
            crop_faces(np.zeros((2, 8, 8, 3), dtype=np.uint8), [[]])


class TestMirrors:
    """with_mirrors() and average_mirrors()."""

    def test_mirror_follows_the_crops(self) -> None:
        """The second half holds each crop flipped left to right, in the same order."""
        crops = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4, 1)
        both = with_mirrors(crops)
        assert both.shape == (4, 4, 4, 1)
        assert np.array_equal(both[:2], crops)
        assert np.array_equal(both[2:], crops[:, :, ::-1])

    def test_average_pairs_each_crop_with_its_mirror(self) -> None:
        """Row i of the result is the mean of rows i and M + i."""
        scores = np.array([[1.0, 0.0], [0.2, 0.8], [0.0, 1.0], [0.4, 0.6]], dtype=np.float32)
        assert np.allclose(average_mirrors(scores), [[0.5, 0.5], [0.3, 0.7]])

    def test_average_rejects_odd_rows(self) -> None:
        """An odd number of rows cannot be crops and mirrors."""
        with pytest.raises(ValueError, match="mirrors"):
            average_mirrors(np.zeros((3, 7), dtype=np.float32))
