"""The accuracy report: Markdown rendering, files written, the event-layer candidates and their CV."""

from __future__ import annotations

import json
import pathlib

from laughter_server.audio.detector import AudioLaughterDetector, default_model_path
from laughter_server.fusion.rules import DEFAULT_RULES
from laughter_train.dataset import load_labeled_clips
from laughter_train.event_tuning import QUICK_GRID, candidate_rules, tune_event_layer
from laughter_train.events_eval import CachedAudioStage
from laughter_train.fold_models import grouped_folds
from laughter_train.report import write_report
from laughter_train.report_markdown import render_markdown
from laughter_train.scenes import fold_scenes

from tests.unit.train.test_train import fixture_subset_dir

__all__ = ["fixture_subset_dir"]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _summary(f1: float, per_hour: float | None) -> dict[str, object]:
    at = {"precision": 0.5, "recall": 0.25, "f1": f1, "true_positives": 1, "false_positives": 1, "misses": 3}
    return {"scenes": 3, "at_0.3s": at, "at_0.5s": at, "false_events_per_hour": per_hour}


def _report() -> dict[str, object]:
    events = {
        "all": _summary(0.333, 12.5),
        "among_sounds": _summary(0.3, 12.5),
        "by_kind": {"over_speech_5db": _summary(0.4, None)},
        "by_fold": {"0": _summary(0.1, 7.0)},
    }
    clip = {
        "model": "m-1",
        "clips": 4,
        "clip_aggregate": "max",
        "threshold": 0.5,
        "precision": 0.75,
        "recall": 1.0,
        "f1": 0.8571,
        "roc_auc": 0.9,
        "pr_curve": {
            "average_precision": 0.8,
            "positive_share": 0.5,
            "precision": [0.5, 1.0],
            "recall": [1.0, 0.0],
            "thresholds": [0.1],
        },
        "against_speech_and_screams": {
            "clips": 3,
            "precision": 1.0,
            "recall": 1.0,
            "f1": 1.0,
            "roc_auc": 1.0,
        },
        "false_positive_rate_by_class": {"speech": {"clips": 2, "false_positives": 1, "rate": 0.5}},
        "roc_auc_by_class": {"speech": 0.75},
    }
    return {
        "model": "m-1",
        "model_sha256": "ab" * 32,
        "data": {"clips": 4, "laughter_clips": 2, "sources": 3, "folds": [{}, {}]},
        "clip_level": clip,
        "event_rules": {"enter_threshold": 0.5},
        "events": events,
        "level_robustness": {
            "method": "turned down",
            "rows": [
                {
                    "gain_db": -30.0,
                    "laughter_clips_detected": 7,
                    "laughter_clips": 9,
                    "event_recall_at_0.5s": 0.61,
                    "event_f1_at_0.5s": 0.52,
                    "false_events_per_hour": 33.3,
                }
            ],
        },
        "extra_metric": {"x": 1},
    }


class TestMarkdown:
    """Every figure of the JSON sections shows up in its table."""

    def test_tables(self) -> None:
        text = render_markdown(_report())  # type: ignore[arg-type]
        assert "# Accuracy report: m-1" in text
        assert "| all | 3 | 0.5 / 0.25 / 0.333 | 0.5 / 0.25 / 0.333 | 1 / 1 / 3 | 12.5 |" in text
        assert "| over_speech_5db | 3 |" in text
        assert "| 0 | 3 | 0.5 / 0.25 / 0.1 |" in text
        assert "| -30 dB | 7/9 | 0.61 | 0.52 | 33.3 |" in text
        assert "| speech | 1/2 | 0.5 | 0.75 |" in text
        assert "ROC AUC 0.9" in text
        assert "## extra_metric" in text  # a section without a renderer is still named

    def test_files(self, tmp_path: pathlib.Path) -> None:
        report = _report()
        written = write_report(report, tmp_path / "out")  # type: ignore[arg-type]
        names = sorted(p.name for p in written)
        assert names == ["pr-curve.png", "report.json", "report.md"]
        assert (tmp_path / "out" / "pr-curve.png").read_bytes()[:8] == PNG_MAGIC
        saved = json.loads((tmp_path / "out" / "report.json").read_text())
        assert saved["clip_level"]["pr_curve_png"] == "pr-curve.png"
        assert saved["events"]["all"]["at_0.5s"]["f1"] == 0.333
        assert "![precision-recall curve](pr-curve.png)" in (tmp_path / "out" / "report.md").read_text()


class TestCandidates:
    """The grid of event-layer settings."""

    def test_base_first_valid_and_unique(self) -> None:
        grid = {"enter_threshold": (0.3, 0.5), "exit_threshold": (0.35, 0.45), "max_gap_s": (0.2, 0.4)}
        found = candidate_rules({**grid, "audio_edge_s": (0.2, 0.4)})
        assert found[0] == DEFAULT_RULES
        assert all(r.exit_threshold <= r.enter_threshold for r in found)
        assert all(r.audio_edge_s <= r.max_gap_s / 2 + 1e-9 for r in found)
        keys = [(r.enter_threshold, r.exit_threshold, r.max_gap_s, r.audio_edge_s) for r in found]
        assert len(keys) == len(set(keys))
        # enter 0.3 is below both exits; with enter 0.5 the edge is capped to gap/2 (0.1 or 0.2), so
        # 2 exits x 2 gaps, the base (0.5, 0.35, 0.4, 0.2) among them
        assert len(found) == 4

    def test_unsmoothed_audio_is_tried_once(self) -> None:
        """Smoothing over one window is no smoothing: its kind is not varied, the others' are."""
        found = candidate_rules({"audio_smooth_windows": (1, 3, 5), "audio_smoothing": ("median", "mean")})
        assert found[0] == DEFAULT_RULES
        assert [(r.audio_smooth_windows, r.audio_smoothing) for r in found] == [
            (1, "median"),
            (3, "median"),
            (3, "mean"),
            (5, "median"),
            (5, "mean"),
        ]


class TestTuning:
    """Grouped CV of the event layer on a few dev clips (two folds, the quick grid)."""

    def test_per_fold_choice_and_held_out_figures(self, subset_dir: pathlib.Path) -> None:
        clips = load_labeled_clips(subset_dir)
        folds = grouped_folds(clips, folds=2)
        scenes = [s for s in fold_scenes(clips, folds, snrs_db=()) if s.file.duration_s < 12.0]
        stage = CachedAudioStage(AudioLaughterDetector.load(default_model_path()))
        candidates = candidate_rules(QUICK_GRID)[:3]
        result = tune_event_layer({0: stage, 1: stage}, scenes, candidates)
        assert result["candidates"] == len(candidates)
        assert [f["fold"] for f in result["per_fold"]] == [0, 1]
        settings = [
            {k: getattr(r, k) for k in result["base"]}  # the same keys as rules_dict
            for r in candidates
        ]
        for fold in result["per_fold"]:
            assert fold["chosen_on_other_folds"] in settings
            assert (
                fold["after"]["scenes"]
                == fold["before"]["scenes"]
                == sum(s.fold == fold["fold"] for s in scenes)
            )
        pooled = sum(f["after"]["at_0.5s"]["true_positives"] for f in result["per_fold"])
        assert pooled == result["held_out_after"]["at_0.5s"]["true_positives"]
        assert isinstance(result["wins"], bool)
        assert result["chosen"] in settings
        by_value = result["best_by_value"]
        # the quick grid's first three vary the minimum event length and the smoothing, nothing else
        assert set(by_value) == {"min_event_s", "audio_smooth_windows"}
        chosen_f1 = result["chosen_in_sample"]["at_0.5s"]["f1"]
        for name, entries in by_value.items():
            assert sorted(e["value"] for e in entries) == sorted({s[name] for s in settings})
            assert all(e["best_setting"][name] == e["value"] for e in entries)
            # the overall choice has one of each setting's values, and nothing scores above it
            assert max(e["f1_at_0.5s"] for e in entries) == chosen_f1

    def test_smoothing_kind_is_judged_on_smoothed_audio(self, subset_dir: pathlib.Path) -> None:
        """Unsmoothed audio has no smoothing kind: the per-value rows of the kind come from smoothed settings."""
        clips = load_labeled_clips(subset_dir)
        folds = grouped_folds(clips, folds=2)
        scenes = [s for s in fold_scenes(clips, folds, snrs_db=()) if s.file.duration_s < 12.0]
        stage = CachedAudioStage(AudioLaughterDetector.load(default_model_path()))
        candidates = candidate_rules({"audio_smooth_windows": (1, 3), "audio_smoothing": ("median", "mean")})
        assert [(r.audio_smooth_windows, r.audio_smoothing) for r in candidates] == [
            (1, "median"),
            (3, "median"),
            (3, "mean"),
        ]
        by_value = tune_event_layer({0: stage, 1: stage}, scenes, candidates)["best_by_value"]
        kinds = {e["value"]: e["best_setting"] for e in by_value["audio_smoothing"]}
        assert set(kinds) == {"median", "mean"}
        assert all(setting["audio_smooth_windows"] == 3 for setting in kinds.values())
        assert [e["value"] for e in by_value["audio_smooth_windows"]] == [1, 3]


class TestCrossValidatedClipLevel:
    """Each clip is scored by its own fold's model; with one model for every fold it equals the plain figures."""

    def test_same_model_per_fold_equals_plain(self, subset_dir: pathlib.Path) -> None:
        from laughter_train.evaluate import evaluate_detector
        from laughter_train.report import cross_validated_clip_level

        clips = load_labeled_clips(subset_dir)
        folds = grouped_folds(clips, folds=2)
        detector = AudioLaughterDetector.load(default_model_path())
        result = cross_validated_clip_level([detector, detector], clips, folds, 0.5)
        plain = evaluate_detector(detector, clips, 0.5)
        for key in ("precision", "recall", "f1", "roc_auc"):
            assert result[key] == plain[key]
        assert result["false_positive_rate_by_class"] == plain["false_positive_rate_by_class"]
        assert [f["clips"] for f in result["per_fold"]] == [len(f.test) for f in folds]
        assert sum(f["laughter_clips"] for f in result["per_fold"]) == sum(c.is_laughter for c in clips)
