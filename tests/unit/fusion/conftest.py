"""Builders of synthetic audio scores and face observations for the fusion tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from laughter_server.audio.scores import WindowScores
from laughter_server.fusion.rules import DEFAULT_RULES
from laughter_server.fusion.types import BoundingBox, FaceObservation

WINDOW_S = 0.5
HOP_S = 0.1
LEFT_BOX = BoundingBox(0.1, 0.1, 0.3, 0.4)
RIGHT_BOX = BoundingBox(0.6, 0.1, 0.8, 0.4)


def make_audio(
    duration_s: float,
    laughs: Sequence[tuple[float, float, float]] = (),
    *,
    base: float = 0.05,
    laugh_dbfs: float = -20.0,
    base_dbfs: float = -30.0,
) -> WindowScores:
    """Window scores at ``base`` probability, with ``(start_s, end_s, probability)`` stretches of laughter.

    As the detector gives them: a window scores high once it is mostly laughter, so only windows centred
    at least ``DEFAULT_RULES.audio_edge_s`` inside a stretch get its probability.
    """
    centers = np.arange(WINDOW_S / 2, duration_s - WINDOW_S / 2 + 1e-9, HOP_S)
    probabilities = np.full(centers.shape, base, dtype=np.float32)
    rms = np.full(centers.shape, base_dbfs, dtype=np.float32)
    for start_s, end_s, probability in laughs:
        edge_s = DEFAULT_RULES.audio_edge_s
        inside = (centers >= start_s + edge_s) & (centers < end_s - edge_s)
        probabilities[inside] = probability
        rms[inside] = laugh_dbfs
    bursts = np.full(centers.shape, 3.0, dtype=np.float32)
    return WindowScores(centers, probabilities, rms, bursts, WINDOW_S, HOP_S)


def emotions(happy: float = 0.0, surprise: float = 0.0, fear: float = 0.0) -> tuple[float, ...]:
    """Probabilities in EMOTIONS order with the rest on neutral."""
    neutral = max(0.0, 1.0 - happy - surprise - fear)
    return (0.0, 0.0, fear, happy, 0.0, surprise, neutral)


def make_track(
    face_id: int,
    times_s: npt.NDArray[np.float64],
    levels: Callable[[float], tuple[float, float, float]],
    box: BoundingBox = LEFT_BOX,
) -> list[FaceObservation]:
    """One face seen at every time, with ``levels(t) -> (happy, surprise, fear)``."""
    return [FaceObservation(float(t), face_id, box, 0.9, emotions(*levels(float(t)))) for t in times_s]
