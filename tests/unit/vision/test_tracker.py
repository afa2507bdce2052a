"""Face tracking across frames: stable ids, distinct ids, expiry."""

from __future__ import annotations

import pytest
from laughter_server.vision.tracker import Box, FaceTracker, iou

FRAME_PERIOD_S = 0.2


def box(centre_x: float, centre_y: float, width: float = 0.15, height: float = 0.2) -> Box:
    """A normalized box around a centre."""
    return (centre_x - width / 2, centre_y - height / 2, centre_x + width / 2, centre_y + height / 2)


class TestIou:
    """iou of two boxes."""

    @pytest.mark.parametrize(
        ("a", "b", "expected"),
        [
            ((0.0, 0.0, 0.5, 0.5), (0.0, 0.0, 0.5, 0.5), 1.0),
            ((0.0, 0.0, 0.5, 0.5), (0.5, 0.5, 1.0, 1.0), 0.0),
            ((0.0, 0.0, 0.4, 0.4), (0.2, 0.0, 0.6, 0.4), 1.0 / 3.0),
            ((0.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0), 0.0),
        ],
    )
    def test_values(self, a: Box, b: Box, expected: float) -> None:
        """Identical, disjoint, half-shifted and empty boxes."""
        assert iou(a, b) == pytest.approx(expected)


class TestFaceTracker:
    """FaceTracker keeps ids stable while faces move and expires them after a gap."""

    def test_moving_face_keeps_its_id(self) -> None:
        """A face drifting across the frame keeps id 0 over 50 frames."""
        tracker = FaceTracker()
        ids = [tracker.assign(k * FRAME_PERIOD_S, [box(0.2 + 0.012 * k, 0.4 + 0.004 * k)]) for k in range(50)]
        assert ids == [[0]] * 50

    def test_new_face_gets_a_new_id(self) -> None:
        """A second face appearing far away gets the next id; the first keeps its own."""
        tracker = FaceTracker()
        assert tracker.assign(0.0, [box(0.2, 0.4)]) == [0]
        assert tracker.assign(0.2, [box(0.8, 0.4), box(0.21, 0.4)]) == [1, 0]

    def test_crossing_faces_keep_distinct_ids(self) -> None:
        """Two faces crossing slowly (one slightly lower) keep their own ids throughout."""
        tracker = FaceTracker()
        for k in range(41):
            x_a, x_b = 0.2 + 0.6 * k / 40, 0.8 - 0.6 * k / 40
            assert tracker.assign(k * FRAME_PERIOD_S, [box(x_a, 0.4), box(x_b, 0.5)]) == [0, 1]

    def test_crossing_on_one_line(self) -> None:
        """Faces crossing on the same line never share an id and are themselves again after crossing."""
        tracker = FaceTracker()
        history = []
        for k in range(41):
            x_a, x_b = 0.2 + 0.6 * k / 40, 0.8 - 0.6 * k / 40
            history.append(tracker.assign(k * FRAME_PERIOD_S, [box(x_a, 0.4), box(x_b, 0.4)]))
        assert all(len(set(ids)) == 2 for ids in history)
        assert {i for ids in history for i in ids} == {0, 1}
        assert history[:15] == [[0, 1]] * 15
        assert history[-15:] == [[0, 1]] * 15

    def test_id_survives_a_short_gap(self) -> None:
        """A face missing for less than max_gap_s comes back with its id."""
        tracker = FaceTracker(max_gap_s=2.0)
        assert tracker.assign(0.0, [box(0.5, 0.5)]) == [0]
        assert tracker.assign(1.0, []) == []
        assert tracker.assign(1.9, [box(0.52, 0.5)]) == [0]

    def test_id_expires_after_max_gap(self) -> None:
        """A face unseen for longer than max_gap_s gets a new id at the same place."""
        tracker = FaceTracker(max_gap_s=2.0)
        assert tracker.assign(0.0, [box(0.5, 0.5)]) == [0]
        assert tracker.assign(2.5, [box(0.5, 0.5)]) == [1]
        assert tracker.assign(2.7, [box(0.5, 0.5)]) == [1]

    def test_distant_jump_is_a_new_face(self) -> None:
        """A box far from every track is a new face, not the old one jumping."""
        tracker = FaceTracker()
        tracker.assign(0.0, [box(0.1, 0.1)])
        assert tracker.assign(0.2, [box(0.9, 0.9)]) == [1]

    def test_ids_in_box_order(self) -> None:
        """Ids come back in the order of the boxes passed in."""
        tracker = FaceTracker()
        tracker.assign(0.0, [box(0.2, 0.4), box(0.8, 0.4)])
        assert tracker.assign(0.2, [box(0.8, 0.4), box(0.2, 0.4)]) == [1, 0]
