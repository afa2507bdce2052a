"""Tuning the event layer by grouped cross-validation on the fold scenes.

Every candidate setting of the event layer (hysteresis thresholds, minimum event length, merge gap, how far
an audio-held edge is moved) is run through the engine on every scene (``events_eval``; each scene scored by
the model of its own fold). For each fold, the setting with the best pooled segment F1 at 0.5 s on the
*other* folds' scenes is chosen and then measured on that fold's scenes: never on the part it is tested on.
The held-out figures of those choices, pooled, are compared with the current defaults on the same scenes.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from laughter_server.fusion.rules import DEFAULT_RULES, LaughterRules
from laughter_server.pipeline.audio_stage import AudioStage

from laughter_train.events_eval import detect_events, rules_dict, scene_counts, summarize
from laughter_train.scenes import Scene

log = structlog.get_logger()

SELECTION_TOLERANCE_S = 0.5
"""The onset tolerance of the F1 a setting is chosen by."""

Grid = dict[str, tuple[float | str, ...]]

DEFAULT_GRID: Grid = {
    "enter_threshold": (0.5, 0.6, 0.7, 0.8),
    "exit_threshold": (0.25, 0.35, 0.5),
    "min_event_s": (0.3, 0.6, 1.0),
    "max_gap_s": (0.4, 0.8),
    "audio_edge_s": (0.2, 0.4),
    "audio_smooth_windows": (1, 3, 5),
    "audio_smoothing": ("median", "mean"),
}
"""The settings tried (every combination with exit <= enter; an edge is capped at half the merge gap, and
unsmoothed audio has no smoothing kind, so combinations that only differ there are tried once)."""

QUICK_GRID: Grid = {
    "enter_threshold": (0.5, 0.7),
    "exit_threshold": (0.35,),
    "min_event_s": (0.3, 0.6),
    "max_gap_s": (0.4,),
    "audio_edge_s": (0.2,),
    "audio_smooth_windows": (1, 3),
    "audio_smoothing": ("median",),
}


def candidate_rules(grid: Grid, base: LaughterRules = DEFAULT_RULES) -> list[LaughterRules]:
    """Every valid combination of ``grid`` on top of ``base``, the base itself first, without duplicates."""
    names = list(grid)
    seen: set[tuple[float | str, ...]] = set()
    found = []
    for values in [tuple(getattr(base, n) for n in names), *itertools.product(*(grid[n] for n in names))]:
        setting: dict[str, Any] = {**dataclasses.asdict(base), **dict(zip(names, values, strict=True))}
        if setting["exit_threshold"] > setting["enter_threshold"]:
            continue
        setting["audio_edge_s"] = min(setting["audio_edge_s"], setting["max_gap_s"] / 2.0)
        if setting["audio_smooth_windows"] == 1:
            setting["audio_smoothing"] = base.audio_smoothing
        key = tuple(round(v, 6) if isinstance(v, float) else v for v in setting.values())
        if key not in seen:
            seen.add(key)
            found.append(dataclasses.replace(base, **setting))
    return found


def _score(rows: Sequence[tuple[Scene, dict[str, Any]]]) -> tuple[float, float]:
    """What a setting is chosen by: pooled F1 at 0.5 s, then fewer false events per hour."""
    summary = summarize(rows)
    per_hour = summary["false_events_per_hour"]
    return summary[f"at_{SELECTION_TOLERANCE_S:g}s"]["f1"], -(per_hour if per_hour is not None else 0.0)


def _best_by_value(
    candidates: Sequence[LaughterRules],
    rows_by_candidate: Sequence[Sequence[tuple[Scene, dict[str, Any]]]],
    scores: Sequence[tuple[float, float]],
) -> dict[str, list[dict[str, Any]]]:
    """For each setting the candidates vary, each of its values with the best candidate that has it by
    ``scores`` (each candidate's ``_score`` pooled over every fold, in sample): how much each knob can move
    the score, not a held-out figure."""
    settings = [rules_dict(r) for r in candidates]
    found: dict[str, list[dict[str, Any]]] = {}
    for name in settings[0]:
        # the kind of smoothing only counts where the audio is smoothed
        counted = [
            i for i, s in enumerate(settings) if name != "audio_smoothing" or s["audio_smooth_windows"] != 1
        ]
        values = sorted({settings[i][name] for i in counted}, key=lambda v: (isinstance(v, str), v))
        if len(values) < 2:
            continue
        found[name] = []
        for value in values:
            best = max((i for i in counted if settings[i][name] == value), key=scores.__getitem__)
            summary = summarize(rows_by_candidate[best])
            found[name].append(
                {
                    "value": value,
                    "f1_at_0.5s": summary[f"at_{SELECTION_TOLERANCE_S:g}s"]["f1"],
                    "false_events_per_hour": summary["false_events_per_hour"],
                    "best_setting": settings[best],
                }
            )
    return found


def tune_event_layer(
    stages: Mapping[int, AudioStage],
    scenes: Sequence[Scene],
    candidates: Sequence[LaughterRules],
    base: LaughterRules = DEFAULT_RULES,
) -> dict[str, Any]:
    """Grouped CV of ``candidates`` (see the module docstring); the report's ``event_tuning`` entry.

    ``chosen`` is the setting with the best pooled score over every fold (what would ship), ``wins`` whether
    the per-fold choices beat ``base`` on their held-out folds (pooled F1 at 0.5 s higher, false events per
    hour no higher).
    """
    rows_by_candidate: list[list[tuple[Scene, dict[str, Any]]]] = []
    for index, rules in enumerate(candidates):
        rows = []
        for scene in scenes:
            events = detect_events(stages[scene.fold], scene.file.samples, rules)
            rows.append((scene, scene_counts(scene, [(e.start_s, e.end_s) for e in events])))
        rows_by_candidate.append(rows)
        if index % 20 == 0:
            log.info("events_cv.candidate", index=index, of=len(candidates))
    base_index = next(i for i, r in enumerate(candidates) if r == base) if base in candidates else None
    base_rows = rows_by_candidate[base_index] if base_index is not None else None
    folds = sorted({scene.fold for scene in scenes})
    per_fold = []
    held_out_rows: list[tuple[Scene, dict[str, Any]]] = []
    for fold in folds:
        best = max(
            range(len(candidates)),
            key=lambda i: _score([row for row in rows_by_candidate[i] if row[0].fold != fold]),
        )
        test_rows = [row for row in rows_by_candidate[best] if row[0].fold == fold]
        held_out_rows.extend(test_rows)
        entry: dict[str, Any] = {
            "fold": fold,
            "chosen_on_other_folds": rules_dict(candidates[best]),
            "after": summarize(test_rows),
        }
        if base_rows is not None:
            entry["before"] = summarize([row for row in base_rows if row[0].fold == fold])
        per_fold.append(entry)
    pooled = [_score(rows) for rows in rows_by_candidate]
    overall = max(range(len(candidates)), key=pooled.__getitem__)
    after = summarize(held_out_rows)
    result: dict[str, Any] = {
        "selection": f"pooled segment F1 at {SELECTION_TOLERANCE_S:g} s onset tolerance over every scene "
        "kind, then fewer false events per hour; chosen on the other folds, measured on the fold",
        "candidates": len(candidates),
        "base": rules_dict(base),
        "per_fold": per_fold,
        "held_out_after": after,
        "chosen": rules_dict(candidates[overall]),
        "chosen_in_sample": summarize(rows_by_candidate[overall]),
        "best_by_value": _best_by_value(candidates, rows_by_candidate, pooled),
    }
    if base_rows is not None:
        before = summarize(base_rows)
        result["held_out_before"] = before
        f1_key = f"at_{SELECTION_TOLERANCE_S:g}s"
        result["wins"] = bool(
            after[f1_key]["f1"] > before[f1_key]["f1"]
            and (after["false_events_per_hour"] or 0.0) <= (before["false_events_per_hour"] or 0.0)
        )
    return result
