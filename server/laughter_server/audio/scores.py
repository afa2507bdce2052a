"""Per-window laughter scores, the value passed from the detector to the segmenter."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt

CLIP_AGGREGATES = ("max", "top3_mean")
"""Ways to turn window probabilities into one clip score."""


@dataclasses.dataclass(frozen=True)
class WindowScores:
    """Laughter probability of each analysis window.

    ``centers_s`` are media times (the clip's ``start_s`` already added), increasing by ``hop_s``;
    each window spans ``centers_s ± window_s / 2``. ``rms_dbfs`` is the window's mean power in dB
    full scale; ``burst_rate_hertz`` is the number of loudness bursts per second in the window.
    """

    centers_s: npt.NDArray[np.float64]
    probabilities: npt.NDArray[np.float32]
    rms_dbfs: npt.NDArray[np.float32]
    burst_rate_hertz: npt.NDArray[np.float32]
    window_s: float
    hop_s: float

    @property
    def count(self) -> int:
        """Number of windows."""
        return int(self.centers_s.shape[0])

    def slice(self, start: int, stop: int) -> WindowScores:
        """Windows ``start`` (inclusive) to ``stop`` (exclusive), for feeding a stream in pieces."""
        return dataclasses.replace(
            self,
            centers_s=self.centers_s[start:stop],
            probabilities=self.probabilities[start:stop],
            rms_dbfs=self.rms_dbfs[start:stop],
            burst_rate_hertz=self.burst_rate_hertz[start:stop],
        )


def aggregate_clip_score(probabilities: npt.NDArray[np.floating[Any]], method: str) -> float:
    """One clip score from window probabilities: ``max`` or ``top3_mean`` (0.0 when there are no windows)."""
    values = np.asarray(probabilities, dtype=np.float64)
    if values.size == 0:
        return 0.0
    if method == "max":
        return float(values.max())
    if method == "top3_mean":
        return float(np.sort(values)[-3:].mean())
    raise ValueError("unknown clip aggregate: " + method)
