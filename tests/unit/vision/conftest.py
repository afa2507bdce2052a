"""Fixtures for the vision tests: dev images and in-process onnxruntime sessions over model_repository."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import pytest
from laughter_server.vision.detection import DEFAULT_DETECTOR_INPUT_HW, FaceBox, decode_centerface, letterbox

REPO_ROOT = Path(__file__).resolve().parents[3]
MODEL_REPOSITORY = REPO_ROOT / "model_repository"


def load_rgb(path: Path) -> npt.NDArray[np.uint8]:
    """Read an image file as an RGB uint8 array."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(path)
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def open_session(model_name: str, threads: int = 1, version: str = "1") -> ort.InferenceSession:
    """CPU session over model_repository/<model_name>/<version>/model.onnx."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    path = MODEL_REPOSITORY / model_name / version / "model.onnx"
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def detect(session: ort.InferenceSession, images: list[npt.NDArray[np.uint8]]) -> list[list[FaceBox]]:
    """Faces in each of ``images`` (RGB frames of one size) at the default input size, as the server finds
    them: letterbox, the detector, CenterFace decoding."""
    batch, transform = letterbox(np.stack(images), DEFAULT_DETECTOR_INPUT_HW)
    heatmap, scale, offset, landmarks = session.run(
        ["heatmap", "scale", "offset", "landmarks"], {"images": batch}
    )
    return decode_centerface(heatmap, scale, offset, landmarks, transform)


@pytest.fixture(name="face_labels", scope="session")
def fixture_face_labels(dev_data: Path) -> dict[str, str]:
    """Image file name -> face-laugh / face-smile / face-neutral, from manifest.csv."""
    with (dev_data / "manifest.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {Path(row["file"]).name: row["label"] for row in rows if row["file"].startswith("images/")}


@pytest.fixture(name="dev_images", scope="session")
def fixture_dev_images(dev_data: Path, face_labels: dict[str, str]) -> dict[str, npt.NDArray[np.uint8]]:
    """Every labelled dev image, RGB, by file name."""
    return {name: load_rgb(dev_data / "images" / name) for name in sorted(face_labels)}


@pytest.fixture(name="detector_session", scope="session")
def fixture_detector_session() -> ort.InferenceSession:
    """The exported face detector (float32, what the default configuration serves)."""
    return open_session("face_detector", threads=2)


@pytest.fixture(name="dev_faces", scope="session")
def fixture_dev_faces(
    dev_images: dict[str, npt.NDArray[np.uint8]], detector_session: ort.InferenceSession
) -> dict[str, list[FaceBox]]:
    """Faces in every dev image at the default input size, each image at its own fitted input size."""
    return {name: detect(detector_session, [image])[0] for name, image in dev_images.items()}


@pytest.fixture(name="emotion_session", scope="session")
def fixture_emotion_session() -> ort.InferenceSession:
    """The exported emotion classifier."""
    return open_session("face_emotion")
