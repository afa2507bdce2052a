"""The audio cascade of a stacked model: the cues model scores every window of a batch of blocks; the new
windows it does not reject outright get the ResNet front end (the block resampled to 8 kHz once) and go to
the second model; the combiner merges both scores.

``prepare`` and ``fallback`` are pure CPU work (run off the event loop); the second model is awaited between.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from laughter_server.audio import resnet_frontend
from laughter_server.audio.features import FrameCache
from laughter_server.audio.scores import WindowScores, remap_operating_point
from laughter_server.audio.stack import StackedAudioDetector, cascade_mask
from laughter_server.media.types import AudioClip

Block = tuple[AudioClip, float, float]
"""A block from ``AudioAccumulator.take``: the clip (with context), first and last new window centre (s)."""


@dataclasses.dataclass(frozen=True)
class CascadeInput:
    """What the second model is asked for: the cues scores of each block, which of its windows reach the
    second model, and their features, all blocks' rows together."""

    raw: list[WindowScores]
    reached: list[npt.NDArray[np.bool_]]
    features: npt.NDArray[np.float32]
    new_windows: int
    """How many new (not context) windows the blocks hold; ``len(features)`` of them reach the second model."""


def _new_windows(scores: WindowScores, first_s: float, last_s: float) -> npt.NDArray[np.bool_]:
    centers = scores.centers_s
    return (centers >= first_s - 1e-6) & (centers <= last_s + 1e-6)


def prepare(
    detector: StackedAudioDetector, blocks: Sequence[Block], cache: FrameCache | None = None
) -> CascadeInput:
    """Cues scores of every block and the ResNet features of the new windows that pass the cascade
    (``cache``: the stream's frame cache, see ``AudioLaughterDetector.predict_blocks``)."""
    raw = detector.cues_raw_blocks([clip for clip, _, _ in blocks], cache)
    reached: list[npt.NDArray[np.bool_]] = []
    features: list[npt.NDArray[np.float32]] = []
    new_windows = 0
    for (clip, first_s, last_s), scores in zip(blocks, raw, strict=True):
        new = _new_windows(scores, first_s, last_s)
        new_windows += int(new.sum())
        mask = cascade_mask(scores.probabilities, detector.cascade_threshold) & new
        reached.append(mask)
        if not mask.any():
            continue
        block_8k = resnet_frontend.resample_block(clip.samples, clip.sample_rate_hertz)
        starts_s = scores.centers_s[mask] - clip.start_s - scores.window_s / 2.0
        starts = np.round(starts_s * resnet_frontend.SAMPLE_RATE_HERTZ).astype(np.int64)
        features.append(resnet_frontend.window_features(block_8k, starts))
    stacked = (
        np.concatenate(features)
        if features
        else np.zeros((0, resnet_frontend.WINDOW_FRAMES, resnet_frontend.MEL_BANDS), np.float32)
    )
    return CascadeInput(raw, reached, stacked, new_windows)


def finish(
    detector: StackedAudioDetector, prepared: CascadeInput, second: npt.NDArray[np.float32]
) -> list[WindowScores]:
    """The stack's window scores, given the second model's probabilities of the reached windows in order."""
    out: list[WindowScores] = []
    offset = 0
    for scores, mask in zip(prepared.raw, prepared.reached, strict=True):
        values = np.zeros(scores.count, np.float32)
        count = int(mask.sum())
        values[mask] = second[offset : offset + count]
        offset += count
        out.append(detector.finish(scores, values, mask))
    return out


def fallback(detector: StackedAudioDetector, prepared: CascadeInput) -> list[WindowScores]:
    """The cues model's own scores (its operating point), for when the second model cannot serve."""
    threshold = detector.base.operating_threshold
    return [
        dataclasses.replace(s, probabilities=remap_operating_point(s.probabilities, threshold))
        for s in prepared.raw
    ]
