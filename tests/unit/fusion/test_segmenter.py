"""Hysteresis segmentation of a score over time, in one go and incrementally."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from laughter_server.fusion.segmenter import HysteresisSegmenter, Span, segment_scores

STEP_S = 0.1
PARAMS = {"enter": 0.5, "exit": 0.35, "min_duration_s": 0.25, "max_gap_s": 0.4, "step_s": STEP_S}


def timeline(*values: float) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Times on the 0.1 s grid and the given scores."""
    scores = np.array(values, dtype=np.float64)
    return np.arange(scores.size) * STEP_S, scores


def piecewise(
    n: int, *pieces: tuple[int, int, float], base: float = 0.0
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """A timeline of ``n`` samples at ``base`` with ``[start, stop)`` index ranges set to a value."""
    scores = np.full(n, base)
    for start, stop, value in pieces:
        scores[start:stop] = value
    return np.arange(n) * STEP_S, scores


def as_tuples(spans: list[Span]) -> list[tuple[float, float, float, float]]:
    """Spans as rounded tuples for comparison."""
    return [
        (round(s.start_s, 6), round(s.end_s, 6), round(s.peak_s, 6), round(s.peak_score, 6)) for s in spans
    ]


class TestSegmentScores:
    """segment_scores cuts spans with enter/exit hysteresis, gap merging and a minimum duration."""

    def test_opens_at_enter_and_closes_below_exit(self) -> None:
        """A span starts where the score reaches enter and lasts while it stays at least exit."""
        times, scores = timeline(0.0, 0.4, 0.6, 0.4, 0.36, 0.3, 0.0, 0.0, 0.0, 0.0, 0.0)
        spans = segment_scores(times, scores, **PARAMS)
        assert len(spans) == 1
        assert spans[0].start_s == pytest.approx(0.2)
        assert spans[0].end_s == pytest.approx(0.5)

    def test_score_between_thresholds_never_opens(self) -> None:
        """Scores between exit and enter do not start a span."""
        times, scores = piecewise(30, base=0.49)
        assert segment_scores(times, scores, **PARAMS) == []

    def test_exactly_enter_opens(self) -> None:
        """A score equal to enter opens a span (>=)."""
        times, scores = piecewise(20, (5, 10, 0.5))
        spans = segment_scores(times, scores, **PARAMS)
        assert [(s.start_s, s.end_s) for s in spans] == [pytest.approx((0.5, 1.0))]

    def test_peak_is_the_highest_score(self) -> None:
        """peak_s and peak_score name the highest sample of the span."""
        times, scores = timeline(0.0, 0.6, 0.7, 0.95, 0.8, 0.4, 0.0, 0.0, 0.0, 0.0, 0.0)
        (span,) = segment_scores(times, scores, **PARAMS)
        assert span.peak_s == pytest.approx(0.3)
        assert span.peak_score == pytest.approx(0.95)

    def test_short_gap_merges(self) -> None:
        """Two bursts 0.3 s apart (below max_gap_s) become one span with the higher peak."""
        times, scores = piecewise(40, (5, 10, 0.6), (13, 18, 0.9))
        spans = segment_scores(times, scores, **PARAMS)
        assert as_tuples(spans) == [(0.5, 1.8, 1.3, 0.9)]

    def test_long_gap_splits(self) -> None:
        """Two bursts 0.6 s apart (above max_gap_s) stay separate."""
        times, scores = piecewise(40, (5, 10, 0.6), (16, 21, 0.9))
        spans = segment_scores(times, scores, **PARAMS)
        assert as_tuples(spans) == [(0.5, 1.0, 0.5, 0.6), (1.6, 2.1, 1.6, 0.9)]

    def test_too_short_span_is_dropped(self) -> None:
        """A single 0.1 s sample above enter is below min_duration_s and yields nothing."""
        times, scores = piecewise(20, (5, 6, 0.9))
        assert segment_scores(times, scores, **PARAMS) == []

    def test_merged_short_bursts_can_reach_min_duration(self) -> None:
        """Short bursts close together merge into a span long enough to keep."""
        times, scores = piecewise(30, (5, 6, 0.9), (8, 9, 0.9))
        params = dict(PARAMS, min_duration_s=0.35)
        spans = segment_scores(times, scores, **params)
        assert [(s.start_s, s.end_s) for s in spans] == [pytest.approx((0.5, 0.9))]

    def test_span_open_at_the_end_is_closed(self) -> None:
        """A span still above exit at the last sample ends one step after it."""
        times, scores = piecewise(10, (6, 10, 0.8))
        (span,) = segment_scores(times, scores, **PARAMS)
        assert span.start_s == pytest.approx(0.6)
        assert span.end_s == pytest.approx(1.0)

    def test_rejects_exit_above_enter(self) -> None:
        """Thresholds must satisfy 0 <= exit <= enter <= 1."""
        with pytest.raises(ValueError, match="thresholds"):
            HysteresisSegmenter(enter=0.4, exit=0.5, min_duration_s=0.1, max_gap_s=0.1, step_s=STEP_S)


def random_scores(rng: np.random.Generator, n: int) -> npt.NDArray[np.float64]:
    """A smooth random score in [0, 1] that crosses both thresholds now and then."""
    walk = np.cumsum(rng.normal(0.0, 0.12, n))
    scores: npt.NDArray[np.float64] = np.clip(0.4 + 0.5 * np.sin(walk), 0.0, 1.0)
    return scores


class TestHysteresisSegmenter:
    """The incremental segmenter gives exactly the batch result and reports the span in progress."""

    @pytest.mark.parametrize("seed", range(40))
    def test_random_pieces_equal_batch(self, seed: int) -> None:
        """Pushing the same samples in random-sized pieces gives exactly segment_scores' spans."""
        rng = np.random.default_rng(seed)
        n = int(rng.integers(20, 400))
        times = np.arange(n) * STEP_S
        scores = random_scores(rng, n)
        expected = segment_scores(times, scores, **PARAMS)
        segmenter = HysteresisSegmenter(**PARAMS)
        got: list[Span] = []
        position = 0
        while position < n:
            size = int(rng.integers(0, 25))
            got.extend(segmenter.push(times[position : position + size], scores[position : position + size]))
            position += size
        got.extend(segmenter.flush())
        assert got == expected

    def test_random_inputs_produce_spans(self) -> None:
        """The random generator above exercises real spans, not only empty results."""
        rng = np.random.default_rng(7)
        counts = [
            len(segment_scores(np.arange(300) * STEP_S, random_scores(rng, 300), **PARAMS)) for _ in range(5)
        ]
        assert sum(counts) >= 5

    def test_span_is_final_only_after_a_long_gap(self) -> None:
        """push returns a span once more than max_gap_s has passed below exit, not before."""
        times, scores = piecewise(30, (5, 10, 0.8))
        segmenter = HysteresisSegmenter(**PARAMS)
        assert segmenter.push(times[:14], scores[:14]) == []  # 0.3 s after the end: could still merge
        done = segmenter.push(times[14:16], scores[14:16])
        assert [(s.start_s, s.end_s) for s in done] == [pytest.approx((0.5, 1.0))]
        assert segmenter.flush() == []

    def test_open_span_reports_progress(self) -> None:
        """open_span is None before a span, then the span so far, then None after it is final."""
        times, scores = piecewise(30, (5, 12, 0.8))
        scores[8] = 0.95
        segmenter = HysteresisSegmenter(**PARAMS)
        segmenter.push(times[:5], scores[:5])
        assert segmenter.open_span is None
        segmenter.push(times[5:10], scores[5:10])
        progress = segmenter.open_span
        assert progress is not None
        assert (progress.start_s, progress.end_s) == pytest.approx((0.5, 1.0))
        assert (progress.peak_s, progress.peak_score) == pytest.approx((0.8, 0.95))
        segmenter.push(times[10:14], scores[10:14])  # closed, pending a possible merge
        pending = segmenter.open_span
        assert pending is not None
        assert (pending.start_s, pending.end_s) == pytest.approx((0.5, 1.2))
        segmenter.push(times[14:], scores[14:])
        assert segmenter.open_span is None

    def test_open_span_spans_a_pending_merge(self) -> None:
        """While a second burst is open within max_gap_s, open_span starts at the first burst."""
        times, scores = piecewise(30, (5, 8, 0.9), (10, 20, 0.6))
        segmenter = HysteresisSegmenter(**PARAMS)
        segmenter.push(times[:12], scores[:12])
        progress = segmenter.open_span
        assert progress is not None
        assert (progress.start_s, progress.end_s) == pytest.approx((0.5, 1.2))
        assert progress.peak_score == pytest.approx(0.9)


class TestMaxDuration:
    """A span that reaches max_duration_s is ended there and counted."""

    def test_long_span_is_split(self) -> None:
        """12 s above the threshold with a 5 s cap: spans of 5, 5 and 2 s, two splits, same as batch."""
        times = np.arange(0.0, 12.0, 0.1)
        scores = np.full(times.shape, 0.9)
        segmenter = HysteresisSegmenter(0.5, 0.35, 0.3, 0.4, 0.1, max_duration_s=5.0)
        spans = segmenter.push(times, scores) + segmenter.flush()
        assert [round(s.end_s - s.start_s, 6) for s in spans] == [5.0, 5.0, 2.0]
        assert segmenter.splits == 2
        batch = segment_scores(
            times,
            scores,
            enter=0.5,
            exit=0.35,
            min_duration_s=0.3,
            max_gap_s=0.4,
            step_s=0.1,
            max_duration_s=5.0,
        )
        assert batch == spans

    def test_no_cap_by_default(self) -> None:
        """Without a cap the same input is one span."""
        times = np.arange(0.0, 12.0, 0.1)
        segmenter = HysteresisSegmenter(0.5, 0.35, 0.3, 0.4, 0.1)
        spans = segmenter.push(times, np.full(times.shape, 0.9)) + segmenter.flush()
        assert len(spans) == 1
        assert segmenter.splits == 0

    def test_cap_must_exceed_the_minimum(self) -> None:
        """A cap not above the minimum duration is refused."""
        with pytest.raises(ValueError, match="max_duration_s"):
            HysteresisSegmenter(0.5, 0.35, 0.3, 0.4, 0.1, max_duration_s=0.3)
