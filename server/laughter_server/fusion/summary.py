"""Summaries of an analysis: verdict, types, emotions, durations, confidence intervals and trend."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import stats

from laughter_server.fusion.events import FusedTimeline
from laughter_server.fusion.types import (
    EMOTIONS,
    AnalysisSummary,
    DurationAnalysis,
    FaceObservation,
    FaceSummary,
    Interval,
    LaughterEvent,
    LaughterType,
    Notice,
    Trend,
    TrendBin,
)

CI_LEVEL = 0.95
INDEPENDENT_BLOCK_S = 5.0
"""Laughter at nearby instants is correlated: the fraction's interval counts 5 s blocks, not grid points."""
MIN_TREND_BINS = 3
TREND_P_VALUE = 0.1


def poisson_rate_interval(count: int, exposure_min: float, level: float = CI_LEVEL) -> Interval:
    """Exact (Garwood) interval for a Poisson rate, in events per minute."""
    alpha = 1.0 - level
    if exposure_min <= 0:
        return Interval(0.0, 0.0, level, "poisson-exact")
    lower = 0.0 if count == 0 else float(stats.chi2.ppf(alpha / 2, 2 * count)) / 2.0
    upper = float(stats.chi2.ppf(1 - alpha / 2, 2 * count + 2)) / 2.0
    return Interval(lower / exposure_min, upper / exposure_min, level, "poisson-exact")


def wilson_interval(fraction: float, n_blocks: int, level: float = CI_LEVEL) -> Interval:
    """Wilson score interval for a proportion measured over ``n_blocks`` independent blocks."""
    if n_blocks <= 0:
        return Interval(0.0, 1.0, level, "wilson")
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    denom = 1 + z * z / n_blocks
    centre = (fraction + z * z / (2 * n_blocks)) / denom
    half = z * math.sqrt(fraction * (1 - fraction) / n_blocks + z * z / (4 * n_blocks * n_blocks)) / denom
    lower = 0.0 if fraction <= 0.0 else max(0.0, centre - half)
    upper = 1.0 if fraction >= 1.0 else min(1.0, centre + half)
    return Interval(lower, upper, level, "wilson-5s-blocks")


MAX_TREND_CELLS = 4096
"""Trend data is kept in at most this many cells (0.1 s wide, doubled when full): fixed memory."""


class TrendCells:
    """Laughter time, event starts and happy sums in equal cells from media time 0; pairs of cells merge
    when there are more than ``MAX_TREND_CELLS``, so memory stays fixed however long the media is."""

    def __init__(self, cell_s: float = 0.1) -> None:
        self.cell_s = cell_s
        # rows: laughter seconds, event starts, happy sum, faces seen; allocated once, merged in place
        self._cells = np.zeros((4, MAX_TREND_CELLS))

    def _cell(self, time_s: float) -> int:
        """The cell of ``time_s``, after merging pairs of cells until it lies within them."""
        index = max(0, math.floor(time_s / self.cell_s + 1e-9))
        while index >= MAX_TREND_CELLS:
            self._merge()
            index = max(0, math.floor(time_s / self.cell_s + 1e-9))
        return index

    def _merge(self) -> None:
        merged = self._cells.reshape(4, MAX_TREND_CELLS // 2, 2).sum(axis=2)
        self._cells = np.concatenate([merged, np.zeros_like(merged)], axis=1)
        self.cell_s *= 2.0

    def add_event(self, start_s: float, end_s: float) -> None:
        """An event: its start is counted in its cell, its time spread over the cells it covers."""
        last = self._cell(max(start_s, end_s - 1e-9))  # first: it may merge the cells
        first = self._cell(start_s)
        self._cells[1, first] += 1
        for index in range(first, last + 1):
            lo, hi = index * self.cell_s, (index + 1) * self.cell_s
            self._cells[0, index] += max(0.0, min(end_s, hi) - max(start_s, lo))

    def add_faces(self, time_s: float, happy: Sequence[float]) -> None:
        """The happy levels of the faces seen in one analysed frame."""
        if happy:
            index = self._cell(time_s)
            self._cells[2, index] += float(sum(happy))
            self._cells[3, index] += len(happy)

    def trend(self, duration_s: float) -> Trend:
        """Up to 12 bins over ``[0, duration_s)`` (edges on cell boundaries) and the slope of their laughter
        share, called increasing or decreasing when ``p < TREND_P_VALUE``."""
        if duration_s > 0:
            self._cell(duration_s)  # merge until the end lies within the cells
        n_bins = int(min(12, max(1, duration_s // 10)))
        cells = np.round(np.linspace(0.0, duration_s, n_bins + 1) / self.cell_s).astype(np.int64)
        cells[-1] = max(cells[-1], math.ceil(duration_s / self.cell_s - 1e-9))
        bins = []
        for k in range(n_bins):
            a, b = int(cells[k]), int(cells[k + 1])
            lo = a * self.cell_s
            hi = duration_s if k == n_bins - 1 else b * self.cell_s
            laughter_s, starts, happy_sum, faces = (float(v) for v in self._cells[:, a:b].sum(axis=1))
            bins.append(TrendBin(lo, hi, int(starts), laughter_s, happy_sum / faces if faces else 0.0))
        if n_bins < MIN_TREND_BINS or not self._cells[1].any():
            return Trend("insufficient_data" if n_bins < MIN_TREND_BINS else "stable", 0.0, tuple(bins))
        mids_min = np.array([(b.start_s + b.end_s) / 120.0 for b in bins])
        share = np.array([b.laughter_s / max(1e-9, b.end_s - b.start_s) for b in bins])
        fit = stats.linregress(mids_min, share)
        slope = float(fit.slope) if np.isfinite(fit.slope) else 0.0
        direction = "stable"
        if np.isfinite(fit.pvalue) and fit.pvalue < TREND_P_VALUE:
            direction = "increasing" if slope > 0 else "decreasing"
        return Trend(direction, slope, tuple(bins))


@dataclasses.dataclass
class _FaceTotals:
    frames_seen: int = 0
    first_seen_s: float = math.inf
    last_seen_s: float = -math.inf
    emotion_sums: npt.NDArray[np.float64] = dataclasses.field(default_factory=lambda: np.zeros(len(EMOTIONS)))
    event_count: int = 0
    type_seconds: dict[LaughterType, float] = dataclasses.field(default_factory=lambda: defaultdict(float))
    smiling_sum: float = 0.0
    mouth_open_sum: float = 0.0
    mouth_open_count: int = 0


def _dominant(type_seconds: dict[LaughterType, float]) -> LaughterType:
    if not type_seconds:
        return LaughterType.NONE
    return max(type_seconds, key=lambda t: (type_seconds[t], t.value))


class SummaryBuilder:
    """Running aggregates of an analysis (events, faces, emotions, trend cells): the summary of a four-hour
    session is computed from them, in fixed memory per face, not from every frame and event."""

    def __init__(self) -> None:
        self.event_count = 0
        self._total_s = 0.0
        self._longest_s = 0.0
        self._weighted_confidence = 0.0
        self._weights = 0.0
        self._type_counts: Counter[LaughterType] = Counter()
        self._type_seconds: dict[LaughterType, float] = defaultdict(float)
        self._emotion_sums = np.zeros(len(EMOTIONS))
        self.observation_count = 0
        self._faces: dict[int, _FaceTotals] = {}
        self._cells = TrendCells()

    def add_frame(self, time_s: float, observations: Sequence[FaceObservation]) -> None:
        """The faces seen in one analysed frame (an empty sequence for a frame without faces)."""
        for obs in observations:
            values = np.asarray(obs.emotions, dtype=np.float64)
            self._emotion_sums += values
            self.observation_count += 1
            face = self._faces.setdefault(obs.face_id, _FaceTotals())
            face.frames_seen += 1
            face.first_seen_s = min(face.first_seen_s, obs.time_s)
            face.last_seen_s = max(face.last_seen_s, obs.time_s)
            face.emotion_sums += values
            face.smiling_sum += obs.smiling
            if obs.mouth_open is not None:
                face.mouth_open_sum += obs.mouth_open
                face.mouth_open_count += 1
        self._cells.add_faces(time_s, [o.emotion("happy") for o in observations])

    def add_event(self, event: LaughterEvent) -> None:
        """An event that is final."""
        duration = event.duration_s
        self.event_count += 1
        self._total_s += duration
        self._longest_s = max(self._longest_s, duration)
        weight = max(duration, 1e-3)
        self._weighted_confidence += weight * event.confidence
        self._weights += weight
        self._type_counts[event.laughter_type] += 1
        self._type_seconds[event.laughter_type] += duration
        if event.face_id is not None:
            face = self._faces.setdefault(event.face_id, _FaceTotals())
            face.event_count += 1
            face.type_seconds[event.laughter_type] += duration
        self._cells.add_event(event.start_s, event.end_s)

    def type_seconds(self, kind: LaughterType) -> float:
        """Total duration of the events of one type."""
        return self._type_seconds.get(kind, 0.0)

    def summary(
        self, duration_s: float, peak_fused: float, notices: Sequence[Notice] = ()
    ) -> AnalysisSummary:
        """The summary over ``[0, duration_s)``. ``overall_confidence`` is the confidence in the verdict:
        with events, the duration-weighted mean event confidence; without, one minus ``peak_fused``, the
        highest fused score seen (how far the media stayed from laughter)."""
        minutes = duration_s / 60.0
        count = self.event_count
        confidence = self._weighted_confidence / self._weights if count else 1.0 - peak_fused
        seen = self.observation_count > 0
        emotions = tuple(float(v) for v in self._emotion_sums / max(1, self.observation_count))
        fraction = min(1.0, self._total_s / duration_s) if duration_s > 0 else 0.0
        faces = tuple(
            FaceSummary(
                face_id=face_id,
                frames_seen=f.frames_seen,
                first_seen_s=f.first_seen_s,
                last_seen_s=f.last_seen_s,
                emotion_breakdown=tuple(float(v) for v in f.emotion_sums / max(1, f.frames_seen)),
                event_count=f.event_count,
                dominant_laughter_type=_dominant(f.type_seconds),
                smiling=f.smiling_sum / f.frames_seen,
                mouth_open=f.mouth_open_sum / f.mouth_open_count if f.mouth_open_count else 0.0,
            )
            for face_id, f in sorted(self._faces.items())
            if f.frames_seen
        )
        return AnalysisSummary(
            laughter_detected=count > 0,
            dominant_laughter_type=_dominant(self._type_seconds),
            overall_confidence=float(confidence),
            dominant_emotion=EMOTIONS[int(np.argmax(emotions))] if seen else None,
            emotion_breakdown=emotions if seen else tuple(0.0 for _ in EMOTIONS),
            durations=DurationAnalysis(
                event_count=count,
                total_s=self._total_s,
                mean_s=self._total_s / count if count else 0.0,
                longest_s=self._longest_s,
                laughs_per_minute=count / minutes if minutes > 0 else 0.0,
                laughter_fraction=fraction,
            ),
            laughs_per_minute_ci=poisson_rate_interval(count, minutes),
            laughter_fraction_ci=wilson_interval(
                fraction, max(1, math.ceil(duration_s / INDEPENDENT_BLOCK_S))
            ),
            trend=self._cells.trend(duration_s),
            type_counts=tuple(sorted(self._type_counts.items(), key=lambda kv: (-kv[1], kv[0].value))),
            type_seconds=tuple((kind, self._type_seconds[kind]) for kind, _ in self._type_counts.items()),
            faces=faces,
            notices=tuple(notices),
        )


def summarise(
    events: Sequence[LaughterEvent],
    faces: Sequence[FaceObservation],
    timeline: FusedTimeline | None,
    duration_s: float,
    notices: Sequence[Notice] = (),
) -> AnalysisSummary:
    """The summary of a whole analysis given at once (``SummaryBuilder`` fed everything)."""
    builder = SummaryBuilder()
    by_time: dict[float, list[FaceObservation]] = defaultdict(list)
    for obs in faces:
        by_time[obs.time_s].append(obs)
    for time_s in sorted(by_time):
        builder.add_frame(time_s, by_time[time_s])
    for event in events:
        builder.add_event(event)
    peak = float(np.max(timeline.fused)) if timeline is not None and timeline.fused.size else 0.0
    return builder.summary(duration_s, peak, notices)
