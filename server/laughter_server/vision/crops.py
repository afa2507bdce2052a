"""Face crops for the emotion models: square, uint8; grayscale 64x64 for ``face_emotion`` (version 1), RGB
112x112 for ``face_expression`` (version 2)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from laughter_server.vision.detection import FaceBox

EMOTION_INPUT_SIZE_PX = 64
"""The emotion model's crop side in pixels."""

DEFAULT_CROP_MARGIN = 0.0
"""Extra context on each side, as a fraction of the box's longer side. The square on the longer side of
CenterFace's tall box is already about the tight FER-2013 framing the model was trained on; wider crops
(hair, neck) raised the happy score of talking faces on the dev videos (docs/vision-model.md)."""

MIRROR_AVERAGE = True
"""Average each face's emotion probabilities over its crop and the crop's mirror image (docs/vision-model.md)."""


def square_around(face: FaceBox, margin: float) -> tuple[int, int, int, int]:
    """Integer (x1, y1, x2, y2) of the square centred on the box, side = longer box side * (1 + 2 * margin).

    The square may extend past the frame; the caller pads.
    """
    center_x, center_y = face.center
    side = max(face.width, face.height) * (1.0 + 2.0 * margin)
    side_px = max(1, round(side))
    x1 = round(center_x - side_px / 2.0)
    y1 = round(center_y - side_px / 2.0)
    return x1, y1, x1 + side_px, y1 + side_px


def crop_face(
    image: npt.NDArray[np.uint8], face: FaceBox, size: int, margin: float, channels: int = 1
) -> npt.NDArray[np.uint8]:
    """One (size, size) grayscale crop (``channels`` 1) or (size, size, 3) RGB crop (``channels`` 3) of an
    (H, W, 3) RGB frame; parts outside the frame repeat the edge."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = square_around(face, margin)
    inside_x1, inside_y1 = max(x1, 0), max(y1, 0)
    inside_x2, inside_y2 = min(x2, width), min(y2, height)
    if inside_x2 <= inside_x1 or inside_y2 <= inside_y1:
        raise ValueError(f"face box {face} lies outside the {width}x{height} frame")
    inside = np.ascontiguousarray(image[inside_y1:inside_y2, inside_x1:inside_x2])
    pixels = inside if channels == 3 else cv2.cvtColor(inside, cv2.COLOR_RGB2GRAY)
    if (inside_x1, inside_y1, inside_x2, inside_y2) != (x1, y1, x2, y2):
        pixels = cv2.copyMakeBorder(
            pixels, inside_y1 - y1, y2 - inside_y2, inside_x1 - x1, x2 - inside_x2, cv2.BORDER_REPLICATE
        )
    resized = cv2.resize(pixels, (size, size), interpolation=cv2.INTER_AREA)
    return np.asarray(resized, dtype=np.uint8)


def crop_faces(
    images: npt.NDArray[np.uint8],
    boxes: Sequence[Sequence[FaceBox]],
    size: int = EMOTION_INPUT_SIZE_PX,
    margin: float = DEFAULT_CROP_MARGIN,
    channels: int = 1,
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """Crop every face of every frame.

    ``images`` is (N, H, W, 3) RGB uint8 and ``boxes`` holds one list of faces per frame (original-frame
    pixels, as ``decode_centerface`` returns them). Returns crops (M, size, size, channels) uint8 (grayscale
    for 1 channel, RGB for 3) and, for each
    crop, the index of its frame (M,) int64, in frame order then face order.
    """
    if images.ndim != 4 or images.shape[3] != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (N, H, W, 3), got {images.dtype} {images.shape}")
    if len(boxes) != images.shape[0]:
        raise ValueError(f"got face lists for {len(boxes)} frames, expected {images.shape[0]}")
    total = sum(len(faces) for faces in boxes)
    if channels not in (1, 3):
        raise ValueError(f"crops have 1 (grayscale) or 3 (RGB) channels, not {channels}")
    crops = np.empty((total, size, size, channels), dtype=np.uint8)
    frame_index = np.empty((total,), dtype=np.int64)
    position = 0
    for index, faces in enumerate(boxes):
        for face in faces:
            crops[position] = crop_face(images[index], face, size, margin, channels).reshape(
                size, size, channels
            )
            frame_index[position] = index
            position += 1
    return crops, frame_index


def with_mirrors(crops: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The (M, S, S, C) crops followed by their left-right mirror images: (2M, S, S, C)."""
    return np.concatenate([crops, crops[:, :, ::-1]])


def average_mirrors(probabilities: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Mean of the scores of each crop and its mirror, for (2M, K) scores of ``with_mirrors`` crops."""
    half = len(probabilities) // 2
    if len(probabilities) != 2 * half:
        raise ValueError(f"expected scores for crops and their mirrors, got {len(probabilities)} rows")
    mean = (probabilities[:half] + probabilities[half:]) / 2.0
    return np.asarray(mean, dtype=np.float32)
