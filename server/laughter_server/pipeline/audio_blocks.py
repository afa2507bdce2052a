"""Audio in fixed blocks: 16 kHz samples placed by capture offset, handed out two windows at a time with the
same context on each side, so every analysis (whole file or live, whatever the chunking and timing) scores
exactly the same clips and gets exactly the same window scores."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from laughter_server.audio.scores import WindowScores
from laughter_server.media.types import AUDIO_SAMPLE_RATE_HERTZ, AudioClip

MAX_AUDIO_GAP_S = 10.0
"""A capture gap longer than this is not filled with silence (the chunk is refused before it gets here)."""


class AudioAccumulator:
    """16 kHz audio placed by capture offset; hands out the windows not yet scored, on the detector's hop grid.

    Each clip it hands out carries up to ``CONTEXT_HOPS`` hops of already-scored audio before the new windows
    and ``RIGHT_CONTEXT_S`` after them, so the frame-level features of the new windows see the same
    neighbourhood as in whole-file analysis and both give the same probabilities.
    """

    CONTEXT_HOPS = 4
    RIGHT_CONTEXT_S = 0.1  # covers the STFT frame and delta reach beyond a window's end
    BLOCK_WINDOWS = 2

    def __init__(self, window_s: float, hop_s: float) -> None:
        self.window = round(window_s * AUDIO_SAMPLE_RATE_HERTZ)
        self.hop = round(hop_s * AUDIO_SAMPLE_RATE_HERTZ)
        self._buffer = np.zeros(0, np.float32)
        self._buffer_start = 0  # absolute sample index of _buffer[0]
        self.total = 0  # absolute index one past the last sample
        self.next_window = 0

    def place(self, samples: npt.NDArray[np.float32], start_sample: int | None) -> None:
        """Append samples; a start beyond the current end inserts silence (a capture gap)."""
        if start_sample is not None and start_sample > self.total:
            gap = min(start_sample - self.total, int(MAX_AUDIO_GAP_S * AUDIO_SAMPLE_RATE_HERTZ))
            samples = np.concatenate([np.zeros(gap, np.float32), samples])
        self._buffer = np.concatenate([self._buffer, samples])
        self.total += len(samples)

    @property
    def pending_s(self) -> float:
        """Audio received but not yet scored."""
        return max(0, self.total - (self.next_window * self.hop + self.window)) / AUDIO_SAMPLE_RATE_HERTZ

    def take(self, final: bool = False) -> tuple[AudioClip, float, float] | None:
        """``(clip with context, first new centre s, last new centre s)``, or None when no window is complete.

        At the end of the stream (``final``) the last window may run past the audio, zero-padded, exactly as
        whole-file analysis pads its last window.
        """
        right = round(self.RIGHT_CONTEXT_S * AUDIO_SAMPLE_RATE_HERTZ)
        # always BLOCK_WINDOWS windows per clip, so the clips (and the scores) do not depend on timing
        last = self.next_window + self.BLOCK_WINDOWS - 1
        if final:
            if self.total <= self.next_window * self.hop:
                return None
            last = min(last, max(self.next_window, -(-(self.total - self.window) // self.hop)))
        elif last * self.hop + self.window + right > self.total:
            return None
        stop = min(last * self.hop + self.window + right, self.total)
        start = max(0, self.next_window - self.CONTEXT_HOPS) * self.hop
        clip = self._buffer[start - self._buffer_start : stop - self._buffer_start]
        half_s = self.window / 2 / AUDIO_SAMPLE_RATE_HERTZ
        first_s = self.next_window * self.hop / AUDIO_SAMPLE_RATE_HERTZ + half_s
        last_s = last * self.hop / AUDIO_SAMPLE_RATE_HERTZ + half_s
        self.next_window = last + 1
        keep_from = max(0, self.next_window - self.CONTEXT_HOPS) * self.hop
        self._buffer = self._buffer[keep_from - self._buffer_start :]
        self._buffer_start = keep_from
        return AudioClip(samples=clip.copy(), start_s=start / AUDIO_SAMPLE_RATE_HERTZ), first_s, last_s


def windows_between(scores: WindowScores, first_s: float, last_s: float) -> WindowScores:
    """The windows centred in ``[first_s, last_s]`` (the new ones; the rest were context)."""
    start = int(np.searchsorted(scores.centers_s, first_s - 1e-6, side="left"))
    stop = int(np.searchsorted(scores.centers_s, last_s + 1e-6, side="right"))
    return scores.slice(start, stop)
