"""Incremental fusion for live sessions: the same scores, segmenter and event builder as whole-file
analysis, advanced as audio windows and analysed frames arrive.

Grid points become final once every modality the session carries has been processed past them (a modality
that lags more than ``MAX_LAG_S`` behind the other is not waited for). Final scores feed the incremental
hysteresis segmenter: an event is announced STARTED once the span in progress is at least ``min_event_s``
long, ONGOING about every second with its current confidence, and ENDED with its final type and duration.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from laughter_server.audio.scores import WindowScores
from laughter_server.fusion.events import GRID_STEP_S, FusedTimeline, face_tracks, make_event, score_grid
from laughter_server.fusion.rules import LaughterRules
from laughter_server.fusion.segmenter import HysteresisSegmenter, Span
from laughter_server.fusion.types import FaceObservation, LaughterEvent

MAX_LAG_S = 2.0
CONTEXT_S = 2.0
ONGOING_INTERVAL_S = 1.0


@dataclasses.dataclass(frozen=True)
class EventUpdate:
    """A change in an event's life: ``phase`` is started, ongoing or ended."""

    phase: str
    event: LaughterEvent
    processed_s: float = 0.0  # media time analysed when the update was made


class LiveFuser:
    """Accumulates evidence and turns it into event updates as the media time advances."""

    def __init__(
        self, rules: LaughterRules, frame_period_s: float, *, has_audio: bool, has_video: bool
    ) -> None:
        self.rules = rules
        self.frame_period_s = frame_period_s
        self.has_audio = has_audio
        self.has_video = has_video
        self._segmenter = HysteresisSegmenter(
            rules.enter_threshold, rules.exit_threshold, rules.min_event_s, rules.max_gap_s, GRID_STEP_S
        )
        self._audio_parts: list[WindowScores] = []
        self._audio: WindowScores | None = None
        self.observations: list[FaceObservation] = []
        self.frame_times: list[float] = []
        self._grid: list[float] = []
        self._audio_grid: list[float] = []
        self._face_grid: list[float] = []
        self._fused: list[float] = []
        self._next_index = 0
        self.events: list[LaughterEvent] = []
        self._open_id: str | None = None
        self._last_ongoing_s = -1.0
        self._count = 0
        self.audio_until_s: float | None = None
        self.video_until_s: float | None = None
        self.audio_pending = False  # media received but not yet analysed
        self.video_pending = False

    # evidence in ---------------------------------------------------------------------------------------
    def add_audio(self, scores: WindowScores) -> None:
        """New audio windows (in time order, after those already added)."""
        if scores.count:
            self._audio_parts.append(scores)
            self._audio = None
            self.audio_until_s = float(scores.centers_s[-1])

    def add_frames(self, times_s: Sequence[float], observations: Sequence[FaceObservation]) -> None:
        """Analysed frames (with or without faces) and the faces found in them."""
        self.frame_times.extend(times_s)
        self.observations.extend(observations)
        if times_s:
            self.video_until_s = max(self.video_until_s or 0.0, float(max(times_s)))

    def note_video_until(self, time_s: float) -> None:
        """Every frame up to ``time_s`` has been analysed, dropped or skipped by sampling."""
        self.video_until_s = max(self.video_until_s or 0.0, time_s)

    @property
    def audio(self) -> WindowScores | None:
        """All audio windows so far."""
        if self._audio is None and self._audio_parts:
            first = self._audio_parts[0]
            self._audio = dataclasses.replace(
                first,
                centers_s=np.concatenate([p.centers_s for p in self._audio_parts]),
                probabilities=np.concatenate([p.probabilities for p in self._audio_parts]),
                rms_dbfs=np.concatenate([p.rms_dbfs for p in self._audio_parts]),
                burst_rate_hertz=np.concatenate([p.burst_rate_hertz for p in self._audio_parts]),
            )
            self._audio_parts = [self._audio]
        return self._audio

    # time advances ---------------------------------------------------------------------------------------
    def watermark_s(self) -> float:
        """Media time up to which every carried modality has been processed.

        A modality that still has media waiting (``video_pending`` / ``audio_pending``) is always waited for;
        one that is idle but lags more than ``MAX_LAG_S`` behind the other (a camera that stopped sending,
        a muted track) is not, so the other keeps producing events.
        """
        tracks = []
        if self.has_audio:
            tracks.append((self.audio_until_s, self.audio_pending))
        if self.has_video:
            tracks.append((self.video_until_s, self.video_pending))
        known = [mark for mark, _ in tracks if mark is not None]
        if not known:
            return 0.0
        lead = max(known)
        marks = []
        for mark, pending in tracks:
            if mark is None:
                marks.append(0.0 if pending else max(0.0, lead - MAX_LAG_S))
            else:
                marks.append(mark if pending else max(mark, lead - MAX_LAG_S))
        return min(marks)

    def advance(self, until_s: float | None = None) -> list[EventUpdate]:
        """Score the grid up to ``until_s`` (default: the watermark) and return the event updates."""
        limit = self.watermark_s() if until_s is None else until_s
        stop = int(np.floor(limit / GRID_STEP_S + 1e-9))
        if stop <= self._next_index:
            return []
        grid = np.arange(self._next_index, stop) * GRID_STEP_S
        lo, hi = float(grid[0]) - CONTEXT_S, float(grid[-1]) + CONTEXT_S
        audio = self._audio_slice(lo, hi) if self.has_audio else None
        faces = [o for o in self.observations[-2000:] if lo <= o.time_s <= hi]
        part = score_grid(grid, audio, faces, self.frame_period_s, self.rules)
        self._grid.extend(grid.tolist())
        self._audio_grid.extend(
            (part.audio if part.audio is not None else np.full(grid.shape, np.nan)).tolist()
        )
        self._face_grid.extend(part.face.tolist())
        self._fused.extend(part.fused.tolist())
        self._next_index = stop
        finals = self._segmenter.push(grid, part.fused)
        return self._updates(finals, now_s=float(grid[-1]))

    def finish(self, end_s: float) -> list[EventUpdate]:
        """End of media: score what is left, close the span in progress, return the last updates."""
        updates = self.advance(max(end_s, self.watermark_s()))
        return updates + self._updates(self._segmenter.flush(), now_s=end_s)

    def timeline(self) -> FusedTimeline:
        """Every grid point scored so far."""
        audio = np.array(self._audio_grid) if self.has_audio and self._audio_grid else None
        return FusedTimeline(np.array(self._grid), audio, np.array(self._face_grid), np.array(self._fused))

    # internals -------------------------------------------------------------------------------------------
    def _audio_slice(self, lo: float, hi: float) -> WindowScores | None:
        audio = self.audio
        if audio is None:
            return None
        keep = (audio.centers_s >= lo) & (audio.centers_s <= hi)
        if not keep.any():
            return None
        start, stop = int(np.argmax(keep)), int(len(keep) - np.argmax(keep[::-1]))
        return audio.slice(start, stop)

    def _make(self, event_id: str, span: Span) -> LaughterEvent:
        return make_event(
            event_id,
            span,
            self.timeline(),
            self.audio if self.has_audio else None,
            face_tracks([o for o in self.observations if span.start_s - 1 <= o.time_s <= span.end_s + 1]),
            np.array(self.frame_times, dtype=np.float64) if self.has_video else np.zeros(0),
            self.rules,
        )

    def _new_id(self) -> str:
        self._count += 1
        return f"evt-{self._count:04d}"

    def _updates(self, finals: list[Span], now_s: float) -> list[EventUpdate]:
        updates: list[EventUpdate] = []
        for span in finals:
            if self._open_id is None:
                self._open_id = self._new_id()
                updates.append(EventUpdate("started", self._make(self._open_id, span), now_s))
            event = self._make(self._open_id, span)
            self.events.append(event)
            updates.append(EventUpdate("ended", event, now_s))
            self._open_id = None
        current = self._segmenter.open_span
        if current is not None and current.end_s - current.start_s >= self.rules.min_event_s:
            if self._open_id is None:
                self._open_id = self._new_id()
                self._last_ongoing_s = now_s
                updates.append(EventUpdate("started", self._make(self._open_id, current), now_s))
            elif now_s - self._last_ongoing_s >= ONGOING_INTERVAL_S:
                self._last_ongoing_s = now_s
                updates.append(EventUpdate("ongoing", self._make(self._open_id, current), now_s))
        return updates
