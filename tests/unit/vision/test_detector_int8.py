"""The int8 face detector (``face_detector/2``, served by ``configs/int8.pbtxt``) against the float32 one it
was quantized from, on dev media its calibration never saw: the same faces, boxes that overlap closely."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from laughter_server.media.decode import iter_video_frames
from laughter_server.vision.detection import FaceBox
from laughter_server.vision.tracker import iou as tracker_iou

from tests.unit.vision.conftest import REPO_ROOT, detect, open_session

sys.path.insert(0, str(REPO_ROOT / "tools"))
from detector_calibration import calibration_rows

FRAME_RATE_HZ = 2.0
MIN_MEAN_IOU = 0.93
MIN_IOU = 0.75
MAX_MEAN_SCORE_DIFF = 0.03


def iou(a: FaceBox, b: FaceBox) -> float:
    return tracker_iou((a.x1, a.y1, a.x2, a.y2), (b.x1, b.y1, b.x2, b.y2))


@pytest.fixture(name="held_out_frames", scope="module")
def fixture_held_out_frames(dev_data: Path) -> dict[str, list[npt.NDArray[np.uint8]]]:
    """Frames of the dev face media outside the calibration, and of the bundled sample."""
    calibration = {row["file"] for row in calibration_rows(dev_data / "manifest.csv")}
    with (dev_data / "manifest.csv").open(newline="") as handle:
        rows = [
            row
            for row in csv.DictReader(handle)
            if row["label"].startswith(("face-", "video-")) and row["file"] not in calibration
        ]
    paths = [dev_data / row["file"] for row in rows] + [REPO_ROOT / "samples" / "sample.mp4"]
    assert len(paths) >= 10, paths
    return {
        path.name: [image for _, image in iter_video_frames(path.read_bytes(), FRAME_RATE_HZ)]
        for path in paths
    }


def test_int8_detector_finds_the_faces_the_float_one_does(
    held_out_frames: dict[str, list[npt.NDArray[np.uint8]]],
) -> None:
    reference, quantized = open_session("face_detector", 2, "1"), open_session("face_detector", 2, "2")
    overlaps: list[float] = []
    score_diffs: list[float] = []
    mismatched: list[tuple[str, int, int, int]] = []
    for name, frames in held_out_frames.items():
        for index, frame in enumerate(frames):
            expected, found = detect(reference, [frame])[0], detect(quantized, [frame])[0]
            matched = 0
            for face in expected:
                best = max(found, key=lambda other: iou(face, other), default=None)
                if best is not None and iou(face, best) >= 0.5:
                    matched += 1
                    overlaps.append(iou(face, best))
                    score_diffs.append(abs(face.score - best.score))
            if matched != len(expected) or len(found) != len(expected):
                mismatched.append((name, index, len(expected), len(found)))
    assert len(overlaps) >= 100, len(overlaps)  # enough faces for the figures to mean something
    assert mismatched == []
    assert float(np.mean(overlaps)) >= MIN_MEAN_IOU, np.mean(overlaps)
    assert min(overlaps) >= MIN_IOU, min(overlaps)
    assert float(np.mean(score_diffs)) <= MAX_MEAN_SCORE_DIFF, np.mean(score_diffs)
