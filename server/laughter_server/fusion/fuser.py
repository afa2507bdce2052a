"""Incremental fusion: audio windows and analysed frames in, laughter event updates out, with bounded state.

One ``EventFuser`` serves whole-file analysis and live sessions alike. A point of the 0.1 s grid is scored
once every carried modality can no longer change it: audio windows are known past it, and analysed frames
are known ``hold_s`` beyond it (a face score is held that long around a frame). Scores then feed the
incremental hysteresis segmenter; spans it closes become events (ENDED), and, when ``interim`` is on, an
event in progress is announced STARTED once it is ``min_event_s`` long and ONGOING about every second.

Only what a future decision can still use is kept: grid points, windows and observations from the start
of the span in progress (or the next grid point) minus ``context_s``. Everything older is dropped, so the
state of a four-hour session is that of a minute-long one. An event never lasts longer than
``rules.max_event_s`` (then it is ended and counted in ``splits``), which bounds the span in progress.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from laughter_server.audio.scores import WindowScores
from laughter_server.fusion.events import (
    GRID_STEP_S,
    FusedTimeline,
    LevelReference,
    SpanEvidence,
    make_event,
    score_grid,
    smooth_window_scores,
    span_windows,
)
from laughter_server.fusion.rules import DEFAULT_RULES, LaughterRules
from laughter_server.fusion.segmenter import HysteresisSegmenter, Span
from laughter_server.fusion.types import EventPhase, FaceObservation, LaughterEvent

ONGOING_INTERVAL_S = 1.0
MIN_CONTEXT_S = 2.0


@dataclasses.dataclass(frozen=True)
class EventUpdate:
    """A change in an event's life."""

    phase: EventPhase
    event: LaughterEvent
    processed_s: float = 0.0  # media time scored when the update was made


class _Windows:
    """Audio windows in time order, trimmed from the front."""

    def __init__(self) -> None:
        self._parts: collections.deque[WindowScores] = collections.deque()
        self._joined: WindowScores | None = None

    def add(self, scores: WindowScores) -> None:
        if scores.count:
            self._parts.append(scores)
            self._joined = None

    def joined(self) -> WindowScores | None:
        if self._joined is None and self._parts:
            first = self._parts[0]
            peaks = [p.peak_dbfs for p in self._parts]
            self._joined = dataclasses.replace(
                first,
                centers_s=np.concatenate([p.centers_s for p in self._parts]),
                probabilities=np.concatenate([p.probabilities for p in self._parts]),
                rms_dbfs=np.concatenate([p.rms_dbfs for p in self._parts]),
                burst_rate_hertz=np.concatenate([p.burst_rate_hertz for p in self._parts]),
                peak_dbfs=None if any(p is None for p in peaks) else np.concatenate(peaks),  # type: ignore[arg-type]
            )
            self._parts = collections.deque([self._joined])
        return self._joined

    def between(self, lo_s: float, hi_s: float) -> WindowScores | None:
        joined = self.joined()
        if joined is None:
            return None
        start = int(np.searchsorted(joined.centers_s, lo_s, side="left"))
        stop = int(np.searchsorted(joined.centers_s, hi_s, side="right"))
        return joined.slice(start, stop) if stop > start else None

    def drop_before(self, time_s: float) -> None:
        joined = self.joined()
        if joined is not None:
            start = int(np.searchsorted(joined.centers_s, time_s, side="left"))
            if start:
                self._joined = joined.slice(start, joined.count)
                self._parts = collections.deque([self._joined])

    @property
    def retained(self) -> int:
        return sum(p.count for p in self._parts)


class EventFuser:
    """Accumulates evidence and turns it into event updates as media time advances."""

    def __init__(
        self,
        rules: LaughterRules,
        frame_period_s: float,
        *,
        has_audio: bool,
        has_video: bool,
        interim: bool = True,
        record_timeline: bool = False,
    ) -> None:
        self.rules = rules
        self.frame_period_s = frame_period_s
        self.has_audio = has_audio
        self.has_video = has_video
        self.interim = interim
        self.hold_s = max(0.5, 0.75 * frame_period_s)
        self.context_s = max(MIN_CONTEXT_S, self.hold_s + frame_period_s)
        self._segmenter = HysteresisSegmenter(
            rules.enter_threshold,
            rules.exit_threshold,
            rules.min_event_s,
            rules.max_gap_s,
            GRID_STEP_S,
            rules.max_event_s,
        )
        self._windows = _Windows()
        self._reference = LevelReference()
        self._referenced_until_s = -math.inf  # windows centred up to here are in the reference
        self._observations: collections.deque[FaceObservation] = collections.deque()
        self._frames: collections.deque[float] = collections.deque()
        self._grid: collections.deque[tuple[float, float, float, float]] = collections.deque()
        self._record: list[tuple[float, float, float, float]] | None = [] if record_timeline else None
        self._next_index = 0
        self.audio_until_s = -math.inf if has_audio else math.inf  # last window centre scored
        self._audio_lag_s = 0.0  # a smoothed window waits for the windows after it
        self.video_until_s = -math.inf if has_video else math.inf  # every frame up to here is known
        self.peak_fused = 0.0
        self.events_ended = 0
        self._open_id: str | None = None
        self._last_ongoing_s = -math.inf
        self._count = 0

    # evidence in ---------------------------------------------------------------------------------------
    def add_audio(self, scores: WindowScores) -> None:
        """New audio windows, in time order after those already added."""
        if scores.count:
            self._windows.add(scores)
            self.audio_until_s = max(self.audio_until_s, float(scores.centers_s[-1]))
            self._audio_lag_s = (self.rules.audio_smooth_windows // 2) * scores.hop_s

    def add_frames(self, times_s: Sequence[float], observations: Sequence[FaceObservation]) -> None:
        """Analysed frames (with or without faces), in time order, and the faces found in them."""
        self._frames.extend(float(t) for t in times_s)
        self._observations.extend(observations)
        if len(times_s):
            self.video_until_s = max(self.video_until_s, float(max(times_s)))

    def note_video_until(self, time_s: float) -> None:
        """No frame up to ``time_s`` is still to be analysed (skipped, dropped, or the camera is idle)."""
        self.video_until_s = max(self.video_until_s, time_s)

    def note_audio_until(self, time_s: float) -> None:
        """No audio up to ``time_s`` is still to come (the microphone is idle)."""
        self.audio_until_s = max(self.audio_until_s, time_s)

    def end_audio(self) -> None:
        """The audio track is over."""
        self.audio_until_s = math.inf

    def end_video(self) -> None:
        """The video track is over."""
        self.video_until_s = math.inf

    # time advances -------------------------------------------------------------------------------------
    def ready_until_s(self) -> float:
        """Grid points up to here can be scored: no evidence still to come can change them."""
        return min(self.audio_until_s - self._audio_lag_s, self.video_until_s - self.hold_s)

    @property
    def scored_until_s(self) -> float:
        """Media time scored so far (the start of the next grid point)."""
        return self._next_index * GRID_STEP_S

    def advance(self, stop_index: int | None = None) -> list[EventUpdate]:
        """Score the grid up to what is ready (or up to ``stop_index``) and return the event updates."""
        if stop_index is None:
            ready = self.ready_until_s()
            if not math.isfinite(ready):
                return []
            stop_index = math.floor(ready / GRID_STEP_S + 1e-9) + 1
        if stop_index <= self._next_index:
            return []
        grid = np.arange(self._next_index, stop_index) * GRID_STEP_S
        lo, hi = float(grid[0]) - self.context_s, float(grid[-1]) + self.context_s
        audio = self._windows.between(lo, hi) if self.has_audio else None
        if audio is not None:
            # the context (at least MIN_CONTEXT_S on each side) holds every neighbour the smoothing takes
            audio = smooth_window_scores(audio, self.rules.audio_smooth_windows, self.rules.audio_smoothing)
        faces = [o for o in self._observations if lo <= o.time_s <= hi]
        part = score_grid(grid, audio, faces, self.frame_period_s, self.rules)
        audio_row = part.audio if part.audio is not None else np.full(grid.shape, np.nan)
        rows = list(
            zip(grid.tolist(), audio_row.tolist(), part.face.tolist(), part.fused.tolist(), strict=True)
        )
        self._grid.extend(rows)
        if self._record is not None:
            self._record.extend(rows)
        if part.fused.size:
            self.peak_fused = max(self.peak_fused, float(np.max(part.fused)))
        self._next_index = stop_index
        now_s = float(grid[-1])
        updates: list[EventUpdate] = []
        for t, fused in zip(grid.tolist(), part.fused.tolist(), strict=True):
            self._update_reference(t)
            for span in self._segmenter.push((t,), (fused,)):
                updates.extend(self._ended(span, now_s))
        updates.extend(self._interim(now_s))
        self._trim()
        return updates

    def finish(self, duration_s: float) -> list[EventUpdate]:
        """End of media at ``duration_s``: score the rest of the grid, close the span in progress."""
        self.end_audio()
        self.end_video()
        stop = max(1, math.ceil(duration_s / GRID_STEP_S - 1e-9))
        updates = self.advance(max(stop, self._next_index))
        now_s = self.scored_until_s - GRID_STEP_S
        for span in self._segmenter.flush():
            updates.extend(self._ended(span, now_s))
        return updates

    @property
    def splits(self) -> int:
        """Events ended because they reached ``rules.max_event_s``."""
        return self._segmenter.splits

    def timeline(self) -> FusedTimeline:
        """Every grid point scored (only with ``record_timeline``; for batch callers and tests)."""
        if self._record is None:
            raise ValueError("the timeline is only kept with record_timeline=True")
        rows = np.array(self._record, dtype=np.float64).reshape(-1, 4)
        audio = rows[:, 1] if self.has_audio else None
        return FusedTimeline(rows[:, 0], audio, rows[:, 2], rows[:, 3])

    @property
    def retained(self) -> dict[str, int]:
        """How many items of each kind the fuser holds now (for tests and benchmarks)."""
        return {
            "grid_points": len(self._grid),
            "windows": self._windows.retained,
            "observations": len(self._observations),
            "frames": len(self._frames),
        }

    # internals -----------------------------------------------------------------------------------------
    def _update_reference(self, time_s: float) -> None:
        if not self.has_audio:
            return
        fresh = self._windows.between(self._referenced_until_s + 1e-9, time_s)
        if fresh is not None:
            self._reference.add(fresh.rms_dbfs)
            self._referenced_until_s = float(fresh.centers_s[-1])

    def _view(self, span: Span) -> SpanEvidence:
        rows = [r for r in self._grid if span.start_s - 1e-9 <= r[0] < span.end_s - 1e-9]
        table = np.array(rows, dtype=np.float64).reshape(-1, 4)
        grid = FusedTimeline(table[:, 0], table[:, 1] if self.has_audio else None, table[:, 2], table[:, 3])
        rms = burst = np.zeros(0, np.float32)
        windows = self._windows.joined() if self.has_audio else None
        if windows is not None:
            near = self._windows.between(span.start_s - self.context_s, span.end_s + self.context_s)
            if near is not None:
                keep = span_windows(near.centers_s, span.start_s, span.end_s)
                rms, burst = near.rms_dbfs[keep], near.burst_rate_hertz[keep]
        tracks: dict[int, list[FaceObservation]] = collections.defaultdict(list)
        for obs in self._observations:
            if span.start_s - 1e-6 <= obs.time_s < span.end_s:
                tracks[obs.face_id].append(obs)
        frames = sum(1 for t in self._frames if span.start_s - 1e-6 <= t < span.end_s)
        return SpanEvidence(grid, rms, burst, dict(tracks), frames, self.has_audio)

    def _make(self, event_id: str, span: Span) -> LaughterEvent:
        return make_event(
            event_id,
            span,
            self._view(span),
            self._reference.median_dbfs(),
            self.scored_until_s,
            self.rules,
        )

    def _new_id(self) -> str:
        self._count += 1
        return f"evt-{self._count:04d}"

    def _ended(self, span: Span, now_s: float) -> list[EventUpdate]:
        updates: list[EventUpdate] = []
        if self._open_id is None:
            self._open_id = self._new_id()
            if self.interim:
                updates.append(EventUpdate(EventPhase.STARTED, self._make(self._open_id, span), now_s))
        updates.append(EventUpdate(EventPhase.ENDED, self._make(self._open_id, span), now_s))
        self._open_id = None
        self.events_ended += 1
        return updates

    def _interim(self, now_s: float) -> list[EventUpdate]:
        current = self._segmenter.open_span
        if not self.interim or current is None or current.end_s - current.start_s < self.rules.min_event_s:
            return []
        if self._open_id is None:
            self._open_id = self._new_id()
            self._last_ongoing_s = now_s
            return [EventUpdate(EventPhase.STARTED, self._make(self._open_id, current), now_s)]
        if now_s - self._last_ongoing_s >= ONGOING_INTERVAL_S:
            self._last_ongoing_s = now_s
            return [EventUpdate(EventPhase.ONGOING, self._make(self._open_id, current), now_s)]
        return []

    def _trim(self) -> None:
        current = self._segmenter.open_span
        keep_from = self.scored_until_s if current is None else min(current.start_s, self.scored_until_s)
        keep_from -= self.context_s
        while self._grid and self._grid[0][0] < keep_from:
            self._grid.popleft()
        while self._observations and self._observations[0].time_s < keep_from:
            self._observations.popleft()
        while self._frames and self._frames[0] < keep_from:
            self._frames.popleft()
        self._windows.drop_before(min(keep_from, self._referenced_until_s - 1.0))


def fuse_events(
    audio: WindowScores | None,
    faces: Sequence[FaceObservation],
    frame_times_s: npt.NDArray[np.float64],
    duration_s: float,
    frame_period_s: float,
    rules: LaughterRules = DEFAULT_RULES,
) -> tuple[list[LaughterEvent], FusedTimeline]:
    """Laughter events of a whole recording and the timeline they were cut from (the incremental fuser
    fed everything at once)."""
    fuser = EventFuser(
        rules,
        frame_period_s,
        has_audio=audio is not None,
        has_video=len(frame_times_s) > 0 or len(faces) > 0,
        interim=False,
        record_timeline=True,
    )
    if audio is not None:
        fuser.add_audio(audio)
    fuser.add_frames([float(t) for t in frame_times_s], sorted(faces, key=lambda o: o.time_s))
    updates = fuser.finish(duration_s)
    return [u.event for u in updates if u.phase is EventPhase.ENDED], fuser.timeline()
