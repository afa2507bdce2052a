"""Stable face ids across frames: greedy IoU matching with a centre-distance fallback, tracks expire after a
gap. Works on normalized boxes so it does not care about frame size."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

Box = tuple[float, float, float, float]  # left, top, right, bottom in [0, 1]


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _centre_distance(a: Box, b: Box) -> float:
    """Distance of the centres in units of the larger box's width."""
    ax, ay = (a[0] + a[2]) / 2, (a[1] + a[3]) / 2
    bx, by = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    scale = max(a[2] - a[0], b[2] - b[0], 1e-6)
    return float(np.hypot(ax - bx, ay - by) / scale)


@dataclasses.dataclass
class _Track:
    face_id: int
    box: Box
    last_seen_s: float


class FaceTracker:
    """Assigns a face id to every box, frame after frame (``assign``), keeping ids stable while a face moves."""

    def __init__(
        self, min_iou: float = 0.2, max_centre_distance: float = 0.6, max_gap_s: float = 2.0
    ) -> None:
        self.min_iou = min_iou
        self.max_centre_distance = max_centre_distance
        self.max_gap_s = max_gap_s
        self._tracks: list[_Track] = []
        self._next_id = 0

    def assign(self, time_s: float, boxes: Sequence[Box]) -> list[int]:
        """Face ids for ``boxes`` seen at ``time_s`` (same order); new faces get new ids."""
        self._tracks = [t for t in self._tracks if time_s - t.last_seen_s <= self.max_gap_s]
        pairs = []
        for ti, track in enumerate(self._tracks):
            for bi, box in enumerate(boxes):
                overlap = iou(track.box, box)
                distance = _centre_distance(track.box, box)
                if overlap >= self.min_iou or distance <= self.max_centre_distance:
                    pairs.append((overlap - 0.1 * distance, ti, bi))
        pairs.sort(reverse=True)
        ids: list[int | None] = [None] * len(boxes)
        used_tracks: set[int] = set()
        for _, ti, bi in pairs:
            if ti in used_tracks or ids[bi] is not None:
                continue
            used_tracks.add(ti)
            track = self._tracks[ti]
            track.box, track.last_seen_s = boxes[bi], time_s
            ids[bi] = track.face_id
        for bi, box in enumerate(boxes):
            if ids[bi] is None:
                self._tracks.append(_Track(self._next_id, box, time_s))
                ids[bi] = self._next_id
                self._next_id += 1
        return [i for i in ids if i is not None]
