"""Turn window probabilities into laughter segments: hysteresis, gap merging, minimum duration.

Rules, applied window by window (each window stands for ``center_s ± hop_s / 2``):

* a segment opens at a window whose probability is at least ``threshold`` (the enter threshold);
* it stays open while probabilities stay at or above ``exit_threshold`` (default
  ``threshold - 0.15``) and ends with the last such window;
* a new opening within ``max_gap_s`` of the previous end continues the same segment;
* segments shorter than ``min_duration_s`` (after merging) are dropped.

``StreamingSegmenter`` applies the rules incrementally and gives the same segments as
``segment_laughter`` on the whole sequence, whatever the pieces pushed.
"""

from __future__ import annotations

import dataclasses
import enum

import numpy as np

from laughter_server.audio.scores import WindowScores

DEFAULT_HYSTERESIS = 0.15


class SegmentPhase(enum.Enum):
    """Where a segment is in its life, for live updates."""

    STARTED = "started"
    ONGOING = "ongoing"
    ENDED = "ended"


@dataclasses.dataclass(frozen=True)
class SegmenterSettings:
    """Thresholds and durations of the segmenter."""

    threshold: float = 0.5
    min_duration_s: float = 0.3
    max_gap_s: float = 0.3
    exit_threshold: float | None = None

    @property
    def effective_exit_threshold(self) -> float:
        """The exit threshold actually used (never above the enter threshold)."""
        if self.exit_threshold is None:
            return max(0.0, self.threshold - DEFAULT_HYSTERESIS)
        return min(self.exit_threshold, self.threshold)


@dataclasses.dataclass(frozen=True)
class AudioSegment:
    """One stretch of laughter heard in the audio (media times in seconds)."""

    start_s: float
    end_s: float
    peak_s: float
    peak_probability: float
    mean_probability: float
    loudness_dbfs: float
    burst_rate_hertz: float

    @property
    def duration_s(self) -> float:
        """``end_s - start_s``."""
        return self.end_s - self.start_s


@dataclasses.dataclass(frozen=True)
class SegmentUpdate:
    """A segment as known so far (``STARTED`` / ``ONGOING``) or final (``ENDED``)."""

    phase: SegmentPhase
    segment: AudioSegment


def segment_laughter(
    scores: WindowScores,
    threshold: float = 0.5,
    min_duration_s: float = 0.3,
    max_gap_s: float = 0.3,
    exit_threshold: float | None = None,
) -> list[AudioSegment]:
    """All laughter segments of ``scores`` (see the module doc for the rules)."""
    segmenter = StreamingSegmenter(SegmenterSettings(threshold, min_duration_s, max_gap_s, exit_threshold))
    updates = segmenter.push(scores) + segmenter.flush()
    return [update.segment for update in updates if update.phase is SegmentPhase.ENDED]


@dataclasses.dataclass
class _Window:
    center_s: float
    probability: float
    rms_dbfs: float
    burst_rate_hertz: float


class StreamingSegmenter:
    """Stateful segmenter: ``push`` window scores as they come, ``flush`` at the end of the stream."""

    def __init__(self, settings: SegmenterSettings | None = None) -> None:
        self.settings = settings or SegmenterSettings()
        self._exit = self.settings.effective_exit_threshold
        self._windows: list[_Window] = []  # windows of the open segment, up to its last active one
        self._gap: list[_Window] = []  # windows after the open segment's end, not yet merged
        self._is_active = False
        self._is_started = False
        self._half_hop_s = 0.0

    def push(self, scores: WindowScores) -> list[SegmentUpdate]:
        """Consume more windows (increasing times); return the updates they cause."""
        updates: list[SegmentUpdate] = []
        if scores.count == 0:
            return updates
        self._half_hop_s = scores.hop_s / 2.0
        before = self._segment_end_s()
        for index in range(scores.count):
            window = _Window(
                float(scores.centers_s[index]),
                float(scores.probabilities[index]),
                float(scores.rms_dbfs[index]),
                float(scores.burst_rate_hertz[index]),
            )
            updates.extend(self._step(window))
        updates.extend(self._progress(changed=self._segment_end_s() != before))
        return updates

    def flush(self) -> list[SegmentUpdate]:
        """End of stream: close the open segment, if any."""
        return self._close()

    def _step(self, window: _Window) -> list[SegmentUpdate]:
        settings = self.settings
        if self._is_active:
            if window.probability >= self._exit:
                self._windows.append(window)
            else:
                self._is_active = False
                self._gap = [window]
            return []
        if not self._windows:
            if window.probability >= settings.threshold:
                self._open(window)
            return []
        end_s = self._windows[-1].center_s + self._half_hop_s
        gap_s = (window.center_s - self._half_hop_s) - end_s
        if window.probability >= settings.threshold and gap_s <= settings.max_gap_s + 1e-9:
            self._windows.extend(self._gap)
            self._windows.append(window)
            self._gap = []
            self._is_active = True
            return []
        if (window.center_s + self._half_hop_s) - end_s > settings.max_gap_s + 1e-9:
            updates = self._close()
            if window.probability >= settings.threshold:
                self._open(window)
            return updates
        self._gap.append(window)
        return []

    def _open(self, window: _Window) -> None:
        self._windows = [window]
        self._gap = []
        self._is_active = True
        self._is_started = False

    def _progress(self, changed: bool) -> list[SegmentUpdate]:
        segment = self._current()
        if segment is None or segment.duration_s < self.settings.min_duration_s - 1e-9:
            return []
        if not self._is_started:
            self._is_started = True
            return [SegmentUpdate(SegmentPhase.STARTED, segment)]
        return [SegmentUpdate(SegmentPhase.ONGOING, segment)] if changed else []

    def _close(self) -> list[SegmentUpdate]:
        segment = self._current()
        was_started = self._is_started
        self._windows, self._gap = [], []
        self._is_active = self._is_started = False
        if segment is None or segment.duration_s < self.settings.min_duration_s - 1e-9:
            return []
        ended = SegmentUpdate(SegmentPhase.ENDED, segment)
        return [ended] if was_started else [SegmentUpdate(SegmentPhase.STARTED, segment), ended]

    def _segment_end_s(self) -> float | None:
        return self._windows[-1].center_s + self._half_hop_s if self._windows else None

    def _current(self) -> AudioSegment | None:
        if not self._windows:
            return None
        probabilities = np.array([w.probability for w in self._windows])
        power = 10.0 ** (np.array([w.rms_dbfs for w in self._windows]) / 10.0)
        active = [w.burst_rate_hertz for w in self._windows if w.probability >= self._exit]
        peak = int(np.argmax(probabilities))
        return AudioSegment(
            start_s=self._windows[0].center_s - self._half_hop_s,
            end_s=self._windows[-1].center_s + self._half_hop_s,
            peak_s=self._windows[peak].center_s,
            peak_probability=float(probabilities[peak]),
            mean_probability=float(probabilities.mean()),
            loudness_dbfs=float(10.0 * np.log10(power.mean() + 1e-12)),
            burst_rate_hertz=float(np.mean(active)) if active else 0.0,
        )
