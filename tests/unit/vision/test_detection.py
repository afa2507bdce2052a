"""Tests for laughter_server.vision.detection."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from laughter_server.vision.detection import (
    DEFAULT_DETECTOR_INPUT_HW,
    FaceBox,
    LetterboxTransform,
    decode_centerface,
    fitted_input_hw,
    letterbox,
    pad_to_input,
    plan_frames,
    plan_letterbox,
    shrink,
    suppress_non_maxima,
)

SMALL_FACE_IMAGES = ("opencv-doc__data_messi5.jpg", "face-recognition__test_images_biden.jpg")


CenterFaceMaps = tuple[
    npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]
]


def make_maps(grid_hw: tuple[int, int], peaks: list[tuple[int, int, float, float, float]]) -> CenterFaceMaps:
    """CenterFace-shaped maps for one image with (row, col, score, height_px, width_px) peaks."""
    grid_h, grid_w = grid_hw
    heatmap = np.zeros((1, 1, grid_h, grid_w), dtype=np.float32)
    scale = np.zeros((1, 2, grid_h, grid_w), dtype=np.float32)
    offset = np.zeros((1, 2, grid_h, grid_w), dtype=np.float32)
    landmarks = np.full((1, 10, grid_h, grid_w), 0.5, dtype=np.float32)
    for row, col, score, height_px, width_px in peaks:
        heatmap[0, 0, row, col] = score
        scale[0, :, row, col] = np.log([height_px / 4.0, width_px / 4.0])
    return heatmap, scale, offset, landmarks


class TestLetterbox:
    """letterbox() and its transform."""

    def test_fits_the_bound_and_pads_to_the_next_multiple_of_32(self) -> None:
        """A 480x640 frame fills the width of a 320x320 bound and is zero-padded below to 256 rows, not 320."""
        images = np.full((2, 480, 640, 3), 200, dtype=np.uint8)
        batch, transform = letterbox(images, (320, 320))
        assert batch.shape == (2, 256, 320, 3)
        assert batch.dtype == np.uint8
        assert transform.resized_hw == (240, 320)
        assert transform.input_hw == (256, 320)
        assert transform.scale == pytest.approx(0.5)
        assert np.all(batch[:, :240] == 200)
        assert np.all(batch[:, 240:] == 0)

    @pytest.mark.parametrize(
        ("source_hw", "fitted"),
        [
            ((720, 1280), (192, 320)),  # 16:9: 320x180 of picture
            ((1280, 720), (320, 192)),  # portrait
            ((288, 360), (256, 320)),  # the sample: 256x320 exactly
            ((480, 480), (320, 320)),
            ((100, 80), (320, 256)),  # small frames are scaled up to the bound, as before
            ((2, 1000), (32, 320)),
        ],
    )
    def test_fitted_input_hw(self, source_hw: tuple[int, int], fitted: tuple[int, int]) -> None:
        """The input holds the frame at the scale of the bound, in multiples of 32, within the bound."""
        assert fitted_input_hw(source_hw, (320, 320)) == fitted
        bound_scale = plan_letterbox(source_hw, (320, 320)).scale
        assert plan_letterbox(source_hw, fitted).scale == pytest.approx(bound_scale, rel=0.01)

    def test_round_trip(self) -> None:
        """Points mapped to the input and back land where they started."""
        transform = plan_letterbox((360, 288), DEFAULT_DETECTOR_INPUT_HW)
        points = np.array([[0.0, 0.0], [287.0, 359.0], [100.5, 20.25]], dtype=np.float32)
        assert np.allclose(transform.to_source(transform.to_input(points)), points, atol=1e-3)

    def test_content_lands_where_the_transform_says(self) -> None:
        """A bright pixel block in the source appears at its mapped position in the letterboxed image."""
        image = np.zeros((1, 200, 400, 3), dtype=np.uint8)
        image[0, 100:120, 300:320] = 255
        batch, transform = letterbox(image, (320, 320))
        x, y = transform.to_input(np.array([310.0, 110.0], dtype=np.float32))
        assert batch[0, round(y), round(x)].min() > 200

    def test_frames_as_a_sequence_and_in_two_steps(self) -> None:
        """A list of frames letterboxes like the stacked array, and shrink + pad_to_input like letterbox."""
        rng = np.random.default_rng(0)
        frames = [rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8) for _ in range(3)]
        batch, transform = letterbox(np.stack(frames), (320, 320))
        listed, listed_transform = letterbox(frames, (320, 320))
        np.testing.assert_array_equal(listed, batch)
        assert listed_transform == transform
        plan = plan_frames(frames, (320, 320))
        np.testing.assert_array_equal(pad_to_input([shrink(f, plan) for f in frames], plan), batch)

    def test_refuses_frames_of_different_sizes(self) -> None:
        frames = [np.zeros((240, 320, 3), np.uint8), np.zeros((240, 330, 3), np.uint8)]
        with pytest.raises(ValueError, match="one size"):
            letterbox(frames, (320, 320))

    def test_rejects_sizes_the_model_cannot_take(self) -> None:
        """Input sizes that are not multiples of 32 are refused."""
        with pytest.raises(ValueError, match="multiples of 32"):
            letterbox(np.zeros((1, 10, 10, 3), dtype=np.uint8), (300, 320))


class TestSuppressNonMaxima:
    """suppress_non_maxima()."""

    def test_removes_duplicates_keeps_distinct(self) -> None:
        """Overlapping boxes collapse to the best one; a distant box survives."""
        boxes = np.array(
            [[10, 10, 50, 50], [12, 11, 52, 49], [100, 100, 140, 140], [11, 9, 49, 51]], dtype=np.float32
        )
        scores = np.array([0.8, 0.9, 0.7, 0.6], dtype=np.float32)
        assert suppress_non_maxima(boxes, scores, 0.3).tolist() == [1, 2]

    def test_threshold_controls_overlap(self) -> None:
        """Boxes overlapping by IoU 1/3 are both kept above that threshold and merged below it."""
        boxes = np.array([[0, 0, 20, 10], [10, 0, 30, 10]], dtype=np.float32)
        scores = np.array([0.9, 0.8], dtype=np.float32)
        assert suppress_non_maxima(boxes, scores, 0.5).tolist() == [0, 1]
        assert suppress_non_maxima(boxes, scores, 0.3).tolist() == [0]

    def test_empty(self) -> None:
        """No boxes, no indices."""
        empty = np.zeros((0, 4), dtype=np.float32)
        assert suppress_non_maxima(empty, np.zeros((0,), dtype=np.float32), 0.3).shape == (0,)


class TestDecodeCenterface:
    """decode_centerface() on synthetic maps and on the real model's output."""

    def test_synthetic_peak_maps_back_to_source_pixels(self) -> None:
        """A peak at cell (10, 20) of a 2x-downscaled frame becomes a box centred at (164, 84) source px."""
        transform = LetterboxTransform(
            source_hw=(160, 640), input_hw=(96, 320), scale=0.5, resized_hw=(80, 320)
        )
        maps = make_maps((24, 80), [(10, 20, 0.9, 16.0, 12.0)])
        (faces,) = decode_centerface(*maps, transform)
        assert len(faces) == 1
        face = faces[0]
        assert face.center == pytest.approx((164.0, 84.0))
        assert (face.width, face.height) == pytest.approx((24.0, 32.0))
        assert face.score == pytest.approx(0.9)
        assert face.landmarks is not None
        assert face.landmarks.shape == (5, 2)
        assert np.allclose(face.landmarks, [face.center] * 5)

    def test_threshold_and_clipping(self) -> None:
        """Peaks under the threshold are dropped; a box past the frame edge is clipped to it."""
        transform = plan_letterbox((64, 64), (64, 64))
        maps = make_maps((16, 16), [(0, 0, 0.95, 40.0, 40.0), (8, 8, 0.3, 8.0, 8.0)])
        (faces,) = decode_centerface(*maps, transform, score_threshold=0.5)
        assert len(faces) == 1
        assert (faces[0].x1, faces[0].y1) == (0.0, 0.0)
        assert faces[0].x2 == pytest.approx(22.0)

    def test_max_faces(self) -> None:
        """At most max_faces boxes are returned, highest scores first."""
        transform = plan_letterbox((128, 128), (128, 128))
        peaks = [(4, 4, 0.6, 8.0, 8.0), (4, 20, 0.9, 8.0, 8.0), (20, 4, 0.8, 8.0, 8.0)]
        (faces,) = decode_centerface(*make_maps((32, 32), peaks), transform, max_faces=2)
        assert [face.score for face in faces] == pytest.approx([0.9, 0.8])

    def test_faces_found_in_every_dev_image(self, dev_faces: dict[str, list[FaceBox]]) -> None:
        """Every dev image has a face; the group photo has all six."""
        missing = [name for name, faces in dev_faces.items() if not faces]
        assert missing == []
        assert len(dev_faces["insightface__images_t1.jpg"]) == 6

    def test_small_faces(
        self, dev_faces: dict[str, list[FaceBox]], dev_images: dict[str, npt.NDArray[np.uint8]]
    ) -> None:
        """The faces that are small in their frame are found, at their small size."""
        for name in SMALL_FACE_IMAGES:
            (face,) = dev_faces[name]
            assert 0.03 < face.height / dev_images[name].shape[0] < 0.3
            assert face.score > 0.5

    def test_boxes_inside_frame(
        self, dev_faces: dict[str, list[FaceBox]], dev_images: dict[str, npt.NDArray[np.uint8]]
    ) -> None:
        """Boxes are ordered, non-empty and inside the original frame; landmarks fall near the box."""
        for name, faces in dev_faces.items():
            height, width = dev_images[name].shape[:2]
            for face in faces:
                assert 0.0 <= face.x1 < face.x2 <= width
                assert 0.0 <= face.y1 < face.y2 <= height
                assert face.landmarks is not None
                center_x, center_y = face.landmarks.mean(axis=0)
                assert face.x1 <= center_x <= face.x2
                assert face.y1 <= center_y <= face.y2
