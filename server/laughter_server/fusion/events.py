"""Fuse audio laughter probability and face evidence into timed laughter events.

Both modalities are put on one time grid (``step_s``): the audio probability interpolated between window
centres, and per tracked face the spec's face-laugh score held around each analysed frame. ``fuse_scores``
combines them; ``fusion/fuser.py`` cuts events from the fused score, and ``make_event`` gives each one its
evidence, face and type from the data of its span.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from laughter_server.audio.scores import SILENCE_DBFS, WindowScores
from laughter_server.fusion.rules import (
    DEFAULT_RULES,
    LaughterRules,
    classify_type,
    face_alone_score,
    face_laugh_score,
    fuse_scores,
)
from laughter_server.fusion.segmenter import Span
from laughter_server.fusion.types import (
    EventEvidence,
    EvidenceSource,
    FaceObservation,
    LaughterEvent,
)

GRID_STEP_S = 0.1
ACTIVE_LEVEL_DBFS = -50.0
"""Windows quieter than this are treated as silence when estimating the recording's typical level."""
LEVEL_BIN_DB = 0.01
MAX_LEVEL_DBFS = 10.0


class LevelReference:
    """The recording's typical level: the median of the active windows' levels, kept as a histogram of
    0.01 dB bins (fixed memory however long the recording), so loudness cues are relative to it."""

    def __init__(self) -> None:
        self._counts = np.zeros(round((MAX_LEVEL_DBFS - ACTIVE_LEVEL_DBFS) / LEVEL_BIN_DB) + 1, np.int64)
        self._total = 0

    def add(self, rms_dbfs: npt.NDArray[np.floating[Any]]) -> None:
        """Count the active windows among ``rms_dbfs``."""
        active = np.asarray(rms_dbfs, dtype=np.float64)
        active = active[active > ACTIVE_LEVEL_DBFS]
        if active.size:
            bins = np.clip(np.round((active - ACTIVE_LEVEL_DBFS) / LEVEL_BIN_DB), 0, self._counts.size - 1)
            np.add.at(self._counts, bins.astype(np.int64), 1)
            self._total += int(active.size)

    def median_dbfs(self) -> float:
        """Median level of the active windows so far (``ACTIVE_LEVEL_DBFS`` when there were none)."""
        if self._total == 0:
            return ACTIVE_LEVEL_DBFS
        cumulative = np.cumsum(self._counts)
        lower = int(np.searchsorted(cumulative, (self._total - 1) // 2 + 1))
        upper = int(np.searchsorted(cumulative, self._total // 2 + 1))
        return ACTIVE_LEVEL_DBFS + LEVEL_BIN_DB * (lower + upper) / 2.0


def reference_dbfs(audio: WindowScores) -> float:
    """Median level of the non-silent windows of ``audio`` (to 0.01 dB)."""
    reference = LevelReference()
    reference.add(audio.rms_dbfs)
    return reference.median_dbfs()


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
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The track's face score and its mouth-gated score (``face_alone_score``) held at the grid points."""
    times = np.array([o.time_s for o in track])
    scores = np.array([face_laugh_score(o.emotion("happy"), o.emotion("surprise"), rules) for o in track])
    alone = np.array(
        [face_alone_score(o.emotion("happy"), o.emotion("surprise"), o.mouth_open, rules) for o in track]
    )
    idx = np.clip(np.searchsorted(times, grid), 1, len(times)) - 1
    nxt = np.clip(idx + 1, 0, len(times) - 1)
    nearest = np.where(np.abs(times[nxt] - grid) < np.abs(times[idx] - grid), nxt, idx)
    far = np.abs(times[nearest] - grid) > hold_s
    values: npt.NDArray[np.float64] = scores[nearest].astype(np.float64)
    gated: npt.NDArray[np.float64] = alone[nearest].astype(np.float64)
    values[far] = np.nan
    gated[far] = np.nan
    return values, gated


def smooth_window_scores(audio: WindowScores, windows: int, how: str = "median") -> WindowScores:
    """``audio`` with each probability replaced by the median (or mean) of the ``windows`` windows centred on
    it (odd). Near either end of a run of consecutive windows (a hop apart) only the windows inside it count,
    so the result depends on the windows alone, not on how they were handed in."""
    if windows <= 1 or audio.count < 2:
        return audio
    half = windows // 2
    breaks = np.flatnonzero(np.diff(audio.centers_s) > 1.5 * audio.hop_s) + 1
    smoothed = np.empty(audio.count, np.float32)
    reduce = np.nanmedian if how == "median" else np.nanmean
    for run in np.split(np.arange(audio.count), breaks):
        values = np.pad(audio.probabilities[run].astype(np.float64), half, constant_values=np.nan)
        view = np.lib.stride_tricks.sliding_window_view(values, windows)
        smoothed[run] = reduce(view, axis=1)
    return dataclasses.replace(audio, probabilities=smoothed)


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
        # where the sound is silent (muted microphone, a pause) the audio says nothing: faces decide there
        silent = np.interp(grid, audio.centers_s, (audio.level_dbfs < SILENCE_DBFS).astype(np.float64)) > 0.5
        audio_grid[silent & ~outside] = np.nan
    face_grid = np.full(grid.shape, np.nan)
    alone_grid = np.full(grid.shape, np.nan)
    hold_s = max(0.5, 0.75 * frame_period_s)
    for track in face_tracks(faces).values():
        values, gated = _face_grid(grid, track, hold_s, rules)
        face_grid = np.fmax(face_grid, values)
        alone_grid = np.fmax(alone_grid, gated)
    fused = np.array(
        [
            fuse_scores(
                None if audio_grid is None or np.isnan(audio_grid[i]) else float(audio_grid[i]),
                None if np.isnan(face_grid[i]) else float(face_grid[i]),
                rules,
                None if np.isnan(alone_grid[i]) else float(alone_grid[i]),
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


@dataclasses.dataclass(frozen=True)
class SpanEvidence:
    """What an event is made from: the grid points, audio windows and face observations of its span."""

    grid: FusedTimeline  # grid points in [start, end)
    window_rms_dbfs: npt.NDArray[np.float32]  # windows centred in the span (or the one nearest its middle)
    window_burst_hertz: npt.NDArray[np.float32]
    tracks: dict[int, list[FaceObservation]]  # observations in [start, end), per face
    frames_in_span: int  # analysed frames in [start, end)
    has_audio: bool


def span_windows(centers_s: npt.NDArray[np.float64], start_s: float, end_s: float) -> npt.NDArray[np.bool_]:
    """Windows centred in ``[start_s, end_s]``, or the one nearest the span's middle when none is."""
    inside = (centers_s >= start_s) & (centers_s <= end_s)
    if inside.any() or centers_s.size == 0:
        return inside
    distance = np.abs(centers_s - (start_s + end_s) / 2)
    nearest: npt.NDArray[np.bool_] = distance == np.min(distance)
    return nearest


def _evidence(
    span: Span, view: SpanEvidence, reference_db: float, rules: LaughterRules
) -> tuple[EventEvidence, int | None]:
    best_id, best_score, best_obs = None, -1.0, []
    for face_id, obs in view.tracks.items():
        if not obs:
            continue
        coverage = len(obs) / max(1, view.frames_in_span)
        score = float(
            np.mean([face_laugh_score(o.emotion("happy"), o.emotion("surprise"), rules) for o in obs])
        )
        if coverage >= rules.min_face_coverage and score >= rules.min_face_attribution and score > best_score:
            best_id, best_score, best_obs = face_id, score, obs
    audio_probability = 0.0
    loudness, relative, burst = -120.0, 0.0, 0.0
    heard = False
    if view.has_audio and view.grid.audio is not None:
        values = view.grid.audio
        heard = bool(np.isfinite(values).any())
        audio_probability = float(np.nanmean(values)) if heard else 0.0
    if view.has_audio and view.window_rms_dbfs.size:
        loudness = float(np.mean(view.window_rms_dbfs))
        relative = loudness - reference_db
        burst = float(np.mean(view.window_burst_hertz))
    if best_id is None:
        source = EvidenceSource.AUDIO
    elif not heard:
        source = EvidenceSource.FACE
    else:
        source = EvidenceSource.AUDIO_AND_FACE

    def mean_of(name: str) -> float:
        return float(np.mean([o.emotion(name) for o in best_obs])) if best_obs else 0.0

    mouths = [o.mouth_open for o in best_obs if o.mouth_open is not None]

    evidence = EventEvidence(
        source=source,
        audio_probability=audio_probability,
        face_happy=mean_of("happy"),
        face_surprise=mean_of("surprise"),
        face_fear=mean_of("fear"),
        face_neutral=mean_of("neutral"),
        face_mouth_open=float(np.mean(mouths)) if mouths else None,
        face_coverage=len(best_obs) / max(1, view.frames_in_span) if best_obs else 0.0,
        loudness_dbfs=loudness,
        relative_loudness_db=relative,
        burst_rate_hertz=burst,
    )
    return evidence, best_id


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
    view: SpanEvidence,
    reference_db: float,
    grid_end_s: float,
    rules: LaughterRules,
) -> LaughterEvent:
    """One event from a span: evidence, the laughing face, type and confidence. ``grid_end_s`` is the end
    of the scored grid (events never reach past it); ``reference_db`` the recording's typical level."""
    evidence, face_id = _evidence(span, view, reference_db, rules)
    fused = view.grid.fused
    mean_score = float(np.mean(fused)) if fused.size else span.peak_score
    before_s, after_s = audio_edges_s(np.ones(fused.shape, dtype=bool), view.grid, rules)
    start_s = max(0.0, span.start_s - before_s)
    end_s = min(span.end_s + after_s, grid_end_s)
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
