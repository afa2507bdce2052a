"""Clip-level evaluation of a saved audio model on a labelled set."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from laughter_server.audio.dataset import LabeledClip
from laughter_server.audio.detector import AudioLaughterDetector
from laughter_server.audio.metrics import clip_metrics, false_positive_rates
from laughter_server.media.types import AudioClip


def evaluate_detector(
    detector: AudioLaughterDetector, clips: Sequence[LabeledClip], threshold: float = 0.5
) -> dict[str, Any]:
    """Precision/recall/F1/ROC AUC at ``threshold``, false-positive rate per negative label, speed."""
    started = time.perf_counter()
    scores = np.array([detector.score_clip(AudioClip(c.samples)) for c in clips])
    elapsed_s = time.perf_counter() - started
    truth = np.array([c.is_laughter for c in clips], dtype=int)
    audio_s = float(sum(c.duration_s for c in clips))
    missed = [c.relative_path for c, s in zip(clips, scores, strict=True) if c.is_laughter and s < threshold]
    false_alarms = [
        c.relative_path for c, s in zip(clips, scores, strict=True) if not c.is_laughter and s >= threshold
    ]
    return {
        "model": detector.name + "-" + detector.version,
        "model_sha256": detector.sha256,
        "clip_aggregate": detector.clip_aggregate,
        "threshold": threshold,
        "clips": len(clips),
        **clip_metrics(truth, scores, threshold),
        "false_positive_rate_by_class": false_positive_rates([c.label for c in clips], scores, threshold),
        "missed_laughter": missed,
        "false_alarms": false_alarms,
        "audio_seconds": round(audio_s, 1),
        "realtime_factor": round(audio_s / max(elapsed_s, 1e-9), 1),
    }
