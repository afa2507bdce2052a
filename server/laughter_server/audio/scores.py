"""Per-window laughter scores, the value passed from the detector to the segmenter."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt

CLIP_AGGREGATES = ("max", "top3_mean", "top_half_mean")
"""Ways to turn window probabilities into one clip score."""


def remap_operating_point(
    probabilities: npt.NDArray[np.floating[Any]], threshold: float
) -> npt.NDArray[np.float32]:
    """Monotone piecewise-linear map that sends ``threshold`` to 0.5 (0 and 1 stay put).

    A model's operating point (the clip threshold chosen in cross-validation) then sits at 0.5,
    where the fusion's enter threshold and ``laughter-eval``'s default threshold are.
    """
    values = np.clip(np.asarray(probabilities, dtype=np.float32), 0.0, 1.0)
    if not 0.0 < threshold < 1.0:
        raise ValueError("an operating threshold must lie strictly between 0 and 1")
    below = values * np.float32(0.5 / threshold)
    above = np.float32(0.5) + (values - np.float32(threshold)) * np.float32(0.5 / (1.0 - threshold))
    remapped: npt.NDArray[np.float32] = np.where(values < threshold, below, above).astype(np.float32)
    return remapped


@dataclasses.dataclass(frozen=True)
class WindowScores:
    """Laughter probability of each analysis window.

    ``centers_s`` are media times (the clip's ``start_s`` already added), increasing by ``hop_s``;
    each window spans ``centers_s ± window_s / 2``. ``rms_dbfs`` is the window's mean power in dB
    full scale; ``burst_rate_hertz`` is the number of loudness bursts per second in the window;
    ``peak_dbfs`` is the level of the window's loudest 50 ms block (None when not measured, as for
    synthetic scores: then ``rms_dbfs`` stands in for it).
    """

    centers_s: npt.NDArray[np.float64]
    probabilities: npt.NDArray[np.float32]
    rms_dbfs: npt.NDArray[np.float32]
    burst_rate_hertz: npt.NDArray[np.float32]
    window_s: float
    hop_s: float
    peak_dbfs: npt.NDArray[np.float32] | None = None

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
            peak_dbfs=None if self.peak_dbfs is None else self.peak_dbfs[start:stop],
        )

    @property
    def level_dbfs(self) -> npt.NDArray[np.float32]:
        """The loudest-block level of each window (its mean level when that was not measured)."""
        return self.rms_dbfs if self.peak_dbfs is None else self.peak_dbfs


SILENCE_DBFS = -60.0
"""A window whose loudest 50 ms block stays below this level is silent: it carries no audio evidence."""
SILENCE_BLOCK_S = 0.05


def window_peak_dbfs(
    samples: npt.NDArray[np.float32],
    sample_rate_hertz: int,
    centers_s: npt.NDArray[np.float64],
    window_s: float,
) -> npt.NDArray[np.float32]:
    """Level (dB full scale) of the loudest 50 ms block of each window centred at ``centers_s`` (clip
    times); blocks are aligned to the window's start and the clip is zero beyond its ends."""
    if centers_s.size == 0:
        return np.zeros(0, np.float32)
    block = max(1, round(SILENCE_BLOCK_S * sample_rate_hertz))
    blocks = max(1, round(window_s * sample_rate_hertz) // block)
    energy = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    starts = np.round((centers_s - window_s / 2.0) * sample_rate_hertz).astype(np.int64)
    edges = starts[:, None] + block * np.arange(blocks + 1)[None, :]
    clipped = np.clip(edges, 0, samples.size)
    sums = energy[clipped[:, 1:]] - energy[clipped[:, :-1]]
    peak = np.max(sums, axis=1) / block
    levels: npt.NDArray[np.float32] = (10.0 * np.log10(np.maximum(peak, 1e-20))).astype(np.float32)
    return levels


def aggregate_clip_score(probabilities: npt.NDArray[np.floating[Any]], method: str) -> float:
    """One clip score from window probabilities (0.0 when there are no windows).

    ``max``: the highest window; ``top3_mean``: mean of the three highest; ``top_half_mean``: mean of
    the highest half (rounded up), which a single laughter-like window in a long clip cannot carry.
    """
    values = np.asarray(probabilities, dtype=np.float64)
    if values.size == 0:
        return 0.0
    if method == "max":
        return float(values.max())
    if method == "top3_mean":
        return float(np.sort(values)[-3:].mean())
    if method == "top_half_mean":
        return float(np.sort(values)[-((values.size + 1) // 2) :].mean())
    raise ValueError("unknown clip aggregate: " + method)
