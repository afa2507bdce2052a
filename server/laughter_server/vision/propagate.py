"""Carry face boxes between detector runs: a scene-cut test and box propagation by optical flow.

Both work on a small gray copy of each analysed frame (``thumbnail``), so they cost a fraction of a
detector call. The face stage runs the detector every ``detect_every`` analysed frames (counted from the
first) and on a cut; on the other frames ``BoxPropagator.propagate`` carries the previous frame's boxes, or
answers None when a box is no longer followed with confidence (the detector then runs on that frame too).
Decisions depend only on the frames' pixels and order, never on how the frames were grouped into calls.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import numpy.typing as npt

from laughter_server.vision.detection import SHRINK_INTERPOLATION, FaceBox

FLOW_WIDTH_PX = 320
"""Width of the gray frame optical flow runs on (height follows the aspect ratio)."""
CUT_SIDE_PX = 32
"""Side of the tiny frame the cut test compares."""
CUT_CORRELATION = 0.5
"""Correlation of the tiny frames' pixels below which the scene has cut (consecutive frames of one shot
stay above 0.6 at 2 frames/s in the sample and the dev videos; a frame against its mirror image is near 0)."""
MIN_POINTS = 6
"""Fewest followed corner points that still move a box."""
MIN_CONFIDENCE = 0.6
"""Share of a box's corner points followed there and back within ``MAX_BACK_ERROR_PX``."""
MAX_BACK_ERROR_PX = 1.0
"""Forward-backward error (flow-frame pixels) above which a point is not trusted."""
MAX_SCALE_STEP = 0.15
"""Largest change of box size between two analysed frames before the detector is asked again."""

SCALE_DEAD_BAND = 0.03
"""Size changes below this are taken as noise."""

LK_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03)
"""Lucas-Kanade iterations: 20 steps or 0.03 px."""


def _flow(
    source: npt.NDArray[np.uint8], target: npt.NDArray[np.uint8], points: npt.NDArray[np.float32]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8]]:
    """Pyramidal Lucas-Kanade: where ``points`` of ``source`` went in ``target``, and whether each was found."""
    moved, status, _ = cv2.calcOpticalFlowPyrLK(
        source, target, points, points.copy(), winSize=(15, 15), maxLevel=3, criteria=LK_CRITERIA
    )
    return np.asarray(moved, dtype=np.float32), np.asarray(status, dtype=np.uint8)


@dataclasses.dataclass(frozen=True)
class Thumbnail:
    """A frame's gray flow image and its tiny cut-test image, with the scale back to frame pixels."""

    gray: npt.NDArray[np.uint8]
    tiny: npt.NDArray[np.float32]
    scale: float  # frame pixels per flow pixel


def thumbnail_size(image_hw: tuple[int, int]) -> tuple[int, int]:
    """The (height, width) of the gray flow image of a frame of ``image_hw``."""
    height, width = image_hw
    scale = max(1.0, width / FLOW_WIDTH_PX)
    return max(8, round(height / scale)), max(8, round(width / scale))


def thumbnail(image: npt.NDArray[np.uint8], shrunk: npt.NDArray[np.uint8] | None = None) -> Thumbnail:
    """The small gray copies of one RGB (H, W, 3) frame. ``shrunk``, when given, is the same frame already
    area-scaled (``SHRINK_INTERPOLATION``), as the detector's letterbox makes it: used when its size is the
    thumbnail's, so the frame is scaled once for both."""
    height, width = image.shape[:2]
    scale = max(1.0, width / FLOW_WIDTH_PX)
    size_hw = thumbnail_size((height, width))
    if shrunk is not None and shrunk.shape[:2] == size_hw:
        small = shrunk
    else:
        small = np.asarray(
            cv2.resize(image, (size_hw[1], size_hw[0]), interpolation=SHRINK_INTERPOLATION), dtype=np.uint8
        )
    gray = np.asarray(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    tiny = cv2.resize(gray, (CUT_SIDE_PX, CUT_SIDE_PX), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    return Thumbnail(gray=gray, tiny=tiny, scale=scale)


def is_cut(previous: Thumbnail, current: Thumbnail, threshold: float = CUT_CORRELATION) -> bool:
    """Whether the scene changed between two frames (a cut, a camera switch, a new frame size). A change
    of brightness or contrast alone (auto exposure) is not a cut: the test is a correlation."""
    if previous.gray.shape != current.gray.shape or previous.scale != current.scale:
        return True
    a = previous.tiny.ravel() - previous.tiny.mean()
    b = current.tiny.ravel() - current.tiny.mean()
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    if norm < 1e-6:  # a flat frame: a cut unless both are flat
        return float(np.linalg.norm(a) + np.linalg.norm(b)) > 1e-6
    return float(np.dot(a, b)) / norm < threshold


def move_box(previous: Thumbnail, current: Thumbnail, box: FaceBox) -> tuple[FaceBox, float]:
    """The box carried from ``previous`` to ``current`` by the flow of its corner points, and the confidence
    (0 when it cannot be followed)."""
    s = previous.scale
    height, width = previous.gray.shape
    x1, y1 = int(max(0, box.x1 / s)), int(max(0, box.y1 / s))
    x2, y2 = int(min(width, box.x2 / s)), int(min(height, box.y2 / s))
    if x2 - x1 < 4 or y2 - y1 < 4:
        return box, 0.0
    mask = np.zeros_like(previous.gray)
    mask[y1:y2, x1:x2] = 255
    corners = cv2.goodFeaturesToTrack(
        previous.gray, maxCorners=40, qualityLevel=0.01, minDistance=3, mask=mask
    )
    if corners is None or len(corners) < MIN_POINTS:
        return box, 0.0
    points = np.asarray(corners, dtype=np.float32)
    forward, status = _flow(previous.gray, current.gray, points)
    back, back_status = _flow(current.gray, previous.gray, forward)
    error = np.linalg.norm((points - back).reshape(-1, 2), axis=1)
    good = (status.reshape(-1) == 1) & (back_status.reshape(-1) == 1) & (error < MAX_BACK_ERROR_PX)
    confidence = float(good.mean())
    if int(good.sum()) < MIN_POINTS:
        return box, 0.0
    old = points.reshape(-1, 2)[good]
    new = forward.reshape(-1, 2)[good]
    shift = np.median(new - old, axis=0) * s
    # scale: median ratio of distances to the centroid
    old_spread = np.linalg.norm(old - old.mean(axis=0), axis=1)
    new_spread = np.linalg.norm(new - new.mean(axis=0), axis=1)
    valid = old_spread > 1.0
    ratio = float(np.median(new_spread[valid] / old_spread[valid])) if valid.any() else 1.0
    if abs(ratio - 1.0) > MAX_SCALE_STEP:
        return box, 0.0
    if abs(ratio - 1.0) < SCALE_DEAD_BAND:
        ratio = 1.0  # the spread of a few points is noisy: keep the size unless it clearly changed
    cx, cy = box.center
    ncx, ncy = cx + float(shift[0]), cy + float(shift[1])
    half_w, half_h = box.width * ratio / 2, box.height * ratio / 2
    landmarks = None
    if box.landmarks is not None:
        centre = np.array([cx, cy], dtype=np.float32)
        landmarks = ((box.landmarks - centre) * ratio + centre + shift).astype(np.float32)
    moved = FaceBox(
        x1=ncx - half_w,
        y1=ncy - half_h,
        x2=ncx + half_w,
        y2=ncy + half_h,
        score=box.score,
        landmarks=landmarks,
    )
    return moved, confidence


class BoxPropagator:
    """Decides, frame after frame, between running the detector and carrying the last boxes forward."""

    def __init__(self, detect_every: int) -> None:
        self.detect_every = max(1, detect_every)
        self._previous: Thumbnail | None = None
        self._boxes: list[FaceBox] = []
        self._since_detection = 0
        self.detections = 0
        self.propagations = 0

    @property
    def last(self) -> Thumbnail | None:
        """The thumbnail of the last frame recorded."""
        return self._previous

    @property
    def enabled(self) -> bool:
        return self.detect_every > 1

    def propagate(self, current: Thumbnail) -> list[FaceBox] | None:
        """The previous boxes moved to ``current``, or None when one of them is lost (detect instead)."""
        assert self._previous is not None
        moved: list[FaceBox] = []
        for box in self._boxes:
            new, confidence = move_box(self._previous, current, box)
            if confidence < MIN_CONFIDENCE:
                return None
            moved.append(new)
        return moved

    def accept(self, current: Thumbnail, boxes: list[FaceBox], *, detected: bool) -> None:
        """Record the boxes of ``current`` (detected or carried)."""
        self._previous = current
        self._boxes = boxes
        if detected:
            self._since_detection = 0
            self.detections += 1
        else:
            self._since_detection += 1
            self.propagations += 1
