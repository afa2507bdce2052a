"""summarise: counts, durations, confidence intervals, trend and dominant type."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from laughter_server.fusion.fuser import fuse_events
from laughter_server.fusion.summary import poisson_rate_interval, summarise, wilson_interval
from laughter_server.fusion.types import (
    EventEvidence,
    EvidenceSource,
    LaughterEvent,
    LaughterType,
    Notice,
)
from scipy import stats

from tests.unit.fusion.conftest import RIGHT_BOX, make_audio, make_track


def event(
    number: int,
    start_s: float,
    duration_s: float,
    kind: LaughterType = LaughterType.JOYFUL,
    confidence: float = 0.8,
    face_id: int | None = None,
) -> LaughterEvent:
    """A hand-made audio event."""
    return LaughterEvent(
        event_id=f"evt-{number:04d}",
        start_s=start_s,
        end_s=start_s + duration_s,
        peak_s=start_s + duration_s / 2,
        confidence=confidence,
        laughter_type=kind,
        face_id=face_id,
        evidence=EventEvidence(EvidenceSource.AUDIO if face_id is None else EvidenceSource.AUDIO_AND_FACE),
    )


def one_per_bin(durations_s: list[float]) -> list[LaughterEvent]:
    """One event starting 1 s into each 10 s bin, with the given lengths."""
    return [event(k, 10.0 * k + 1.0, d) for k, d in enumerate(durations_s)]


class TestSummarise:
    """summarise is consistent with the events it is given."""

    def test_counts_and_durations(self) -> None:
        """Count, total, mean, longest, rate and fraction follow from the events."""
        events = [event(1, 5.0, 2.0), event(2, 20.0, 1.0), event(3, 40.0, 3.0)]
        summary = summarise(events, [], None, 60.0)
        d = summary.durations
        assert summary.laughter_detected
        assert d.event_count == 3
        assert d.total_s == pytest.approx(6.0)
        assert d.mean_s == pytest.approx(2.0)
        assert d.longest_s == pytest.approx(3.0)
        assert d.laughs_per_minute == pytest.approx(3.0)
        assert d.laughter_fraction == pytest.approx(0.1)
        assert sum(count for _, count in summary.type_counts) == d.event_count

    def test_confidence_is_duration_weighted(self) -> None:
        """overall_confidence weights each event's confidence by its length."""
        events = [event(1, 0.0, 3.0, confidence=0.9), event(2, 10.0, 1.0, confidence=0.5)]
        summary = summarise(events, [], None, 30.0)
        assert summary.overall_confidence == pytest.approx((0.9 * 3 + 0.5 * 1) / 4)

    def test_rate_interval_contains_rate(self) -> None:
        """The Poisson interval of laughs per minute contains the measured rate."""
        summary = summarise(one_per_bin([1.0] * 9), [], None, 90.0)
        ci = summary.laughs_per_minute_ci
        assert ci.lower < summary.durations.laughs_per_minute < ci.upper
        assert ci.level == 0.95

    def test_fraction_interval_contains_fraction(self) -> None:
        """The Wilson interval of the laughter fraction is within [0, 1] and contains the fraction."""
        summary = summarise(one_per_bin([2.0, 4.0, 1.0]), [], None, 30.0)
        ci = summary.laughter_fraction_ci
        assert 0.0 <= ci.lower < summary.durations.laughter_fraction < ci.upper <= 1.0

    def test_dominant_type_by_total_duration(self) -> None:
        """One long joyful laugh outweighs three short chuckles; type_counts lists the chuckles first."""
        events = [
            event(1, 1.0, 0.5, LaughterType.SOFT_CHUCKLE),
            event(2, 5.0, 0.5, LaughterType.SOFT_CHUCKLE),
            event(3, 9.0, 0.5, LaughterType.SOFT_CHUCKLE),
            event(4, 15.0, 3.0, LaughterType.JOYFUL),
        ]
        summary = summarise(events, [], None, 30.0)
        assert summary.dominant_laughter_type is LaughterType.JOYFUL
        assert summary.type_counts == ((LaughterType.SOFT_CHUCKLE, 3), (LaughterType.JOYFUL, 1))

    def test_no_events(self) -> None:
        """Without events there is no laughter, type NONE, zero counts and a rate interval from 0."""
        summary = summarise([], [], None, 60.0)
        assert summary.laughter_detected is False
        assert summary.dominant_laughter_type is LaughterType.NONE
        assert summary.durations.event_count == 0
        assert summary.durations.total_s == 0.0
        assert summary.laughs_per_minute_ci.lower == 0.0
        assert summary.laughs_per_minute_ci.upper > 0.0
        assert summary.type_counts == ()
        assert summary.dominant_emotion is None
        assert summary.overall_confidence == 1.0

    def test_no_events_confidence_from_timeline(self) -> None:
        """Without events the confidence is one minus the highest fused score seen."""
        audio = make_audio(10.0, [(2.0, 4.0, 0.3)])
        events, timeline = fuse_events(audio, [], np.arange(0.0, 10.0, 0.2), 10.0, 0.2)
        summary = summarise(events, [], timeline, 10.0)
        assert events == []
        assert summary.overall_confidence == pytest.approx(1.0 - 0.3, abs=0.01)

    def test_faces_and_emotions(self) -> None:
        """Per-face summaries count frames and events; the emotion breakdown averages all observations."""
        times = np.arange(0.0, 10.0, 0.2)
        laughing = make_track(1, times, lambda t: (0.9, 0.0, 0.0) if 2.0 <= t < 4.0 else (0.1, 0.0, 0.0))
        calm = make_track(2, times[:10], lambda t: (0.0, 0.0, 0.0), RIGHT_BOX)
        faces = laughing + calm
        events, timeline = fuse_events(make_audio(10.0, [(2.0, 4.0, 0.9)]), faces, times, 10.0, 0.2)
        summary = summarise(events, faces, timeline, 10.0, [Notice.SILENT_AUDIO])
        assert [f.face_id for f in summary.faces] == [1, 2]
        assert [f.frames_seen for f in summary.faces] == [50, 10]
        assert [f.event_count for f in summary.faces] == [1, 0]
        assert summary.faces[1].dominant_laughter_type is LaughterType.NONE
        assert summary.faces[1].last_seen_s == pytest.approx(1.8)
        assert summary.dominant_emotion == "neutral"
        assert sum(summary.emotion_breakdown) == pytest.approx(1.0)
        assert summary.notices == (Notice.SILENT_AUDIO,)

    def test_faces_keep_smiling_and_mouth_open_means(self) -> None:
        """Each face's summary holds the mean smiling score and the mean of its measured mouth_open."""
        times = np.arange(0.0, 4.0, 0.2)
        track = make_track(1, times, lambda t: (0.8, 0.0, 0.0) if t < 2.0 else (0.2, 0.0, 0.0))
        mouths = [0.9 if t < 2.0 else 0.1 for t in times]
        faces = [dataclasses.replace(o, mouth_open=m) for o, m in zip(track, mouths, strict=True)]
        faces[0] = dataclasses.replace(faces[0], mouth_open=None)
        events, timeline = fuse_events(make_audio(4.0, []), faces, times, 4.0, 0.2)
        (face,) = summarise(events, faces, timeline, 4.0).faces
        assert face.smiling == pytest.approx(0.5)
        assert face.mouth_open == pytest.approx(np.mean(mouths[1:]))


class TestPoissonRateInterval:
    """poisson_rate_interval is the exact Garwood interval."""

    @pytest.mark.parametrize(("count", "exposure_min"), [(0, 1.0), (1, 0.5), (3, 2.0), (12, 2.0), (50, 10.0)])
    def test_matches_chi2_formula(self, count: int, exposure_min: float) -> None:
        """Bounds equal chi2.ppf(a/2, 2k)/2 and chi2.ppf(1-a/2, 2k+2)/2 over the exposure."""
        ci = poisson_rate_interval(count, exposure_min)
        lower = 0.0 if count == 0 else stats.chi2.ppf(0.025, 2 * count) / 2
        upper = stats.chi2.ppf(0.975, 2 * count + 2) / 2
        assert ci.lower == pytest.approx(lower / exposure_min)
        assert ci.upper == pytest.approx(upper / exposure_min)
        assert ci.lower <= count / exposure_min <= ci.upper

    def test_no_exposure(self) -> None:
        """Zero exposure gives an empty interval instead of dividing by zero."""
        ci = poisson_rate_interval(3, 0.0)
        assert (ci.lower, ci.upper) == (0.0, 0.0)

    def test_higher_level_is_wider(self) -> None:
        """A 99% interval contains the 95% one."""
        narrow, wide = poisson_rate_interval(5, 3.0, 0.95), poisson_rate_interval(5, 3.0, 0.99)
        assert wide.lower < narrow.lower < narrow.upper < wide.upper


class TestWilsonInterval:
    """wilson_interval stays in [0, 1] and contains the fraction."""

    @pytest.mark.parametrize("n_blocks", [1, 2, 5, 12, 100])
    def test_bounds_and_containment(self, n_blocks: int) -> None:
        """For fractions strictly inside (0, 1), the interval lies in [0, 1] and contains them."""
        for fraction in np.linspace(0.01, 0.99, 50):
            ci = wilson_interval(float(fraction), n_blocks)
            assert 0.0 <= ci.lower <= fraction <= ci.upper <= 1.0

    def test_matches_formula(self) -> None:
        """The bounds follow the Wilson score formula."""
        p, n, z = 0.3, 20, stats.norm.ppf(0.975)
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        ci = wilson_interval(p, n)
        assert (ci.lower, ci.upper) == pytest.approx((centre - half, centre + half))

    def test_more_blocks_narrower(self) -> None:
        """More independent blocks give a narrower interval."""
        few, many = wilson_interval(0.2, 5), wilson_interval(0.2, 500)
        assert many.upper - many.lower < few.upper - few.lower

    def test_no_blocks_is_uninformative(self) -> None:
        """With no blocks the interval is [0, 1]."""
        ci = wilson_interval(0.5, 0)
        assert (ci.lower, ci.upper) == (0.0, 1.0)

    @pytest.mark.parametrize("n_blocks", [3, 6, 12, 100])
    def test_zero_fraction_lower_bound_is_zero(self, n_blocks: int) -> None:
        """For a fraction of 0 the lower bound is exactly 0."""
        assert wilson_interval(0.0, n_blocks).lower == 0.0


class TestTrend:
    """The trend direction follows the laughter share per bin."""

    def test_increasing(self) -> None:
        """Longer laughs later in the media give an increasing trend."""
        trend = summarise(one_per_bin([0.5 * (k + 1) for k in range(12)]), [], None, 120.0).trend
        assert trend.direction == "increasing"
        assert trend.slope_per_minute > 0
        assert len(trend.bins) == 12

    def test_decreasing(self) -> None:
        """Shorter laughs later in the media give a decreasing trend."""
        trend = summarise(one_per_bin([0.5 * (12 - k) for k in range(12)]), [], None, 120.0).trend
        assert trend.direction == "decreasing"
        assert trend.slope_per_minute < 0

    def test_stable(self) -> None:
        """The same laugh in every bin is stable."""
        trend = summarise(one_per_bin([2.0] * 12), [], None, 120.0).trend
        assert trend.direction == "stable"
        assert trend.slope_per_minute == pytest.approx(0.0, abs=1e-9)

    def test_short_media_is_insufficient(self) -> None:
        """Under three 10 s bins there is not enough data for a trend."""
        assert summarise([event(1, 1.0, 2.0)], [], None, 20.0).trend.direction == "insufficient_data"

    def test_bins_account_for_every_event(self) -> None:
        """Bin counts and laughter seconds add up to the events."""
        events = one_per_bin([1.0, 2.0, 3.0, 4.0])
        trend = summarise(events, [], None, 40.0).trend
        assert [b.event_count for b in trend.bins] == [1, 1, 1, 1]
        assert sum(b.laughter_s for b in trend.bins) == pytest.approx(10.0)


class TestTrendCells:
    """TrendCells keep fixed memory: past MAX_TREND_CELLS, pairs of cells merge and totals stay exact."""

    def test_merging_keeps_totals(self) -> None:
        """Ten hours of one 2 s laugh a minute: the cells merge, every event and second is still counted."""
        from laughter_server.fusion.summary import MAX_TREND_CELLS, TrendCells

        cells = TrendCells()
        for minute in range(600):
            cells.add_event(minute * 60.0 + 10.0, minute * 60.0 + 12.0)
            cells.add_faces(minute * 60.0 + 11.0, [0.8])
        trend = cells.trend(36_000.0)
        assert cells.cell_s > 0.1
        assert 36_000.0 / cells.cell_s <= MAX_TREND_CELLS
        assert sum(b.event_count for b in trend.bins) == 600
        assert sum(b.laughter_s for b in trend.bins) == pytest.approx(1200.0)
        assert all(b.mean_happy == pytest.approx(0.8) for b in trend.bins)
        assert trend.direction == "stable"
