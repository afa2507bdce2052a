"""Tests of the laughter segmenter (batch and streaming)."""

from __future__ import annotations

import numpy as np
import pytest
from laughter_server.audio.scores import WindowScores
from laughter_server.audio.segments import (
    SegmenterSettings,
    SegmentPhase,
    StreamingSegmenter,
    segment_laughter,
)

HOP_S = 0.25


def make_scores(probabilities: list[float], start_s: float = 0.5) -> WindowScores:
    """Window scores a hop apart, at -20 dBFS and 4 bursts per second."""
    count = len(probabilities)
    return WindowScores(
        centers_s=start_s + HOP_S * np.arange(count),
        probabilities=np.array(probabilities, dtype=np.float32),
        rms_dbfs=np.full(count, -20.0, np.float32),
        burst_rate_hertz=np.full(count, 4.0, np.float32),
        window_s=1.0,
        hop_s=HOP_S,
    )


# (probabilities, kwargs, expected (start_s, end_s) list); window k spans 0.375 + 0.25 k .. 0.625 + 0.25 k
RULES = [
    ([0.1, 0.9, 0.9, 0.1], {}, [(0.625, 1.125)]),
    ([0.1, 0.9, 0.1, 0.1], {}, []),  # 0.25 s < min duration 0.3 s
    ([0.1, 0.9, 0.1, 0.1], {"min_duration_s": 0.2}, [(0.625, 0.875)]),
    ([0.9, 0.9, 0.1, 0.9, 0.9], {}, [(0.375, 1.625)]),  # 0.25 s gap merged
    ([0.9, 0.9, 0.1, 0.1, 0.9, 0.9], {}, [(0.375, 0.875), (1.375, 1.875)]),  # 0.5 s gap kept
    ([0.9, 0.9, 0.1, 0.1, 0.9, 0.9], {"max_gap_s": 0.5}, [(0.375, 1.875)]),
    ([0.6, 0.4, 0.4, 0.6], {}, [(0.375, 1.375)]),  # hysteresis: 0.4 stays above exit 0.35
    ([0.6, 0.4, 0.4, 0.6], {"exit_threshold": 0.5, "min_duration_s": 0.2}, [(0.375, 0.625), (1.125, 1.375)]),
    ([0.3, 0.45, 0.45, 0.3], {}, []),  # never reaches the enter threshold
    ([0.45, 0.45, 0.45], {"threshold": 0.4}, [(0.375, 1.125)]),
]


class TestSegmentLaughter:
    """segment_laughter rules."""

    @pytest.mark.parametrize(("probabilities", "kwargs", "expected"), RULES)
    def test_rules(
        self, probabilities: list[float], kwargs: dict[str, float], expected: list[tuple[float, float]]
    ) -> None:
        """Hysteresis, gap merging and minimum duration give the expected spans."""
        segments = segment_laughter(make_scores(probabilities), **kwargs)
        spans = [bound for s in segments for bound in (s.start_s, s.end_s)]
        assert spans == pytest.approx([bound for span in expected for bound in span])

    def test_segment_statistics(self) -> None:
        """Peak, mean probability, loudness and burst rate describe the segment's windows."""
        scores = make_scores([0.1, 0.6, 0.95, 0.7, 0.1])
        loudness = np.array([-40.0, -20.0, -10.0, -20.0, -40.0], np.float32)
        scores = WindowScores(
            scores.centers_s,
            scores.probabilities,
            loudness,
            np.array([0, 3, 5, 4, 0], np.float32),
            1.0,
            HOP_S,
        )
        (segment,) = segment_laughter(scores)
        assert segment.peak_s == pytest.approx(1.0)
        assert segment.peak_probability == pytest.approx(0.95)
        assert segment.mean_probability == pytest.approx((0.6 + 0.95 + 0.7) / 3, abs=1e-6)
        expected_dbfs = 10 * np.log10(np.mean(10 ** (np.array([-20.0, -10.0, -20.0]) / 10)))
        assert segment.loudness_dbfs == pytest.approx(expected_dbfs, abs=1e-4)
        assert segment.burst_rate_hertz == pytest.approx(4.0)
        assert segment.duration_s == pytest.approx(0.75)

    def test_empty_scores(self) -> None:
        """No windows, no segments."""
        assert segment_laughter(make_scores([])) == []


class TestStreamingSegmenter:
    """StreamingSegmenter incremental behaviour."""

    @pytest.mark.parametrize("piece", [1, 2, 3, 7])
    def test_pieces_equal_batch(self, piece: int) -> None:
        """Pushing windows in pieces gives exactly the batch segments."""
        rng = np.random.default_rng(piece)
        probabilities = np.clip(np.repeat(rng.random(30), 3) + rng.normal(0, 0.1, 90), 0, 1).tolist()
        scores = make_scores(probabilities)
        batch = segment_laughter(scores)
        assert len(batch) >= 2
        segmenter = StreamingSegmenter(SegmenterSettings())
        updates = []
        for start in range(0, scores.count, piece):
            updates += segmenter.push(scores.slice(start, start + piece))
        updates += segmenter.flush()
        ended = [u.segment for u in updates if u.phase is SegmentPhase.ENDED]
        assert ended == batch

    def test_phases_in_order(self) -> None:
        """A segment is announced once as STARTED, may be ONGOING, and ENDED after the gap passes."""
        segmenter = StreamingSegmenter(SegmenterSettings())
        scores = make_scores([0.1, 0.9, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1])
        phases = []
        for index in range(scores.count):
            phases += [u.phase for u in segmenter.push(scores.slice(index, index + 1))]
        phases += [u.phase for u in segmenter.flush()]
        assert phases[0] is SegmentPhase.STARTED
        assert phases.count(SegmentPhase.STARTED) == 1
        assert phases[-1] is SegmentPhase.ENDED
        assert phases.count(SegmentPhase.ENDED) == 1
        assert set(phases[1:-1]) <= {SegmentPhase.ONGOING}

    def test_flush_closes_open_segment(self) -> None:
        """A segment still open at the end of the stream is ended by flush."""
        segmenter = StreamingSegmenter()
        updates = segmenter.push(make_scores([0.9, 0.9, 0.9]))
        assert [u.phase for u in updates] == [SegmentPhase.STARTED]
        (ended,) = segmenter.flush()
        assert ended.phase is SegmentPhase.ENDED
        assert ended.segment.end_s == pytest.approx(1.125)
