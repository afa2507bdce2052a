"""The audio stage: window laughter scores from the in-process detector, and a hot-swappable model (the old
model keeps serving until the new one is loaded). Silence is judged per window (``audio.scores``)."""

from __future__ import annotations

import asyncio
import dataclasses
import pathlib
import threading
import time
import warnings

import numpy as np
import structlog

from laughter_server.audio.detector import AudioLaughterDetector
from laughter_server.audio.features import FrameCache
from laughter_server.audio.resnet_frontend import MEL_BANDS, WINDOW_FRAMES
from laughter_server.audio.scores import SILENCE_BLOCK_S, SILENCE_DBFS, WindowScores, window_peak_dbfs
from laughter_server.audio.stack import StackedAudioDetector, is_stacked
from laughter_server.errors import ModelUnavailableError
from laughter_server.inference.laughter_model import LaughterModel
from laughter_server.inference.models import ModelDescription
from laughter_server.media.types import AUDIO_SAMPLE_RATE_HERTZ, AudioClip
from laughter_server.pipeline import audio_cascade
from laughter_server.pipeline.audio_cascade import Block

Detector = AudioLaughterDetector | StackedAudioDetector

log = structlog.get_logger(__name__)

# scikit-learn's forests predict through joblib; called from the server's worker threads they warn on every
# call that the thread-local sklearn configuration is not propagated (we set none), flooding the logs.
warnings.filterwarnings(
    "ignore", message="`sklearn.utils.parallel.delayed` should be used", category=UserWarning
)

__all__ = ["SILENCE_DBFS", "AudioScoring", "AudioStage", "is_silent", "load_detector"]


def load_detector(path: pathlib.Path) -> Detector:
    """The audio model at ``path``: a stacked one when its metadata says so; raises ModelLoadError."""
    if is_stacked(path.with_suffix(".json")):
        return StackedAudioDetector.load(path)
    return AudioLaughterDetector.load(path)


@dataclasses.dataclass(frozen=True)
class AudioScoring:
    """Window scores of a batch of blocks, and how the cascade went."""

    scores: list[WindowScores]
    second_unavailable: bool = False
    """A stacked model's second model could not serve: these are the cues model's own scores."""
    new_windows: int = 0
    reached_second: int = 0
    second_s: float = 0.0
    """Seconds spent waiting for the second model."""


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

    def __init__(self, detector: Detector, path: pathlib.Path, second: LaughterModel | None = None) -> None:
        self._detector = detector
        self._path = path
        self._second = second
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | pathlib.Path, second: LaughterModel | None = None) -> AudioStage:
        """Load the model at ``path`` (checksum verified); raises ModelLoadError. ``second`` serves the
        conversational ResNet of stacked models (without it they score with their cues model alone)."""
        model_path = pathlib.Path(path)
        return cls(load_detector(model_path), model_path, second)

    @property
    def detector(self) -> Detector:
        return self._detector

    @property
    def second_model(self) -> LaughterModel | None:
        """The model that serves stacked models' ResNet windows, once Triton is reached."""
        return self._second

    def use_second_model(self, second: LaughterModel | None) -> None:
        """The model that serves stacked models' ResNet windows (set once Triton is reached)."""
        self._second = second

    async def warm_up_second(self) -> None:
        """For a stacked model, one call of the second model, so the first analysis does not pay its start-up
        (the first inference of a Triton model is several times slower); a failure is only logged."""
        if not isinstance(self._detector, StackedAudioDetector) or self._second is None:
            return
        started = time.perf_counter()
        try:
            await self._second.score(
                np.zeros((1, WINDOW_FRAMES, MEL_BANDS), np.float32), self._detector.second_model_version
            )
        except ModelUnavailableError:
            log.warning(
                "audio_model.second_unavailable",
                version=self._detector.version,
                second_version=self._detector.second_model_version,
                during="warm-up",
            )
            return
        log.info("audio_model.second_warmed_up", seconds=round(time.perf_counter() - started, 3))

    async def score(self, blocks: list[Block], frames: FrameCache | None = None) -> AudioScoring:
        """Window scores of the blocks: the cues model, and for a stacked model the cascade through the second
        model. When the second model cannot serve, the cues model's scores with ``second_unavailable``.

        ``frames``: the frame cache of the stream the blocks come from, in order (one per analysis): each block
        takes the frames it shares with the block before it from there."""
        detector = self._detector
        if not isinstance(detector, StackedAudioDetector):
            clips = [clip for clip, _, _ in blocks]
            scores = await asyncio.to_thread(detector.predict_blocks, clips, frames)
            return AudioScoring(scores)
        prepared = await asyncio.to_thread(audio_cascade.prepare, detector, blocks, frames)
        reached = len(prepared.features)
        if self._second is None:
            return AudioScoring(audio_cascade.fallback(detector, prepared), True, prepared.new_windows)
        started = time.perf_counter()
        try:
            second = await self._second.score(prepared.features, detector.second_model_version)
        except ModelUnavailableError:
            log.warning(
                "audio_model.second_unavailable",
                version=detector.version,
                second_version=detector.second_model_version,
            )
            return AudioScoring(
                audio_cascade.fallback(detector, prepared),
                True,
                prepared.new_windows,
                second_s=time.perf_counter() - started,
            )
        waited = time.perf_counter() - started
        scores = audio_cascade.finish(detector, prepared, second)
        return AudioScoring(scores, False, prepared.new_windows, reached, waited)

    def warm_up(self) -> float:
        """Score 2 s of quiet noise once, so the first request does not pay the feature code's one-off
        start-up cost (about 1 s on a small CPU); returns the seconds it took."""
        started = time.perf_counter()
        noise = np.random.default_rng(0).normal(0.0, 0.05, 2 * AUDIO_SAMPLE_RATE_HERTZ).astype(np.float32)
        self._detector.predict_windows(AudioClip(noise))
        elapsed = time.perf_counter() - started
        log.info("audio_model.warmed_up", seconds=round(elapsed, 3))
        return elapsed

    def score_blocks(self, clips: list[AudioClip]) -> list[WindowScores]:
        """Window scores of each clip (one classifier call for all of them)."""
        return self._detector.predict_blocks(clips)

    def snapshot(self) -> AudioStage:
        """A stage fixed to the model in use now, unaffected by later reloads: one analysis scores and
        reports with the same model."""
        with self._lock:
            return AudioStage(self._detector, self._path, self._second)

    def reload(self, path: str | pathlib.Path) -> ModelDescription:
        """Load another model version and switch to it once loaded; the current one serves meanwhile.

        Raises ModelLoadError, with the current model still in use, when the new one cannot be loaded.
        """
        model_path = pathlib.Path(path)
        detector = load_detector(model_path)
        with self._lock:
            previous = self._detector
            self._detector, self._path = detector, model_path
        log.info("audio_model.swapped", previous=previous.version, current=detector.version)
        return _description(detector)

    def describe(self) -> ModelDescription:
        """Name, version and checksum of the model in use."""
        return _description(self._detector)


def _description(detector: Detector) -> ModelDescription:
    return ModelDescription(
        name=detector.name,
        version=detector.version,
        role="audio_laughter",
        backend="scikit-learn+triton" if isinstance(detector, StackedAudioDetector) else "scikit-learn",
        sha256=detector.sha256,
    )
