"""Fuse audio laughter probability and face evidence into timed laughter events.

Both modalities are put on one time grid (``step_s``): the audio probability interpolated between window
centres, and per tracked face the spec's face-laugh score held around each analysed frame. ``fuse_scores``
combines them, a hysteresis segmenter cuts events, and each event gets its evidence, face and type.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from laughter_server.audio.scores import WindowScores
from laughter_server.fusion.rules import (
    DEFAULT_RULES,
    LaughterRules,
    classify_type,
    face_laugh_score,
    fuse_scores,
)
from laughter_server.fusion.segmenter import Span, segment_scores
from laughter_server.fusion.types import (
    EventEvidence,
    EvidenceSource,
    FaceObservation,
    LaughterEvent,
)

GRID_STEP_S = 0.1
SILENT_WINDOW_DBFS = -70.0
"""Audio windows below this level carry no evidence either way."""
ACTIVE_LEVEL_DBFS = -50.0
"""Windows quieter than this are treated as silence when estimating the recording's typical level."""


def reference_dbfs(audio: WindowScores) -> float:
    """Median level of the non-silent windows: loudness cues are relative to it, not absolute."""
    active = audio.rms_dbfs[audio.rms_dbfs > ACTIVE_LEVEL_DBFS]
    return float(np.median(active)) if active.size else ACTIVE_LEVEL_DBFS


@dataclasses.dataclass(frozen=True)
class FusedTimeline:
    """The per-grid scores behind the events (kept for trends and debugging)."""

    times_s: npt.NDArray[np.float64]
    audio: npt.NDArray[np.float64] | None
    face: npt.NDArray[np.float64]  # best face score per grid point; NaN where no face is visible
    fused: npt.NDArray[np.float64]


def face_tracks(faces: Sequence[FaceObservation]) -> dict[int, list[FaceObservation]]:
    """Observations grouped by face id, each track in time order."""
    tracks: dict[int, list[FaceObservation]] = defaultdict(list)
    for obs in faces:
        tracks[obs.face_id].append(obs)
    for track in tracks.values():
        track.sort(key=lambda o: o.time_s)
    return tracks


def _face_grid(
    grid: npt.NDArray[np.float64], track: list[FaceObservation], hold_s: float, rules: LaughterRules
) -> npt.NDArray[np.float64]:
    times = np.array([o.time_s for o in track])
    scores = np.array([face_laugh_score(o.emotion("happy"), o.emotion("surprise"), rules) for o in track])
    idx = np.clip(np.searchsorted(times, grid), 1, len(times)) - 1
    nxt = np.clip(idx + 1, 0, len(times) - 1)
    nearest = np.where(np.abs(times[nxt] - grid) < np.abs(times[idx] - grid), nxt, idx)
    values: npt.NDArray[np.float64] = scores[nearest].astype(np.float64)
    values[np.abs(times[nearest] - grid) > hold_s] = np.nan
    return values


def score_grid(
    grid: npt.NDArray[np.float64],
    audio: WindowScores | None,
    faces: Sequence[FaceObservation],
    frame_period_s: float,
    rules: LaughterRules = DEFAULT_RULES,
) -> FusedTimeline:
    """Audio, face and fused scores at the ``grid`` times (any regular slice of the media)."""
    audio_grid = None
    if audio is not None and audio.centers_s.size:
        audio_grid = np.interp(grid, audio.centers_s, audio.probabilities)
        half_window_s = audio.window_s / 2.0
        outside = (grid < audio.centers_s[0] - half_window_s) | (grid > audio.centers_s[-1] + half_window_s)
        audio_grid[outside] = 0.0
        # where the sound is digitally silent (muted microphone) the audio says nothing: faces decide there
        silent = (
            np.interp(grid, audio.centers_s, (audio.rms_dbfs < SILENT_WINDOW_DBFS).astype(np.float64)) > 0.5
        )
        audio_grid[silent & ~outside] = np.nan
    face_grid = np.full(grid.shape, np.nan)
    hold_s = max(0.5, 0.75 * frame_period_s)
    for track in face_tracks(faces).values():
        face_grid = np.fmax(face_grid, _face_grid(grid, track, hold_s, rules))
    fused = np.array(
        [
            fuse_scores(
                None if audio_grid is None or np.isnan(audio_grid[i]) else float(audio_grid[i]),
                None if np.isnan(face_grid[i]) else float(face_grid[i]),
                rules,
            )
            for i in range(grid.size)
        ]
    )
    return FusedTimeline(grid, audio_grid, face_grid, fused)


def build_timeline(
    audio: WindowScores | None,
    faces: Sequence[FaceObservation],
    duration_s: float,
    frame_period_s: float,
    rules: LaughterRules = DEFAULT_RULES,
    step_s: float = GRID_STEP_S,
) -> FusedTimeline:
    """Audio, face and fused scores on a regular grid over ``[0, duration_s)``."""
    grid = np.arange(0.0, max(duration_s, step_s), step_s)
    return score_grid(grid, audio, faces, frame_period_s, rules)


def _evidence(
    span: Span,
    timeline: FusedTimeline,
    audio: WindowScores | None,
    tracks: dict[int, list[FaceObservation]],
    frame_times_s: npt.NDArray[np.float64],
    rules: LaughterRules,
) -> tuple[EventEvidence, int | None]:
    in_span = (timeline.times_s >= span.start_s) & (timeline.times_s < span.end_s)
    frames_in = frame_times_s[(frame_times_s >= span.start_s - 1e-6) & (frame_times_s < span.end_s)]
    best_id, best_score, best_obs = None, -1.0, []
    for face_id, track in tracks.items():
        obs = [o for o in track if span.start_s - 1e-6 <= o.time_s < span.end_s]
        if not obs:
            continue
        coverage = len(obs) / max(1, len(frames_in))
        score = float(
            np.mean([face_laugh_score(o.emotion("happy"), o.emotion("surprise"), rules) for o in obs])
        )
        if coverage >= rules.min_face_coverage and score >= rules.min_face_attribution and score > best_score:
            best_id, best_score, best_obs = face_id, score, obs
    audio_probability = 0.0
    loudness = relative = burst = 0.0
    heard = False
    if audio is not None and timeline.audio is not None:
        values = timeline.audio[in_span]
        heard = bool(np.isfinite(values).any())
        audio_probability = float(np.nanmean(values)) if heard else 0.0
        windows = (audio.centers_s >= span.start_s) & (audio.centers_s <= span.end_s)
        if not windows.any():
            windows = np.abs(audio.centers_s - (span.start_s + span.end_s) / 2) == np.min(
                np.abs(audio.centers_s - (span.start_s + span.end_s) / 2)
            )
        loudness = float(np.mean(audio.rms_dbfs[windows]))
        relative = loudness - reference_dbfs(audio)
        burst = float(np.mean(audio.burst_rate_hertz[windows]))
    if best_id is None:
        source = EvidenceSource.AUDIO
    elif not heard:
        source = EvidenceSource.FACE
    else:
        source = EvidenceSource.AUDIO_AND_FACE

    def mean_of(name: str) -> float:
        return float(np.mean([o.emotion(name) for o in best_obs])) if best_obs else 0.0

    evidence = EventEvidence(
        source=source,
        audio_probability=audio_probability,
        face_happy=mean_of("happy"),
        face_surprise=mean_of("surprise"),
        face_fear=mean_of("fear"),
        face_neutral=mean_of("neutral"),
        face_coverage=len(best_obs) / max(1, len(frames_in)) if best_obs else 0.0,
        loudness_dbfs=loudness if audio is not None else -120.0,
        relative_loudness_db=relative,
        burst_rate_hertz=burst,
    )
    return evidence, best_id


def fuse_events(
    audio: WindowScores | None,
    faces: Sequence[FaceObservation],
    frame_times_s: npt.NDArray[np.float64],
    duration_s: float,
    frame_period_s: float,
    rules: LaughterRules = DEFAULT_RULES,
) -> tuple[list[LaughterEvent], FusedTimeline]:
    """Laughter events in time order, and the timeline they were cut from."""
    timeline = build_timeline(audio, faces, duration_s, frame_period_s, rules)
    spans = segment_scores(
        timeline.times_s,
        timeline.fused,
        enter=rules.enter_threshold,
        exit=rules.exit_threshold,
        min_duration_s=rules.min_event_s,
        max_gap_s=rules.max_gap_s,
        step_s=GRID_STEP_S,
    )
    tracks = face_tracks(faces)
    events = []
    for number, span in enumerate(spans, start=1):
        events.append(make_event(f"evt-{number:04d}", span, timeline, audio, tracks, frame_times_s, rules))
    return events, timeline


def audio_edges_s(
    in_span: npt.NDArray[np.bool_], timeline: FusedTimeline, rules: LaughterRules
) -> tuple[float, float]:
    """How far the event whose grid points are ``in_span`` extends before its start and after its end.

    ``rules.audio_edge_s`` (at most half the merge gap, so widened events never overlap) on a side
    where the audio score alone held the event there: at the first grid point at or above the enter
    threshold, at the last one at or above the exit threshold. A side timed by a laughing face (frames
    have no window lag) or with no audio stays as it is.
    """
    points = np.flatnonzero(in_span)
    if timeline.audio is None or points.size == 0:
        return 0.0, 0.0
    edge = min(rules.audio_edge_s, rules.max_gap_s / 2.0)
    first, last = timeline.audio[points[0]], timeline.audio[points[-1]]
    before = edge if not np.isnan(first) and first >= rules.enter_threshold else 0.0
    after = edge if not np.isnan(last) and last >= rules.exit_threshold else 0.0
    return before, after


def make_event(
    event_id: str,
    span: Span,
    timeline: FusedTimeline,
    audio: WindowScores | None,
    tracks: dict[int, list[FaceObservation]],
    frame_times_s: npt.NDArray[np.float64],
    rules: LaughterRules,
) -> LaughterEvent:
    """One event from a span: evidence, the laughing face, type and confidence."""
    evidence, face_id = _evidence(span, timeline, audio, tracks, frame_times_s, rules)
    in_span = (timeline.times_s >= span.start_s) & (timeline.times_s < span.end_s)
    mean_score = float(np.mean(timeline.fused[in_span])) if in_span.any() else span.peak_score
    before_s, after_s = audio_edges_s(in_span, timeline, rules)
    start_s = max(0.0, span.start_s - before_s)
    end_s = min(span.end_s + after_s, float(timeline.times_s[-1]) + GRID_STEP_S)
    return LaughterEvent(
        event_id=event_id,
        start_s=round(start_s, 3),
        end_s=round(end_s, 3),
        peak_s=round(span.peak_s, 3),
        confidence=float(np.clip(0.5 * span.peak_score + 0.5 * mean_score, 0.0, 1.0)),
        laughter_type=classify_type(evidence, end_s - start_s, rules),
        face_id=face_id,
        evidence=evidence,
    )
