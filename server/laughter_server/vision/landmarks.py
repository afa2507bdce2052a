"""Face-mesh crops and mouth geometry for the landmark model (``face_landmarks`` in Triton).

The model (mediapipe's face mesh) takes uint8 RGB crops ``[B, 192, 192, 3]`` and returns ``landmarks``
``[B, 468, 3]``: x, y in crop pixels and a relative depth z. Crops are squares around the CenterFace box,
turned so that the eyes are level (from the detector's eye landmarks), like mediapipe's own face ROI.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from laughter_server.vision.detection import FaceBox

LANDMARK_INPUT_SIZE_PX = 192
"""The landmark model's crop side in pixels."""

LANDMARK_COUNT = 468
LANDMARK_CROP_SCALE = 1.5
"""Crop side as a multiple of the box's longer side (mediapipe widens its face ROI by the same factor)."""

UPPER_INNER_LIP = 13
LOWER_INNER_LIP = 14
MOUTH_LEFT_CORNER = 78
MOUTH_RIGHT_CORNER = 308
"""Face-mesh indices: centre of the upper and lower inner lip, and the inner mouth corners."""


@dataclasses.dataclass(frozen=True)
class MouthGeometry:
    """The inner-lip gap and mouth width of one face, in landmark-crop pixels, and their ratio."""

    gap_px: float
    width_px: float

    @property
    def opening_ratio(self) -> float:
        """Gap between the inner lips divided by the mouth width (0 for a closed mouth)."""
        return self.gap_px / self.width_px if self.width_px > 0.0 else 0.0


def crop_transform(face: FaceBox, size: int, scale: float) -> npt.NDArray[np.float64]:
    """The 2x3 affine map from frame pixels to the (size, size) crop: centred on the box, eyes level."""
    center_x, center_y = face.center
    angle_deg = 0.0
    if face.landmarks is not None and len(face.landmarks) >= 2:
        (left_x, left_y), (right_x, right_y) = face.landmarks[0], face.landmarks[1]
        angle_deg = float(np.degrees(np.arctan2(right_y - left_y, right_x - left_x)))
    side = max(face.width, face.height, 1.0) * scale
    matrix = cv2.getRotationMatrix2D((center_x, center_y), angle_deg, size / side)
    matrix[0, 2] += size / 2.0 - center_x
    matrix[1, 2] += size / 2.0 - center_y
    return np.asarray(matrix, dtype=np.float64)


def landmark_crops(
    images: npt.NDArray[np.uint8],
    boxes: Sequence[Sequence[FaceBox]],
    size: int = LANDMARK_INPUT_SIZE_PX,
    scale: float = LANDMARK_CROP_SCALE,
) -> npt.NDArray[np.uint8]:
    """RGB crops (M, size, size, 3) uint8 of every face of every frame, in frame order then face order.

    ``images`` is (N, H, W, 3) RGB uint8 and ``boxes`` one face list per frame; parts outside the frame
    repeat the edge.
    """
    if images.ndim != 4 or images.shape[3] != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (N, H, W, 3), got {images.dtype} {images.shape}")
    if len(boxes) != images.shape[0]:
        raise ValueError(f"got face lists for {len(boxes)} frames, expected {images.shape[0]}")
    total = sum(len(faces) for faces in boxes)
    crops = np.empty((total, size, size, 3), dtype=np.uint8)
    position = 0
    for index, faces in enumerate(boxes):
        for face in faces:
            crops[position] = cv2.warpAffine(
                images[index],
                crop_transform(face, size, scale),
                (size, size),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
            position += 1
    return crops


def mouth_geometry(meshes: npt.NDArray[np.float32]) -> list[MouthGeometry]:
    """Inner-lip gap and mouth width of each (468, 3) mesh in ``meshes`` (M, 468, 3)."""
    array = np.asarray(meshes, dtype=np.float32)
    if array.ndim != 3 or array.shape[1:] != (LANDMARK_COUNT, 3):
        raise ValueError(f"landmarks must be (M, {LANDMARK_COUNT}, 3), got {array.shape}")
    xy = array[:, :, :2].astype(np.float64)
    gaps = np.linalg.norm(xy[:, UPPER_INNER_LIP] - xy[:, LOWER_INNER_LIP], axis=1)
    widths = np.linalg.norm(xy[:, MOUTH_LEFT_CORNER] - xy[:, MOUTH_RIGHT_CORNER], axis=1)
    return [MouthGeometry(float(g), float(w)) for g, w in zip(gaps, widths, strict=True)]


def mouth_open_score(opening_ratio: float, closed_below: float, open_above: float) -> float:
    """``opening_ratio`` mapped to [0, 1]: 0 at or below ``closed_below``, 1 at or above ``open_above``."""
    if open_above <= closed_below:
        raise ValueError("open_above must exceed closed_below")
    return float(np.clip((opening_ratio - closed_below) / (open_above - closed_below), 0.0, 1.0))


MOUTH_CLOSED_RATIO = 0.08
"""Inner-lip opening ratio at and below which ``mouth_open`` is 0: closed and talking mouths on the dev set
(docs/vision-model.md)."""
MOUTH_OPEN_RATIO = 0.20
"""Opening ratio at and above which ``mouth_open`` is 1: the open-mouth laughs of the dev set."""
MIN_FACE_PRESENCE = 0.5
"""Below this face-presence probability the mesh is not trusted and the mouth counts as closed."""


def mouth_open_scores(
    meshes: npt.NDArray[np.float32],
    presence: npt.NDArray[np.float32],
    closed_below: float = MOUTH_CLOSED_RATIO,
    open_above: float = MOUTH_OPEN_RATIO,
) -> npt.NDArray[np.float64]:
    """``mouth_open`` in [0, 1] per face from the mesh outputs (M, 468, 3) and presence (M, 1)."""
    present = np.asarray(presence, dtype=np.float64).reshape(-1) >= MIN_FACE_PRESENCE
    ratios = [geometry.opening_ratio for geometry in mouth_geometry(meshes)]
    if len(ratios) != len(present):
        raise ValueError(f"got {len(present)} presence scores for {len(ratios)} meshes")
    scores = [
        mouth_open_score(ratio, closed_below, open_above) if ok else 0.0
        for ratio, ok in zip(ratios, present, strict=True)
    ]
    return np.asarray(scores, dtype=np.float64)
