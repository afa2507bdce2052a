"""Hysteresis segmentation of a score over time, usable in one go or incrementally (``push`` / ``flush``).

A segment opens when the score reaches ``enter``, stays open while it is at least ``exit``, closes after it
drops below; segments separated by less than ``max_gap_s`` merge, and those shorter than ``min_duration_s``
are discarded. A segment that reaches ``max_duration_s`` is ended there (counted in ``splits``); laughter
that goes on opens a new one once the score is back at ``enter``. The incremental form gives exactly the
batch result: a segment is final only once a gap longer than ``max_gap_s`` has been seen after it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt


@dataclasses.dataclass(frozen=True)
class Span:
    """A closed segment: ``[start_s, end_s)`` with the time and value of its highest score."""

    start_s: float
    end_s: float
    peak_s: float
    peak_score: float


class HysteresisSegmenter:
    """Turns ``(time_s, score)`` samples on a regular step into spans."""

    def __init__(
        self,
        enter: float,
        exit: float,
        min_duration_s: float,
        max_gap_s: float,
        step_s: float,
        max_duration_s: float = float("inf"),
    ) -> None:
        if not 0.0 <= exit <= enter <= 1.0:
            raise ValueError("thresholds must satisfy 0 <= exit <= enter <= 1")
        if not max_duration_s > max(min_duration_s, step_s):
            raise ValueError("max_duration_s must be longer than min_duration_s and step_s")
        self.enter, self.exit = enter, exit
        self.min_duration_s, self.max_gap_s, self.step_s = min_duration_s, max_gap_s, step_s
        self.max_duration_s = max_duration_s
        self.splits = 0
        self._active = False
        self._open: list[float] | None = None  # [start, end, peak_s, peak_score] of the span being built
        self._pending: Span | None = None  # closed, waiting to see whether the next one merges into it
        self._final: list[Span] = []  # closed and beyond merging, not yet returned

    @property
    def open_span(self) -> Span | None:
        """The span in progress (pending merge or still active), for live 'ongoing' updates."""
        if self._open is not None:
            start = self._pending.start_s if self._pending is not None else self._open[0]
            peak_s, peak = self._open[2], self._open[3]
            if self._pending is not None and self._pending.peak_score > peak:
                peak_s, peak = self._pending.peak_s, self._pending.peak_score
            return Span(start, self._open[1], peak_s, peak)
        return self._pending

    def push(self, times_s: Iterable[float], scores: Iterable[float]) -> list[Span]:
        """Feed samples in time order; returns the spans that became final."""
        done: list[Span] = []
        for t, s in zip(times_s, scores, strict=True):
            t, s = float(t), float(s)
            if self._active:
                if s >= self.exit:
                    assert self._open is not None
                    self._open[1] = t + self.step_s
                    if s > self._open[3]:
                        self._open[2], self._open[3] = t, s
                else:
                    self._active = False
                    self._close_open()
            elif s >= self.enter:
                self._active = True
                self._open = [t, t + self.step_s, t, s]
            if self._active and self._too_long():
                self.splits += 1
                self._active = False
                self._close_open()
                done.extend(self._emit_pending())
            if self._pending is not None and not self._active and t - self._pending.end_s > self.max_gap_s:
                done.extend(self._emit_pending())
        return done

    def _too_long(self) -> bool:
        assert self._open is not None
        start = self._pending.start_s if self._pending is not None else self._open[0]
        return self._open[1] - start >= self.max_duration_s - 1e-9

    def _close_open(self) -> None:
        assert self._open is not None
        start, end, peak_s, peak = self._open
        self._open = None
        if self._pending is not None and start - self._pending.end_s <= self.max_gap_s:
            keep_old = self._pending.peak_score >= peak
            self._pending = Span(
                self._pending.start_s,
                end,
                self._pending.peak_s if keep_old else peak_s,
                self._pending.peak_score if keep_old else peak,
            )
        else:
            # a new span far from the pending one: the pending one is final (emitted by push/flush)
            self._flush_pending_into_queue()
            self._pending = Span(start, end, peak_s, peak)

    def _flush_pending_into_queue(self) -> None:
        if self._pending is not None:
            self._final.append(self._pending)
            self._pending = None

    def _emit_pending(self) -> list[Span]:
        self._flush_pending_into_queue()
        out = [span for span in self._final if span.end_s - span.start_s >= self.min_duration_s]
        self._final.clear()
        return out

    def flush(self) -> list[Span]:
        """End of input: close what is open and return the remaining spans."""
        if self._active:
            self._active = False
            self._close_open()
        return self._emit_pending()


def segment_scores(
    times_s: npt.NDArray[np.float64],
    scores: npt.NDArray[np.float64],
    *,
    enter: float,
    exit: float,
    min_duration_s: float,
    max_gap_s: float,
    step_s: float,
    max_duration_s: float = float("inf"),
) -> list[Span]:
    """Batch form of ``HysteresisSegmenter``."""
    segmenter = HysteresisSegmenter(enter, exit, min_duration_s, max_gap_s, step_s, max_duration_s)
    return segmenter.push(times_s, scores) + segmenter.flush()
