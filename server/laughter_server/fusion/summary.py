"""Summaries of an analysis: verdict, types, emotions, durations, confidence intervals and trend."""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np
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


def _trend(events: Sequence[LaughterEvent], faces: Sequence[FaceObservation], duration_s: float) -> Trend:
    n_bins = int(min(12, max(1, duration_s // 10)))
    edges = np.linspace(0.0, duration_s, n_bins + 1)
    bins = []
    for lo, hi in itertools.pairwise(edges):
        overlap = sum(max(0.0, min(e.end_s, hi) - max(e.start_s, lo)) for e in events)
        count = sum(1 for e in events if lo <= e.start_s < hi)
        happy = [o.emotion("happy") for o in faces if lo <= o.time_s < hi]
        bins.append(
            TrendBin(float(lo), float(hi), count, float(overlap), float(np.mean(happy)) if happy else 0.0)
        )
    if n_bins < MIN_TREND_BINS or not events:
        return Trend("insufficient_data" if n_bins < MIN_TREND_BINS else "stable", 0.0, tuple(bins))
    mids_min = np.array([(b.start_s + b.end_s) / 120.0 for b in bins])
    share = np.array([b.laughter_s / max(1e-9, b.end_s - b.start_s) for b in bins])
    fit = stats.linregress(mids_min, share)
    slope = float(fit.slope) if np.isfinite(fit.slope) else 0.0
    direction = "stable"
    if np.isfinite(fit.pvalue) and fit.pvalue < TREND_P_VALUE:
        direction = "increasing" if slope > 0 else "decreasing"
    return Trend(direction, slope, tuple(bins))


def _dominant_type(events: Sequence[LaughterEvent]) -> LaughterType:
    if not events:
        return LaughterType.NONE
    by_time: dict[LaughterType, float] = defaultdict(float)
    for e in events:
        by_time[e.laughter_type] += e.duration_s
    return max(by_time, key=lambda t: (by_time[t], t.value))


def _emotion_mean(faces: Sequence[FaceObservation]) -> tuple[float, ...]:
    if not faces:
        return tuple(0.0 for _ in EMOTIONS)
    return tuple(float(v) for v in np.mean([o.emotions for o in faces], axis=0))


def _face_summaries(
    events: Sequence[LaughterEvent], faces: Sequence[FaceObservation]
) -> tuple[FaceSummary, ...]:
    tracks: dict[int, list[FaceObservation]] = defaultdict(list)
    for observation in faces:
        tracks[observation.face_id].append(observation)
    result = []
    for face_id in sorted(tracks):
        obs = tracks[face_id]
        own = [e for e in events if e.face_id == face_id]
        result.append(
            FaceSummary(
                face_id=face_id,
                frames_seen=len(obs),
                first_seen_s=min(o.time_s for o in obs),
                last_seen_s=max(o.time_s for o in obs),
                emotion_breakdown=_emotion_mean(obs),
                event_count=len(own),
                dominant_laughter_type=_dominant_type(own),
            )
        )
    return tuple(result)


def summarise(
    events: Sequence[LaughterEvent],
    faces: Sequence[FaceObservation],
    timeline: FusedTimeline | None,
    duration_s: float,
    notices: Sequence[Notice] = (),
) -> AnalysisSummary:
    """The summary of an analysis.

    ``overall_confidence`` is the confidence in the verdict: with events, the duration-weighted mean event
    confidence; without, one minus the highest fused score seen (how far the media stayed from laughter).
    """
    total_s = float(sum(e.duration_s for e in events))
    minutes = duration_s / 60.0
    if events:
        weights = np.array([max(e.duration_s, 1e-3) for e in events])
        confidence = float(np.average([e.confidence for e in events], weights=weights))
    else:
        peak = float(np.max(timeline.fused)) if timeline is not None and timeline.fused.size else 0.0
        confidence = 1.0 - peak
    emotions = _emotion_mean(faces)
    fraction = min(1.0, total_s / duration_s) if duration_s > 0 else 0.0
    type_counts = Counter(e.laughter_type for e in events)
    return AnalysisSummary(
        laughter_detected=bool(events),
        dominant_laughter_type=_dominant_type(events),
        overall_confidence=confidence,
        dominant_emotion=EMOTIONS[int(np.argmax(emotions))] if faces else None,
        emotion_breakdown=emotions,
        durations=DurationAnalysis(
            event_count=len(events),
            total_s=total_s,
            mean_s=total_s / len(events) if events else 0.0,
            longest_s=max((e.duration_s for e in events), default=0.0),
            laughs_per_minute=len(events) / minutes if minutes > 0 else 0.0,
            laughter_fraction=fraction,
        ),
        laughs_per_minute_ci=poisson_rate_interval(len(events), minutes),
        laughter_fraction_ci=wilson_interval(fraction, max(1, math.ceil(duration_s / INDEPENDENT_BLOCK_S))),
        trend=_trend(events, faces, duration_s),
        type_counts=tuple(sorted(type_counts.items(), key=lambda kv: (-kv[1], kv[0].value))),
        faces=_face_summaries(events, faces),
        notices=tuple(notices),
    )
