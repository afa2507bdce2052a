"""The audio stage: window laughter scores from the in-process detector, and a hot-swappable model (the old
model keeps serving until the new one is loaded). Silence is judged per window (``audio.scores``)."""

from __future__ import annotations

import pathlib
import threading
import time
import warnings

import numpy as np
import structlog

from laughter_server.audio.detector import AudioLaughterDetector
from laughter_server.audio.features import RecordingLevel
from laughter_server.audio.scores import SILENCE_BLOCK_S, SILENCE_DBFS, WindowScores, window_peak_dbfs
from laughter_server.inference.models import ModelDescription
from laughter_server.media.types import AUDIO_SAMPLE_RATE_HERTZ, AudioClip

log = structlog.get_logger(__name__)

# scikit-learn's forests predict through joblib; called from the server's worker threads they warn on every
# call that the thread-local sklearn configuration is not propagated (we set none), flooding the logs.
warnings.filterwarnings(
    "ignore", message="`sklearn.utils.parallel.delayed` should be used", category=UserWarning
)

__all__ = ["SILENCE_DBFS", "AudioStage", "is_silent"]


def is_silent(clip: AudioClip, threshold_dbfs: float = SILENCE_DBFS) -> bool:
    """True when no whole 50 ms block of the clip reaches ``threshold_dbfs`` RMS: the window silence rule
    (``window_peak_dbfs``) applied to the clip as one window."""
    duration_s = len(clip.samples) / clip.sample_rate_hertz
    if len(clip.samples) < round(SILENCE_BLOCK_S * clip.sample_rate_hertz):
        return True
    peak = window_peak_dbfs(clip.samples, clip.sample_rate_hertz, np.array([duration_s / 2]), duration_s)
    return bool(peak[0] < threshold_dbfs)


class AudioStage:
    """Holds the current audio model; ``track`` scores a clip, ``reload`` swaps the model atomically."""

    def __init__(self, detector: AudioLaughterDetector, path: pathlib.Path) -> None:
        self._detector = detector
        self._path = path
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | pathlib.Path) -> AudioStage:
        """Load the model at ``path`` (checksum verified); raises ModelLoadError."""
        model_path = pathlib.Path(path)
        return cls(AudioLaughterDetector.load(model_path), model_path)

    @property
    def detector(self) -> AudioLaughterDetector:
        return self._detector

    def warm_up(self) -> float:
        """Score 2 s of quiet noise once, so the first request does not pay the feature code's one-off
        start-up cost (about 1 s on a small CPU); returns the seconds it took."""
        started = time.perf_counter()
        noise = np.random.default_rng(0).normal(0.0, 0.05, 2 * AUDIO_SAMPLE_RATE_HERTZ).astype(np.float32)
        self._detector.predict_windows(AudioClip(noise))
        elapsed = time.perf_counter() - started
        log.info("audio_model.warmed_up", seconds=round(elapsed, 3))
        return elapsed

    def score_blocks(self, clips: list[AudioClip], level: RecordingLevel | None = None) -> list[WindowScores]:
        """Window scores of each clip (one classifier call for all of them); ``level``: the clips are the
        next blocks of one recording and are weighed against its level so far (``RecordingLevel``)."""
        return self._detector.predict_blocks(clips, level)

    def snapshot(self) -> AudioStage:
        """A stage fixed to the model in use now, unaffected by later reloads: one analysis scores and
        reports with the same model."""
        with self._lock:
            return AudioStage(self._detector, self._path)

    def reload(self, path: str | pathlib.Path) -> ModelDescription:
        """Load another model version and switch to it once loaded; the current one serves meanwhile.

        Raises ModelLoadError, with the current model still in use, when the new one cannot be loaded.
        """
        model_path = pathlib.Path(path)
        detector = AudioLaughterDetector.load(model_path)
        with self._lock:
            previous = self._detector
            self._detector, self._path = detector, model_path
        log.info("audio_model.swapped", previous=previous.version, current=detector.version)
        return _description(detector)

    def describe(self) -> ModelDescription:
        """Name, version and checksum of the model in use."""
        return _description(self._detector)


def _description(detector: AudioLaughterDetector) -> ModelDescription:
    return ModelDescription(
        name=detector.name,
        version=detector.version,
        role="audio_laughter",
        backend="scikit-learn",
        sha256=detector.sha256,
    )
