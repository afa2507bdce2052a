"""Event-level accuracy through the product's own path: scenes in, the engine's laughter events out.

Each scene is analysed by ``laughter_server.pipeline.engine.Engine`` as an audio-only recording (the fixed
audio blocks, the audio model, the recording's level reference, the ``EventFuser`` with the given
``LaughterRules``), exactly what whole-file analysis and live sessions run. Detected events are matched to
the true laughs by onset (``metrics.match_onsets``); the figures:

* segment precision, recall and F1 at 0.3 s and 0.5 s onset tolerance (every scene kind pooled);
* false events per hour of laughter-free audio (the negative scenes);
* per kind (laughs among other sounds, laughs over speech at each SNR) and per fold.

``CachedAudioStage`` remembers the audio model's window scores per block, so trying many event-layer
settings on the same scenes runs the model once; the fusion and segmentation run again for every setting.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from laughter_server.audio.detector import AudioLaughterDetector
from laughter_server.audio.features import FrameCache
from laughter_server.fusion.rules import DEFAULT_RULES, LaughterRules
from laughter_server.fusion.types import LaughterEvent
from laughter_server.inference.models import ModelDescription
from laughter_server.media.types import MediaInfo
from laughter_server.pipeline.audio_cascade import Block
from laughter_server.pipeline.audio_stage import AudioScoring, AudioStage
from laughter_server.pipeline.engine import Engine, Tracks
from laughter_server.pipeline.options import AnalysisOptions
from laughter_server.vision.emotion_versions import BUILTIN_VERSIONS, DEFAULT_EMOTION_VERSION, EmotionVersion

from laughter_train.metrics import match_onsets, segment_metrics
from laughter_train.scenes import Scene

EVENT_TOLERANCES_S = (0.3, 0.5)
"""Onset tolerances of the event-level figures."""
SECONDS_PER_HOUR = 3600.0


class NoFaceModels:
    """The face models of an audio-only analysis: the engine never calls them (no video track)."""

    async def detect(self, images: npt.NDArray[np.uint8]) -> dict[str, npt.NDArray[np.float32]]:
        raise RuntimeError("audio-only analysis has no face models")

    async def score_emotions(
        self, crops: npt.NDArray[np.uint8], version: EmotionVersion | None = None
    ) -> npt.NDArray[np.float32]:
        raise RuntimeError("audio-only analysis has no face models")

    def current_emotion_version(self) -> EmotionVersion:
        return BUILTIN_VERSIONS[DEFAULT_EMOTION_VERSION]

    def set_emotion_version(self, version: EmotionVersion) -> ModelDescription:
        raise RuntimeError("audio-only analysis has no face models")

    async def locate_landmarks(self, crops: npt.NDArray[np.uint8]) -> dict[str, npt.NDArray[np.float32]]:
        raise RuntimeError("audio-only analysis has no face models")

    async def is_ready(self) -> bool:
        return True

    def describe(self, emotion_version: EmotionVersion | None = None) -> list[ModelDescription]:
        return []


class CachedAudioStage(AudioStage):
    """An ``AudioStage`` that scores each distinct batch of blocks once (keyed by their samples and times) and
    answers repeats from memory: trying many event settings re-runs the fusion, not the model."""

    def __init__(self, detector: AudioLaughterDetector) -> None:
        super().__init__(detector, Path(detector.name + "-" + detector.version))
        self._cache: dict[str, AudioScoring] = {}

    async def score(self, blocks: list[Block], frames: FrameCache | None = None) -> AudioScoring:
        digest = hashlib.sha1(usedforsecurity=False)
        for clip, first_s, last_s in blocks:
            digest.update(repr((clip.start_s, first_s, last_s)).encode())
            digest.update(clip.samples.tobytes())
        key = digest.hexdigest()
        if key not in self._cache:
            self._cache[key] = await super().score(blocks, frames)
        return self._cache[key]

    def snapshot(self) -> AudioStage:
        return self


def detect_events(
    stage: AudioStage, samples: npt.NDArray[np.float32], rules: LaughterRules = DEFAULT_RULES
) -> list[LaughterEvent]:
    """The laughter events the service reports for 16 kHz mono ``samples`` without video."""

    async def run() -> list[LaughterEvent]:
        engine = Engine(
            AnalysisOptions(use_video=False, rules=rules),
            Tracks(video=False, audio=True),
            NoFaceModels(),
            stage,
            emit=lambda _: None,
            interim=False,
            keep_events=True,
        )
        await engine.push_audio(samples)
        duration_s = len(samples) / 16_000
        result = await engine.finish(MediaInfo(container="pcm", duration_s=duration_s, audio_codec="pcm"))
        return list(result.events)

    return asyncio.run(run())


def scene_counts(
    scene: Scene, detected: Sequence[tuple[float, float]], tolerances_s: Iterable[float] = EVENT_TOLERANCES_S
) -> dict[str, Any]:
    """Matches of one scene: per tolerance ``[true positives, false positives, misses]``, plus its length."""
    truth = [start for start, _ in scene.file.laughter]
    onsets = [start for start, _ in detected]
    counts = {}
    for tolerance in tolerances_s:
        match = match_onsets(truth, onsets, tolerance)
        counts[tolerance] = [match.true_positives, match.false_positives, match.misses]
    return {"counts": counts, "detected": len(detected), "seconds": scene.file.duration_s}


def summarize(rows: Sequence[tuple[Scene, dict[str, Any]]]) -> dict[str, Any]:
    """Pooled figures over ``(scene, scene_counts)`` rows: per tolerance precision/recall/F1 and counts,
    and false events per hour of the laughter-free (negative) scenes."""
    result: dict[str, Any] = {"scenes": len(rows)}
    for tolerance in EVENT_TOLERANCES_S:
        total = np.zeros(3, dtype=int)
        for _, counts in rows:
            total += np.array(counts["counts"][tolerance])
        tp, fp, miss = (int(v) for v in total)
        result[f"at_{tolerance:g}s"] = {
            **segment_metrics(tp, fp, miss),
            "true_positives": tp,
            "false_positives": fp,
            "misses": miss,
        }
    negative = [(s, c) for s, c in rows if not s.file.laughter]
    seconds = sum(c["seconds"] for _, c in negative)
    events = sum(c["detected"] for _, c in negative)
    result["laughter_free_seconds"] = round(seconds, 1)
    result["false_events_in_laughter_free_audio"] = events
    result["false_events_per_hour"] = round(events * SECONDS_PER_HOUR / seconds, 2) if seconds else None
    return result


def breakdown(rows: Sequence[tuple[Scene, dict[str, Any]]]) -> dict[str, Any]:
    """``summarize`` over all rows, per kind (laughter over speech per SNR) and per fold."""
    kinds: dict[str, list[tuple[Scene, dict[str, Any]]]] = {}
    folds: dict[int, list[tuple[Scene, dict[str, Any]]]] = {}
    for scene, counts in rows:
        name = scene.kind if scene.snr_db is None else f"over_speech_{scene.snr_db:g}db"
        kinds.setdefault(name, []).append((scene, counts))
        folds.setdefault(scene.fold, []).append((scene, counts))
    among = [(s, c) for s, c in rows if s.kind in ("laughter", "negative")]
    return {
        "all": summarize(rows),
        "among_sounds": summarize(among),
        "by_kind": {name: summarize(part) for name, part in sorted(kinds.items())},
        "by_fold": {str(fold): summarize(part) for fold, part in sorted(folds.items())},
    }


def evaluate_scenes(
    stages: Mapping[int, AudioStage], scenes: Sequence[Scene], rules: LaughterRules = DEFAULT_RULES
) -> tuple[dict[str, Any], list[tuple[Scene, dict[str, Any]]]]:
    """Analyse every scene with its fold's stage (``stages[scene.fold]``) and ``rules``; the breakdown and
    the per-scene rows."""
    rows = []
    for scene in scenes:
        events = detect_events(stages[scene.fold], scene.file.samples, rules)
        rows.append((scene, scene_counts(scene, [(e.start_s, e.end_s) for e in events])))
    return breakdown(rows), rows


def rules_dict(rules: LaughterRules) -> dict[str, float | str]:
    """The event-layer settings of ``rules`` (those the tuning tries)."""
    return {
        "enter_threshold": rules.enter_threshold,
        "exit_threshold": rules.exit_threshold,
        "min_event_s": rules.min_event_s,
        "max_gap_s": rules.max_gap_s,
        "audio_edge_s": rules.audio_edge_s,
        "audio_smooth_windows": rules.audio_smooth_windows,
        "audio_smoothing": rules.audio_smoothing,
    }
