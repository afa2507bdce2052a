"""``report.md``: the accuracy report's figures as Markdown tables (one renderer per section)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

KNOWN_SECTIONS = (
    "model",
    "model_sha256",
    "data",
    "clip_level",
    "event_rules",
    "scene_construction",
    "events",
    "level_robustness",
    "clip_level_cross_validated",
    "events_cross_validated",
    "level_robustness_cross_validated",
    "event_tuning",
)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows)
    return [*lines, ""]


def _event_row(name: str, summary: dict[str, Any]) -> list[Any]:
    short, half = summary["at_0.3s"], summary["at_0.5s"]
    return [
        name,
        summary["scenes"],
        f"{short['precision']} / {short['recall']} / {short['f1']}",
        f"{half['precision']} / {half['recall']} / {half['f1']}",
        f"{half['true_positives']} / {half['false_positives']} / {half['misses']}",
        summary["false_events_per_hour"],
    ]


EVENT_HEADER = [
    "scenes",
    "count",
    "P / R / F1 at 0.3 s",
    "P / R / F1 at 0.5 s",
    "hits / false / missed at 0.5 s",
    "false events per hour",
]


def _events(section: dict[str, Any]) -> list[str]:
    rows = [
        _event_row("all", section["all"]),
        _event_row("laughs among sounds + laughter-free", section["among_sounds"]),
    ]
    rows += [_event_row(name, summary) for name, summary in section["by_kind"].items()]
    lines = _table(EVENT_HEADER, rows)
    lines += ["Per fold:", ""]
    lines += _table(
        ["fold", *EVENT_HEADER[1:]],
        [
            _event_row(fold, summary)[0:1] + _event_row(fold, summary)[1:]
            for fold, summary in section["by_fold"].items()
        ],
    )
    return lines


def _clip_level(section: dict[str, Any]) -> list[str]:
    lines = [
        f"{section['clips']} clips, threshold {section['threshold']}: precision {section['precision']}, "
        f"recall {section['recall']}, F1 {section['f1']}, ROC AUC {section['roc_auc']}, average precision "
        f"{section['pr_curve']['average_precision']}.",
        "",
    ]
    target = section["against_speech_and_screams"]
    lines += [
        f"Against speech and screams only ({target['clips']} clips): precision {target['precision']}, "
        f"recall {target['recall']}, F1 {target['f1']}, ROC AUC {target['roc_auc']}.",
        "",
    ]
    rows = [
        [
            label,
            f"{row['false_positives']}/{row['clips']}",
            row["rate"],
            section["roc_auc_by_class"].get(label),
        ]
        for label, row in section["false_positive_rate_by_class"].items()
    ]
    lines += _table(["negative class", "false positives", "rate", "ROC AUC laughter vs class"], rows)
    if section.get("per_fold"):
        lines += ["Per fold:", ""]
        lines += _table(
            ["fold", "clips (laughter)", "precision", "recall", "F1", "ROC AUC"],
            [
                [
                    f["fold"],
                    f"{f['clips']} ({f['laughter_clips']})",
                    f["precision"],
                    f["recall"],
                    f["f1"],
                    f["roc_auc"],
                ]
                for f in section["per_fold"]
            ],
        )
    if section.get("pr_curve_png"):
        lines += [f"![precision-recall curve]({section['pr_curve_png']})", ""]
    return lines


def _level(section: dict[str, Any]) -> list[str]:
    rows = [
        [
            f"{row['gain_db']:g} dB",
            f"{row['laughter_clips_detected']}/{row['laughter_clips']}",
            row["event_recall_at_0.5s"],
            row["event_f1_at_0.5s"],
            row["false_events_per_hour"],
        ]
        for row in section["rows"]
    ]
    return [
        section["method"] + ".",
        "",
        *_table(
            [
                "recording level",
                "laughter clips detected",
                "event recall at 0.5 s",
                "event F1 at 0.5 s",
                "false events per hour",
            ],
            rows,
        ),
    ]


def _settings(settings: dict[str, Any]) -> str:
    """Event-layer settings as ``name value, ...`` (numbers as ``%g``, words as they are)."""
    return ", ".join(f"{k} {v:g}" if isinstance(v, int | float) else f"{k} {v}" for k, v in settings.items())


def _tuning(section: dict[str, Any]) -> list[str]:
    lines = [
        f"{section['candidates']} settings tried; selection: {section['selection']}.",
        "",
        "Chosen on all folds: " + _settings(section["chosen"]) + ".",
        "",
    ]
    rows = []
    for fold in section["per_fold"]:
        before, after = fold.get("before"), fold["after"]
        rows.append(
            [
                fold["fold"],
                _settings(fold["chosen_on_other_folds"]),
                None if before is None else before["at_0.5s"]["f1"],
                after["at_0.5s"]["f1"],
                None if before is None else before["false_events_per_hour"],
                after["false_events_per_hour"],
            ]
        )
    if "held_out_before" in section:
        rows.append(
            [
                "pooled",
                "",
                section["held_out_before"]["at_0.5s"]["f1"],
                section["held_out_after"]["at_0.5s"]["f1"],
                section["held_out_before"]["false_events_per_hour"],
                section["held_out_after"]["false_events_per_hour"],
            ]
        )
    lines += _table(
        [
            "fold",
            "chosen on the other folds",
            "F1 at 0.5 s before",
            "after",
            "false events/h before",
            "after",
        ],
        rows,
    )
    if "wins" in section:
        lines += ["Held-out folds: the tuned settings " + ("win." if section["wins"] else "do not win."), ""]
    by_value = section.get("best_by_value") or {}
    if by_value:
        lines += ["The best setting with each value, pooled over every fold (in sample):", ""]
        lines += _table(
            ["setting", "value", "F1 at 0.5 s", "false events/h"],
            [
                [name, str(entry["value"]), entry["f1_at_0.5s"], entry["false_events_per_hour"]]
                for name, entries in by_value.items()
                for entry in entries
            ],
        )
    return lines


def _faces(section: dict[str, Any]) -> list[str]:
    """The stills table of ``tools/eval_faces.py --json`` (happy-vs-not per crop setting)."""
    settings = section.get("stills", {}).get("settings", {})
    rows = [
        [
            name,
            f"{row.get('correct')}/{row.get('faces')}",
            row.get("auc"),
            ", ".join(f"{k} {v}" for k, v in row.get("errors_per_class", {}).items()),
        ]
        for name, row in settings.items()
    ]
    if not rows:
        return ["See `faces` in report.json.", ""]
    return [
        "Stills, happy (> 0.3) against the label, per crop setting:",
        "",
        *_table(["setting", "correct", "ROC AUC", "errors per class"], rows),
    ]


RENDERERS: dict[str, tuple[str, Callable[[dict[str, Any]], list[str]]]] = {
    "clip_level": ("Clip level", _clip_level),
    "events": ("Events (the model given)", _events),
    "level_robustness": ("Level robustness", _level),
    "clip_level_cross_validated": ("Clip level, cross-validated (a model per fold)", _clip_level),
    "events_cross_validated": ("Events, cross-validated (a model per fold)", _events),
    "level_robustness_cross_validated": ("Level robustness, cross-validated", _level),
    "event_tuning": ("Event layer tuning (grouped CV)", _tuning),
    "faces": ("Face models on the stills (tools/eval_faces.py)", _faces),
}


def render_markdown(report: dict[str, Any]) -> str:
    """The whole report as Markdown; sections without a renderer are listed with their JSON key."""
    data = report["data"]
    lines = [
        f"# Accuracy report: {report['model']}",
        "",
        f"Model sha256 `{report['model_sha256']}`. Data: {data['clips']} clips ({data['laughter_clips']} "
        f"laughter) from {data['sources']} sources, {len(data['folds'])} folds by source.",
        "",
        "Event rules: " + _settings(report["event_rules"]) + ".",
        "",
    ]
    for key, (title, render) in RENDERERS.items():
        if key in report:
            lines += [f"## {title}", "", *render(report[key])]
    others = [key for key in report if key not in KNOWN_SECTIONS and key not in RENDERERS]
    for key in others:
        lines += [f"## {key}", "", f"See `{key}` in report.json.", ""]
    return "\n".join(lines)
