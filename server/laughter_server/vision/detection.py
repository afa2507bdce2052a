"""Face detection pre- and post-processing for the CenterFace model (``face_detector`` in Triton).

The model takes uint8 RGB images ``[B, H, W, 3]`` (H and W multiples of 32) and returns four maps at a
quarter of the input resolution: ``heatmap [B, 1, h, w]``, ``scale [B, 2, h, w]`` (log height, log width),
``offset [B, 2, h, w]`` (y, x sub-cell offsets) and ``landmarks [B, 10, h, w]`` (y, x pairs relative to the
box). Frames are scaled to fit one bounding size (``DEFAULT_DETECTOR_INPUT_HW``) and padded only up to the next
multiple of 32 (``fitted_input_hw``): the detector's work grows with its input's area, and padding costs as much as
picture. Frames of one shape (one video, or live sessions whose cameras share an aspect ratio) batch together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

DEFAULT_DETECTOR_INPUT_HW: tuple[int, int] = (320, 320)
"""The size frames are scaled to fit for the detector (height, width); chosen on the dev images and videos."""

DETECTOR_STRIDE_PX = 4
"""Output cells per input pixel of the CenterFace maps."""

INPUT_MULTIPLE_PX = 32
"""The detector's input height and width must be multiples of this."""

SHRINK_INTERPOLATION = cv2.INTER_AREA
"""How frames are scaled down, for the detector and for the tracker's thumbnails (which then share one resize)."""

DEFAULT_SCORE_THRESHOLD = 0.5
DEFAULT_NMS_IOU = 0.3
DEFAULT_MAX_FACES = 32
LANDMARK_COUNT = 5
"""Landmarks in order: left eye, right eye, nose tip, left mouth corner, right mouth corner (image sides)."""


@dataclasses.dataclass(frozen=True)
class FaceBox:
    """A detected face in pixel coordinates of the original frame, with optional (5, 2) x/y landmarks."""

    x1: float
    y1: float
    x2: float
    y2: float
    score: float
    landmarks: npt.NDArray[np.float32] | None = dataclasses.field(default=None, compare=False)

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x1 + self.x2) / 2.0, (self.y1 + self.y2) / 2.0)


@dataclasses.dataclass(frozen=True)
class LetterboxTransform:
    """How source frames were scaled and padded into the detector input.

    ``input = source * scale + pad`` for both axes; padding is added at the bottom and right only.
    """

    source_hw: tuple[int, int]
    input_hw: tuple[int, int]
    scale: float
    resized_hw: tuple[int, int]
    pad_left_px: int = 0
    pad_top_px: int = 0

    def to_source(self, points_xy: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Map (..., 2) x/y points from detector-input pixels to source-frame pixels."""
        offset = np.array([self.pad_left_px, self.pad_top_px], dtype=np.float32)
        return ((points_xy - offset) / np.float32(self.scale)).astype(np.float32)

    def to_input(self, points_xy: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Map (..., 2) x/y points from source-frame pixels to detector-input pixels."""
        offset = np.array([self.pad_left_px, self.pad_top_px], dtype=np.float32)
        return (points_xy * np.float32(self.scale) + offset).astype(np.float32)


def plan_letterbox(source_hw: tuple[int, int], input_hw: tuple[int, int]) -> LetterboxTransform:
    """Compute the aspect-preserving scale that fits ``source_hw`` inside ``input_hw``."""
    source_h, source_w = source_hw
    input_h, input_w = input_hw
    if source_h <= 0 or source_w <= 0:
        raise ValueError(f"source size must be positive, got {source_hw}")
    if input_h % INPUT_MULTIPLE_PX or input_w % INPUT_MULTIPLE_PX or input_h <= 0 or input_w <= 0:
        raise ValueError(f"detector input size must be positive multiples of 32, got {input_hw}")
    scale = min(input_h / source_h, input_w / source_w)
    resized_hw = (
        min(input_h, max(1, round(source_h * scale))),
        min(input_w, max(1, round(source_w * scale))),
    )
    return LetterboxTransform(
        source_hw=(source_h, source_w), input_hw=(input_h, input_w), scale=scale, resized_hw=resized_hw
    )


def fitted_input_hw(source_hw: tuple[int, int], bound_hw: tuple[int, int]) -> tuple[int, int]:
    """The smallest detector input (multiples of 32, within ``bound_hw``) that holds ``source_hw`` scaled to fit
    ``bound_hw``: a 1280x720 frame goes in as 320x192 rather than 320x320, at the same scale."""
    plan = plan_letterbox(source_hw, bound_hw)
    return (
        min(bound_hw[0], -(-plan.resized_hw[0] // INPUT_MULTIPLE_PX) * INPUT_MULTIPLE_PX),
        min(bound_hw[1], -(-plan.resized_hw[1] // INPUT_MULTIPLE_PX) * INPUT_MULTIPLE_PX),
    )


def letterbox(
    images: npt.NDArray[np.uint8] | Sequence[npt.NDArray[np.uint8]],
    input_hw: tuple[int, int] = DEFAULT_DETECTOR_INPUT_HW,
) -> tuple[npt.NDArray[np.uint8], LetterboxTransform]:
    """Resize (N, H, W, 3) uint8 frames keeping aspect ratio to fit ``input_hw`` and zero-pad them to the next
    multiples of 32 (``fitted_input_hw``).

    Returns the (N, fitted_h, fitted_w, 3) uint8 batch and the transform that maps detections back.
    """
    transform = plan_frames(images, input_hw)
    return pad_to_input([shrink(image, transform) for image in images], transform), transform


def plan_frames(
    images: npt.NDArray[np.uint8] | Sequence[npt.NDArray[np.uint8]],
    input_hw: tuple[int, int] = DEFAULT_DETECTOR_INPUT_HW,
) -> LetterboxTransform:
    """The letterbox of frames of one size: (N, H, W, 3) uint8, as an array or a sequence of (H, W, 3)."""
    if len(images) == 0:
        raise ValueError("no frames to letterbox")
    first = images[0]
    for image in images:
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or image.shape != first.shape:
            raise ValueError(
                f"images must be uint8 (N, H, W, 3) of one size, got {image.dtype} {image.shape} "
                f"beside {first.shape}"
            )
    source_hw = (int(first.shape[0]), int(first.shape[1]))
    return plan_letterbox(source_hw, fitted_input_hw(source_hw, input_hw))


def shrink(image: npt.NDArray[np.uint8], transform: LetterboxTransform) -> npt.NDArray[np.uint8]:
    """One (H, W, 3) frame scaled to ``transform.resized_hw``: area averaging when it shrinks, bilinear when it
    grows, the frame itself when the size is right."""
    if transform.resized_hw == transform.source_hw:
        return image
    resized_h, resized_w = transform.resized_hw
    interpolation = SHRINK_INTERPOLATION if transform.scale < 1.0 else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(image, (resized_w, resized_h), interpolation=interpolation), dtype=np.uint8)


def pad_to_input(
    resized: Sequence[npt.NDArray[np.uint8]], transform: LetterboxTransform
) -> npt.NDArray[np.uint8]:
    """The detector batch (N, input_h, input_w, 3) of frames already ``shrink``-ed, zero-padded bottom and right."""
    resized_h, resized_w = transform.resized_hw
    batch = np.zeros((len(resized), *transform.input_hw, 3), dtype=np.uint8)
    for index, image in enumerate(resized):
        batch[index, :resized_h, :resized_w] = image
    return batch


def suppress_non_maxima(
    boxes_xyxy: npt.NDArray[np.float32], scores: npt.NDArray[np.float32], iou_threshold: float
) -> npt.NDArray[np.int64]:
    """Greedy NMS: indices of the boxes kept, best score first.

    A box whose IoU with an already kept box is >= ``iou_threshold`` is dropped.
    """
    if len(boxes_xyxy) == 0:
        return np.zeros((0,), dtype=np.int64)
    x1, y1, x2, y2 = (boxes_xyxy[:, column].astype(np.float64) for column in range(4))
    areas = np.maximum(x2 - x1, 0.0) * np.maximum(y2 - y1, 0.0)
    order = np.argsort(-scores, kind="stable")
    kept: list[int] = []
    while order.size > 0:
        best = int(order[0])
        kept.append(best)
        rest = order[1:]
        inter_w = np.maximum(np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]), 0.0)
        inter_h = np.maximum(np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]), 0.0)
        intersection = inter_w * inter_h
        union = areas[best] + areas[rest] - intersection
        iou = np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)
        order = rest[iou < iou_threshold]
    return np.asarray(kept, dtype=np.int64)


def decode_centerface(
    heatmap: npt.NDArray[np.float32],
    scale: npt.NDArray[np.float32],
    offset: npt.NDArray[np.float32],
    landmarks: npt.NDArray[np.float32],
    transform: LetterboxTransform | Sequence[LetterboxTransform],
    score_threshold: float = DEFAULT_SCORE_THRESHOLD,
    nms_iou: float = DEFAULT_NMS_IOU,
    max_faces: int = DEFAULT_MAX_FACES,
) -> list[list[FaceBox]]:
    """Turn CenterFace maps into faces, one list per image, best first, in original-frame pixels (clipped).

    ``transform`` is one letterbox transform for the whole batch or one per image.
    """
    count = heatmap.shape[0]
    transforms = [transform] * count if isinstance(transform, LetterboxTransform) else list(transform)
    if len(transforms) != count:
        raise ValueError(f"got {len(transforms)} transforms for {count} images")
    return [
        decode_image(
            heatmap[i, 0],
            scale[i],
            offset[i],
            landmarks[i],
            transforms[i],
            score_threshold,
            nms_iou,
            max_faces,
        )
        for i in range(count)
    ]


def decode_image(
    heatmap: npt.NDArray[np.float32],
    scale: npt.NDArray[np.float32],
    offset: npt.NDArray[np.float32],
    landmarks: npt.NDArray[np.float32],
    transform: LetterboxTransform,
    score_threshold: float,
    nms_iou: float,
    max_faces: int,
) -> list[FaceBox]:
    """Decode one image's maps: heatmap (h, w), scale (2, h, w), offset (2, h, w), landmarks (10, h, w)."""
    rows, cols = np.nonzero(heatmap > score_threshold)
    if rows.size == 0:
        return []
    scores = heatmap[rows, cols].astype(np.float32)
    box_h = np.exp(scale[0, rows, cols]) * DETECTOR_STRIDE_PX
    box_w = np.exp(scale[1, rows, cols]) * DETECTOR_STRIDE_PX
    center_y = (rows + offset[0, rows, cols] + 0.5) * DETECTOR_STRIDE_PX
    center_x = (cols + offset[1, rows, cols] + 0.5) * DETECTOR_STRIDE_PX
    left = center_x - box_w / 2.0
    top = center_y - box_h / 2.0
    corners = np.stack([left, top, left + box_w, top + box_h], axis=1).astype(np.float32)
    keep = suppress_non_maxima(corners, scores, nms_iou)[:max_faces]
    points_y = landmarks[0::2, rows, cols].T * box_h[:, None] + top[:, None]
    points_x = landmarks[1::2, rows, cols].T * box_w[:, None] + left[:, None]
    points = np.stack([points_x, points_y], axis=2).astype(np.float32)  # (K, 5, 2)

    source_h, source_w = transform.source_hw
    source_corners = transform.to_source(corners[keep].reshape(-1, 2, 2)).reshape(-1, 4)
    source_corners[:, 0::2] = np.clip(source_corners[:, 0::2], 0.0, float(source_w))
    source_corners[:, 1::2] = np.clip(source_corners[:, 1::2], 0.0, float(source_h))
    source_points = transform.to_source(points[keep])
    faces = []
    for corner, score, points_xy in zip(source_corners, scores[keep], source_points, strict=True):
        if corner[2] <= corner[0] or corner[3] <= corner[1]:
            continue
        faces.append(
            FaceBox(
                x1=float(corner[0]),
                y1=float(corner[1]),
                x2=float(corner[2]),
                y2=float(corner[3]),
                score=float(score),
                landmarks=points_xy,
            )
        )
    return faces
