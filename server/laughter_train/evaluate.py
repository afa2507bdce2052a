"""Evaluation of a saved audio model on a labelled set: clip level, and segment level on timed audio.

Segment level needs audio with known laughter onsets: either a user's annotations
(``load_segment_annotations``) or scenes built from the labelled clips themselves (``build_scenes``).
Segments are detected exactly as the server does for audio-only media (``detect_segments``).
"""

from __future__ import annotations

import csv
import dataclasses
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from laughter_server.audio.detector import AudioLaughterDetector
from laughter_server.fusion.events import GRID_STEP_S
from laughter_server.fusion.fuser import fuse_events
from laughter_server.fusion.rules import DEFAULT_RULES, LaughterRules
from laughter_server.media.types import AudioClip
from laughter_server.pipeline.audio_stage import is_silent
from laughter_server.pipeline.options import AnalysisOptions

from laughter_train.dataset import (
    TARGET_SAMPLE_RATE_HERTZ,
    LabeledClip,
    TrainingDataError,
    check_not_reserved,
    read_labeled_clip,
)
from laughter_train.metrics import (
    clip_metrics,
    false_positive_rates,
    match_onsets,
    metrics_against,
    precision_recall_points,
    roc_auc_by_class,
    segment_metrics,
)

DEFAULT_ONSET_TOLERANCE_S = 0.3
REPORTED_TOLERANCES_S = (0.1, 0.2, 0.3, 0.5, 1.0)
"""Onset tolerances at which segment F1 is also reported, to show how much is onset timing."""
SEGMENT_COLUMNS = ("file", "start_s", "end_s")

ACTIVE_FRAME_S = 0.01
ACTIVE_FLOOR_DBFS = -60.0
ACTIVE_BELOW_PEAK_DB = 40.0
MAX_BACKGROUND_GAIN_DB = 30.0


def evaluate_detector(
    detector: AudioLaughterDetector, clips: Sequence[LabeledClip], threshold: float = 0.5
) -> dict[str, Any]:
    """Precision/recall/F1/ROC AUC at ``threshold``, the PR curve, false-positive rate per negative label, speed."""
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
        "roc_auc_by_class": roc_auc_by_class([c.label for c in clips], scores),
        "against_speech_and_screams": metrics_against([c.label for c in clips], scores, threshold),
        "missed_laughter": missed,
        "false_alarms": false_alarms,
        "audio_seconds": round(audio_s, 1),
        "realtime_factor": round(audio_s / max(elapsed_s, 1e-9), 1),
        "pr_curve": precision_recall_points(truth, scores),
    }


@dataclasses.dataclass(frozen=True)
class ScenePart:
    """A stretch of a scene: ``duration_s`` of ``source`` from ``from_s`` on, placed at ``at_s`` in the scene."""

    source: str
    at_s: float
    from_s: float
    duration_s: float


@dataclasses.dataclass(frozen=True)
class EvalFile:
    """16 kHz mono audio with its true laughter segments ``(start_s, end_s)`` in time order."""

    name: str
    samples: npt.NDArray[np.float32]
    laughter: tuple[tuple[float, float], ...]
    parts: tuple[ScenePart, ...] = ()  # how a built scene was put together; empty for annotated files

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return len(self.samples) / TARGET_SAMPLE_RATE_HERTZ


@dataclasses.dataclass(frozen=True)
class SceneSettings:
    """How ``build_scenes`` puts labelled clips into timed scenes."""

    seed: int = 20240601
    context_s: tuple[float, float] = (2.0, 4.0)  # negative audio before and after each laugh, drawn uniformly
    background_below_laugh_db: tuple[float, float] = (0.0, 6.0)  # background level under the laugh's
    negative_scene_s: float = 10.0
    negative_level_dbfs: float = -25.0  # active level of the audio in scenes without laughter
    max_laughter_scenes: int = 120
    max_negative_scenes: int = 60
    fade_s: float = 0.01  # linear fade in and out of every piece of background


def active_span(samples: npt.NDArray[np.float32]) -> tuple[float, float]:
    """Start and end (s) of the part of a clip louder than -60 dBFS and within 40 dB of its loudest 10 ms."""
    if samples.size == 0:
        return 0.0, 0.0
    frame = round(ACTIVE_FRAME_S * TARGET_SAMPLE_RATE_HERTZ)
    dbfs = _frame_dbfs(samples, frame)
    active = np.flatnonzero(dbfs > max(float(dbfs.max()) - ACTIVE_BELOW_PEAK_DB, ACTIVE_FLOOR_DBFS))
    if active.size == 0:
        return 0.0, len(samples) / TARGET_SAMPLE_RATE_HERTZ
    end = min(len(samples), (int(active[-1]) + 1) * frame)
    return int(active[0]) * frame / TARGET_SAMPLE_RATE_HERTZ, end / TARGET_SAMPLE_RATE_HERTZ


def build_scenes(clips: Sequence[LabeledClip], settings: SceneSettings = SceneSettings()) -> list[EvalFile]:
    """Timed scenes with known laughter onsets, built deterministically from labelled clips.

    The negative clips, in an order shuffled with ``settings.seed``, form one endless stream that the
    scenes consume in turn. Each laughter clip (at most ``max_laughter_scenes``) is spliced unchanged
    between two stretches of that stream (``context_s`` each), scaled to sit ``background_below_laugh_db``
    under the laugh's active level; its true segment is the laugh's active span. Then scenes of
    ``negative_scene_s`` of the stream alone, at ``negative_level_dbfs``, until every negative clip has been
    used once (at most ``max_negative_scenes``). Every piece of background fades in and out over ``fade_s``.
    """
    rng = np.random.default_rng(settings.seed)
    laughs = [c for c in clips if c.is_laughter]
    negatives = [c for c in clips if not c.is_laughter and c.samples.size]
    if not laughs or not negatives:
        raise TrainingDataError("scenes need both laughter clips and non-empty negative clips")
    stream = _NegativeStream([negatives[i] for i in rng.permutation(len(negatives))])
    if len(laughs) > settings.max_laughter_scenes:
        keep = sorted(rng.choice(len(laughs), settings.max_laughter_scenes, replace=False).tolist())
        laughs = [laughs[i] for i in keep]
    rate = TARGET_SAMPLE_RATE_HERTZ
    scenes: list[EvalFile] = []
    for laugh in laughs:
        before_s, after_s = (float(rng.uniform(*settings.context_s)) for _ in range(2))
        below_db = float(rng.uniform(*settings.background_below_laugh_db))
        laugh_level = _active_level_dbfs(laugh.samples)
        target_dbfs = (settings.negative_level_dbfs if laugh_level is None else laugh_level) - below_db
        before, before_parts = stream.take(round(before_s * rate), target_dbfs, settings.fade_s, 0.0)
        at_s = len(before) / rate
        after, after_parts = stream.take(
            round(after_s * rate), target_dbfs, settings.fade_s, at_s + laugh.duration_s
        )
        start_s, end_s = active_span(laugh.samples)
        scenes.append(
            EvalFile(
                name=f"scene-{len(scenes) + 1:03d}",
                samples=np.concatenate([before, laugh.samples, after]).astype(np.float32),
                laughter=((at_s + start_s, at_s + end_s),),
                parts=(
                    *before_parts,
                    ScenePart(laugh.relative_path, at_s, 0.0, laugh.duration_s),
                    *after_parts,
                ),
            )
        )
    scene_samples = round(settings.negative_scene_s * rate)
    remaining = stream.total_samples - stream.consumed_samples
    count = min(settings.max_negative_scenes, max(1, math.ceil(remaining / scene_samples)))
    for _ in range(count):
        samples, parts = stream.take(scene_samples, settings.negative_level_dbfs, settings.fade_s, 0.0)
        scenes.append(EvalFile(f"scene-{len(scenes) + 1:03d}", samples, (), tuple(parts)))
    return scenes


def describe_scenes(
    settings: SceneSettings, scenes: Sequence[EvalFile], clips: Sequence[LabeledClip]
) -> dict[str, Any]:
    """The ``scene_construction`` entry of the report."""
    negatives = {c.relative_path for c in clips if not c.is_laughter}
    used = {part.source for scene in scenes for part in scene.parts} & negatives
    laughter_scenes = sum(1 for scene in scenes if scene.laughter)
    return {
        "method": (
            "negative clips shuffled with the seed form one stream, consumed in turn; each laughter clip is "
            "spliced unchanged between two stretches of it (context_s each, scaled to sit "
            "background_below_laugh_db under the laugh's active level); the true segment is the laugh's "
            "active span (10 ms frames above -60 dBFS and within 40 dB of its peak); then scenes of "
            "negative_scene_s from the stream alone (every detection there is a false positive) until each "
            "negative clip was used once; pieces of background fade in and out over fade_s"
        ),
        **{
            key: list(value) if isinstance(value, tuple) else value
            for key, value in dataclasses.asdict(settings).items()
        },
        "laughter_scenes": laughter_scenes,
        "negative_scenes": len(scenes) - laughter_scenes,
        "negative_clips_used": len(used),
        "negative_clips": len(negatives),
        "audio_seconds": round(sum(scene.duration_s for scene in scenes), 1),
    }


def load_segment_annotations(csv_path: Path, data_dir: Path) -> list[EvalFile]:
    """Annotated files from a ``file,start_s,end_s`` CSV, sorted by name.

    ``file`` is relative to the CSV's folder or to ``data_dir``; a file may have several rows. A row with
    empty ``start_s`` and ``end_s`` lists a file without laughter. Only the files named are evaluated.
    """
    if not csv_path.is_file():
        raise TrainingDataError("segment annotations not found: " + str(csv_path))
    where = "segment annotations " + str(csv_path)
    segments: dict[str, list[tuple[float, float]]] = {}
    with csv_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = set(SEGMENT_COLUMNS) - set(reader.fieldnames or [])
        if missing:
            raise TrainingDataError(
                where
                + " lack column(s) "
                + ", ".join(sorted(missing))
                + " (expected a header "
                + ",".join(SEGMENT_COLUMNS)
                + ")"
            )
        for row in reader:
            line = where + " line " + str(reader.line_num)
            name = (row["file"] or "").strip()
            if not name:
                raise TrainingDataError(line + ": the file column is empty")
            check_not_reserved(name, "", line)
            rows = segments.setdefault(name, [])
            span = _parse_span(row["start_s"], row["end_s"], line)
            if span is not None:
                rows.append(span)
    if not segments:
        raise TrainingDataError(where + " have no rows")
    files = []
    for name in sorted(segments):
        candidates = [csv_path.parent / name, data_dir / name]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            raise TrainingDataError(
                where
                + " name a missing audio file: "
                + name
                + " (looked in "
                + " and ".join(str(c.parent) for c in candidates)
                + ")"
            )
        samples = read_labeled_clip(path, name, "", name).samples
        duration_s = len(samples) / TARGET_SAMPLE_RATE_HERTZ
        for start_s, _ in segments[name]:
            if start_s >= duration_s:
                raise TrainingDataError(
                    where
                    + ": a segment of "
                    + name
                    + f" starts at {start_s:g} s, after the end of the file ({duration_s:.2f} s)"
                )
        files.append(EvalFile(name, samples, tuple(sorted(segments[name]))))
    return files


def detect_segments(
    detector: AudioLaughterDetector, samples: npt.NDArray[np.float32], rules: LaughterRules = DEFAULT_RULES
) -> list[tuple[float, float]]:
    """Laughter segments ``(start_s, end_s)`` the server reports for this audio with no video.

    As the server: silent audio gives no window scores (``AudioStage.track``), and the window scores
    become events through ``fusion.fuser.fuse_events`` with ``rules``.
    """
    clip = AudioClip(samples)
    audio = None
    if not is_silent(clip):
        scores = detector.predict_windows(clip)
        audio = scores if scores.count else None
    events, _ = fuse_events(
        audio, (), np.zeros(0), clip.duration_s, 1.0 / AnalysisOptions.frame_rate_hertz, rules
    )
    return [(event.start_s, event.end_s) for event in events]


def evaluate_segments(
    detector: AudioLaughterDetector,
    files: Sequence[EvalFile],
    tolerance_s: float = DEFAULT_ONSET_TOLERANCE_S,
    rules: LaughterRules = DEFAULT_RULES,
) -> dict[str, Any]:
    """Segment precision, recall and F1: detections matched one-to-one to true segments by onset.

    Also: F1 at each of ``REPORTED_TOLERANCES_S``, and the onset error of the first detection overlapping
    each true segment (whether or not it is within the tolerance).
    """
    tolerances = sorted({*REPORTED_TOLERANCES_S, tolerance_s})
    counts = {tolerance: [0, 0, 0] for tolerance in tolerances}
    false_positives_without_laughter = 0
    onset_errors: list[float] = []
    overlap_errors: list[float] = []
    per_file: list[dict[str, Any]] = []
    for item in files:
        detected = detect_segments(detector, item.samples, rules)
        truth_onsets, detected_onsets = [s for s, _ in item.laughter], [s for s, _ in detected]
        matches = {
            tolerance: match_onsets(truth_onsets, detected_onsets, tolerance) for tolerance in tolerances
        }
        for tolerance, other in matches.items():
            counts[tolerance][0] += other.true_positives
            counts[tolerance][1] += other.false_positives
            counts[tolerance][2] += other.misses
        match = matches[tolerance_s]
        onset_errors.extend(detected[j][0] - item.laughter[i][0] for i, j in match.pairs)
        for start_s, end_s in item.laughter:
            overlapping = [d_start for d_start, d_end in detected if d_start < end_s and d_end > start_s]
            if overlapping:
                overlap_errors.append(overlapping[0] - start_s)
        if not item.laughter:
            false_positives_without_laughter += match.false_positives
        per_file.append(
            {
                "file": item.name,
                "duration_s": round(item.duration_s, 3),
                "laughter": [[round(s, 3), round(e, 3)] for s, e in item.laughter],
                "detected": [[round(s, 3), round(e, 3)] for s, e in detected],
                "true_positives": match.true_positives,
                "false_positives": match.false_positives,
                "misses": match.misses,
                "parts": [
                    {
                        "source": p.source,
                        "at_s": round(p.at_s, 3),
                        "from_s": round(p.from_s, 3),
                        "duration_s": round(p.duration_s, 3),
                    }
                    for p in item.parts
                ],
            }
        )
    true_positives, false_positives, misses = counts[tolerance_s]
    return {
        "onset_tolerance_s": tolerance_s,
        "rules": {
            "enter_threshold": rules.enter_threshold,
            "exit_threshold": rules.exit_threshold,
            "min_event_s": rules.min_event_s,
            "max_gap_s": rules.max_gap_s,
            "grid_step_s": GRID_STEP_S,
        },
        "files": len(files),
        "audio_seconds": round(sum(item.duration_s for item in files), 1),
        "true_segments": true_positives + misses,
        "detected_segments": true_positives + false_positives,
        "true_positives": true_positives,
        "false_positives": false_positives,
        "misses": misses,
        **segment_metrics(true_positives, false_positives, misses),
        "false_positives_in_files_without_laughter": false_positives_without_laughter,
        "mean_onset_error_s": round(float(np.mean(onset_errors)), 3) if onset_errors else None,
        "mean_abs_onset_error_s": round(float(np.mean(np.abs(onset_errors))), 3) if onset_errors else None,
        "overlapping_detection_onset_error_s": {
            "true_segments_overlapped": len(overlap_errors),
            "mean": round(float(np.mean(overlap_errors)), 3) if overlap_errors else None,
            "median": round(float(np.median(overlap_errors)), 3) if overlap_errors else None,
        },
        "f1_by_onset_tolerance": [
            {"onset_tolerance_s": tolerance, **segment_metrics(*counts[tolerance])}
            for tolerance in tolerances
        ],
        "per_file": per_file,
    }


class _NegativeStream:
    """Negative clips played one after another, endlessly; ``take`` cuts the next stretch."""

    def __init__(self, clips: Sequence[LabeledClip]) -> None:
        self._clips = list(clips)
        self._index = 0
        self._offset = 0
        self.total_samples = sum(len(c.samples) for c in self._clips)
        self.consumed_samples = 0

    def take(
        self, count: int, level_dbfs: float, fade_s: float, at_s: float
    ) -> tuple[npt.NDArray[np.float32], list[ScenePart]]:
        """The next ``count`` samples, each piece scaled to ``level_dbfs`` and faded; parts start at ``at_s``."""
        rate = TARGET_SAMPLE_RATE_HERTZ
        pieces: list[npt.NDArray[np.float32]] = []
        parts: list[ScenePart] = []
        position = 0
        while position < count:
            clip = self._clips[self._index]
            piece = clip.samples[self._offset : self._offset + count - position]
            pieces.append(_fade(_scale_to(piece, level_dbfs), round(fade_s * rate)))
            parts.append(
                ScenePart(clip.relative_path, at_s + position / rate, self._offset / rate, len(piece) / rate)
            )
            position += len(piece)
            self._offset += len(piece)
            self.consumed_samples += len(piece)
            if self._offset >= len(clip.samples):
                self._index = (self._index + 1) % len(self._clips)
                self._offset = 0
        samples = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        return samples.astype(np.float32), parts


def _parse_span(start: str | None, end: str | None, line: str) -> tuple[float, float] | None:
    start, end = (start or "").strip(), (end or "").strip()
    if not start and not end:
        return None
    if not start or not end:
        raise TrainingDataError(
            line + ": give both start_s and end_s, or leave both empty for a file without laughter"
        )
    values = []
    for column, text in (("start_s", start), ("end_s", end)):
        try:
            value = float(text)
        except ValueError:
            raise TrainingDataError(line + ": " + column + " '" + text + "' is not a number") from None
        if not math.isfinite(value) or value < 0.0:
            raise TrainingDataError(line + ": " + column + " must be a finite number of seconds >= 0")
        values.append(value)
    if values[0] >= values[1]:
        raise TrainingDataError(line + f": start_s {values[0]:g} must be before end_s {values[1]:g}")
    return values[0], values[1]


def _frame_dbfs(samples: npt.NDArray[np.float32], frame: int) -> npt.NDArray[np.float64]:
    count = -(-len(samples) // frame)
    padded = np.zeros(count * frame)
    padded[: len(samples)] = samples
    power = np.mean(padded.reshape(count, frame) ** 2, axis=1)
    return np.asarray(10.0 * np.log10(power + 1e-12), dtype=np.float64)


def _active_level_dbfs(samples: npt.NDArray[np.float32]) -> float | None:
    """Mean power (dBFS) of the 10 ms frames above -60 dBFS; None when there are none."""
    if samples.size == 0:
        return None
    frame = round(ACTIVE_FRAME_S * TARGET_SAMPLE_RATE_HERTZ)
    dbfs = _frame_dbfs(samples, frame)
    active = dbfs > ACTIVE_FLOOR_DBFS
    if not active.any():
        return None
    return float(10.0 * np.log10(np.mean(10.0 ** (dbfs[active] / 10.0))))


def _scale_to(samples: npt.NDArray[np.float32], level_dbfs: float) -> npt.NDArray[np.float32]:
    level = _active_level_dbfs(samples)
    if level is None:
        return samples.astype(np.float32)
    gain = float(10.0 ** (min(level_dbfs - level, MAX_BACKGROUND_GAIN_DB) / 20.0))
    peak = float(np.max(np.abs(samples)))
    if peak > 0.0:
        gain = min(gain, 0.99 / peak)
    return (samples * gain).astype(np.float32)


def _fade(samples: npt.NDArray[np.float32], length: int) -> npt.NDArray[np.float32]:
    length = min(length, len(samples) // 2)
    if length <= 0:
        return samples
    ramp = np.linspace(0.0, 1.0, length + 2, dtype=np.float32)[1:-1]
    out = samples.copy()
    out[:length] *= ramp
    out[-length:] *= ramp[::-1]
    return out
