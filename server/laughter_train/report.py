"""``laughter-eval report``: every accuracy figure of a model on one labelled set, as JSON and Markdown.

Sections (each a key of ``report.json`` and a heading of ``report.md``; more can be added beside them):

* ``clip_level``: clip precision/recall/F1/ROC AUC, per negative class, the precision-recall curve (PNG);
* ``events``: the engine's events on scenes built from the set (grouped by source into folds; laughs among
  other sounds, laughter-free scenes, laughs over speech at 0/5/10 dB), segment F1 at 0.3 s and 0.5 s,
  false events per hour; with the model given (which may have seen the set);
* ``level_robustness``: laughs found when the whole recording is 10, 20 or 30 dB quieter (clip scores and
  events), false events per hour at each level;
* ``clip_level_cross_validated``, ``events_cross_validated`` and ``level_robustness_cross_validated``
  (``--cross-validate``): the same figures with a model fitted per fold on the other folds, per fold; ``event_tuning`` (``--tune``): the event layer's settings chosen by
  grouped CV, before/after per fold;
* any ``--section NAME=JSON`` given (for instance the face models' figures of ``tools/eval_faces.py``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from laughter_server.audio.detector import AudioLaughterDetector
from laughter_server.fusion.rules import DEFAULT_RULES
from laughter_server.media.types import AudioClip

from laughter_train.dataset import LabeledClip
from laughter_train.evaluate import SceneSettings, evaluate_detector
from laughter_train.events_eval import CachedAudioStage, evaluate_scenes, rules_dict
from laughter_train.fold_models import DEFAULT_FOLDS, Fold, fold_detectors, grouped_folds
from laughter_train.metrics import (
    clip_metrics,
    false_positive_rates,
    metrics_against,
    precision_recall_points,
    roc_auc_by_class,
)
from laughter_train.scenes import DEFAULT_SCENE_SETTINGS, LEVEL_OFFSETS_DB, Scene, fold_scenes, scaled

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
PR_CURVE_PNG = "pr-curve.png"


@dataclasses.dataclass(frozen=True)
class ReportOptions:
    """What ``build_report`` runs."""

    threshold: float = 0.5
    folds: int = DEFAULT_FOLDS
    cross_validate: bool = False
    tune: bool = False
    is_quick: bool = False  # small fold models and few tuning candidates (tests)
    cache_dir: Path | None = None  # fold models are kept here between runs
    scene_settings: SceneSettings = DEFAULT_SCENE_SETTINGS


def build_report(
    clips: Sequence[LabeledClip], detector: AudioLaughterDetector, options: ReportOptions
) -> dict[str, Any]:
    """Every section of the report (``report.json``) for ``detector`` on ``clips``."""
    folds = grouped_folds(clips, options.folds)
    scenes = fold_scenes(clips, folds, options.scene_settings)
    stage = CachedAudioStage(detector)
    stages = {fold.index: stage for fold in folds}
    events, _ = evaluate_scenes(stages, scenes)
    report: dict[str, Any] = {
        "model": detector.name + "-" + detector.version,
        "model_sha256": detector.sha256,
        "data": {
            "clips": len(clips),
            "laughter_clips": sum(c.is_laughter for c in clips),
            "sources": len({c.group for c in clips}),
            "folds": [
                {
                    "fold": fold.index,
                    "test_clips": len(fold.test),
                    "test_laughter_clips": sum(clips[i].is_laughter for i in fold.test),
                    "test_sources": sorted({clips[i].group for i in fold.test}),
                }
                for fold in folds
            ],
        },
        "clip_level": evaluate_detector(detector, clips, options.threshold),
        "event_rules": rules_dict(DEFAULT_RULES),
        "scene_construction": _scene_construction(options.scene_settings, scenes),
        "events": events,
        "level_robustness": level_robustness(detector, clips, scenes, stages),
    }
    if options.cross_validate or options.tune:
        detectors = fold_detectors(
            clips, folds, detector, options.cache_dir, is_quick=options.is_quick, seed=20240601
        )
        fold_stages: dict[int, Any] = {i: CachedAudioStage(d) for i, d in enumerate(detectors)}
        cross_validated, _ = evaluate_scenes(fold_stages, scenes)
        report["events_cross_validated"] = {
            "method": "per fold, the shipped recipe (guarded boosting, laughs augmented) fitted on the other "
            "folds' clips, with the given model's feature settings and thresholds; each scene scored by "
            "its own fold's model",
            **cross_validated,
        }
        report["clip_level_cross_validated"] = cross_validated_clip_level(
            detectors, clips, folds, options.threshold
        )
        report["level_robustness_cross_validated"] = level_robustness(
            detectors, clips, scenes, fold_stages, folds=folds
        )
        if options.tune:
            from laughter_train.event_tuning import (
                DEFAULT_GRID,
                QUICK_GRID,
                candidate_rules,
                tune_event_layer,
            )

            grid = QUICK_GRID if options.is_quick else DEFAULT_GRID
            report["event_tuning"] = tune_event_layer(fold_stages, scenes, candidate_rules(grid))
    return report


def cross_validated_clip_level(
    detectors: Sequence[AudioLaughterDetector],
    clips: Sequence[LabeledClip],
    folds: Sequence[Fold],
    threshold: float,
) -> dict[str, Any]:
    """Clip-level figures with each clip scored by its test fold's model: overall, per negative class
    (as ``evaluate_detector``) and per fold."""
    scores = np.zeros(len(clips))
    for fold in folds:
        for i in fold.test:
            scores[i] = detectors[fold.index].score_clip(AudioClip(clips[i].samples))
    labels = [c.label for c in clips]
    truth = np.array([c.is_laughter for c in clips], dtype=int)
    per_fold = []
    for fold in folds:
        index = list(fold.test)
        per_fold.append(
            {
                "fold": fold.index,
                "clips": len(index),
                "laughter_clips": int(truth[index].sum()),
                **clip_metrics(truth[index], scores[index], threshold),
            }
        )
    return {
        "model": detectors[0].name + " (one per fold)",
        "clips": len(clips),
        "clip_aggregate": detectors[0].clip_aggregate,
        "threshold": threshold,
        **clip_metrics(truth, scores, threshold),
        "false_positive_rate_by_class": false_positive_rates(labels, scores, threshold),
        "roc_auc_by_class": roc_auc_by_class(labels, scores),
        "against_speech_and_screams": metrics_against(labels, scores, threshold),
        "pr_curve": precision_recall_points(truth, scores),
        "per_fold": per_fold,
    }


def level_robustness(
    detectors: AudioLaughterDetector | Sequence[AudioLaughterDetector],
    clips: Sequence[LabeledClip],
    scenes: Sequence[Scene],
    stages: dict[int, Any],
    offsets_db: Sequence[float] = LEVEL_OFFSETS_DB,
    folds: Sequence[Fold] = (),
) -> dict[str, Any]:
    """Per gain: laughter clips scored at or above 0.5, and the engine's events on the laughter and
    laughter-free scenes turned down as a whole (recall at 0.5 s, false events per hour).

    ``detectors``: one model for every clip, or one per fold (each clip scored by its test fold's model).
    """
    if isinstance(detectors, AudioLaughterDetector):
        scorer = dict.fromkeys(range(len(clips)), detectors)
    else:
        scorer = {i: detectors[fold.index] for fold in folds for i in fold.test}
    laughs = [(i, c) for i, c in enumerate(clips) if c.is_laughter]
    among = [s for s in scenes if s.kind in ("laughter", "negative")]
    rows = []
    for gain_db in offsets_db:
        factor = np.float32(10.0 ** (gain_db / 20.0))
        scores = [scorer[i].score_clip(AudioClip(c.samples * factor)) for i, c in laughs]
        found = sum(score >= 0.5 for score in scores)
        quieter, _ = evaluate_scenes(stages, [scaled(s, gain_db) for s in among])
        at = quieter["all"]["at_0.5s"]
        rows.append(
            {
                "gain_db": gain_db,
                "laughter_clips_detected": found,
                "laughter_clips": len(laughs),
                "clip_detection_rate": round(found / len(laughs), 4) if laughs else None,
                "event_recall_at_0.5s": at["recall"],
                "event_f1_at_0.5s": at["f1"],
                "false_events_per_hour": quieter["all"]["false_events_per_hour"],
            }
        )
    return {
        "method": "each laughter clip, and each laughter and laughter-free scene, turned down as a whole; "
        "a clip counts as detected when its clip score is at least 0.5",
        "rows": rows,
    }


def _scene_construction(settings: SceneSettings, scenes: Sequence[Scene]) -> dict[str, Any]:
    kinds: dict[str, int] = {}
    for scene in scenes:
        name = scene.kind if scene.snr_db is None else f"over_speech_{scene.snr_db:g}db"
        kinds[name] = kinds.get(name, 0) + 1
    return {
        "method": "clips split into folds by source; each fold's scenes use only that fold's clips: "
        "laughs spliced between its negatives, its negatives alone, and its laughs mixed into its speech "
        "at each SNR (laugh active level minus speech active level)",
        "seed": settings.seed,
        "scenes": kinds,
        "audio_seconds": round(sum(s.file.duration_s for s in scenes), 1),
    }


def write_report(report: dict[str, Any], out_dir: Path, *, pr_curve: bool = True) -> list[Path]:
    """``report.json``, ``report.md`` and (with ``pr_curve``) ``pr-curve.png`` under ``out_dir``."""
    from laughter_train.report_markdown import render_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    if pr_curve:
        from laughter_train.plots import write_pr_curve_png

        png = out_dir / PR_CURVE_PNG
        write_pr_curve_png(report["clip_level"], png)
        report["clip_level"]["pr_curve_png"] = PR_CURVE_PNG
        written.append(png)
    json_path = out_dir / REPORT_JSON
    json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    md_path = out_dir / REPORT_MD
    md_path.write_text(render_markdown(report), encoding="utf-8")
    return [json_path, md_path, *written]
