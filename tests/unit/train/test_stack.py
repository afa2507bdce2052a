"""Stacking in training: the cascade threshold, the combiner's grouped CV and the per-class figures."""

from __future__ import annotations

import numpy as np
import pytest
from laughter_train.stack import cascade_threshold, evaluate_stack, reach_fractions
from laughter_train.stack_scores import ClipWindows, StackScores


def clip(cues: list[float], resnet: list[float], label: int) -> ClipWindows:
    n = len(cues)
    return ClipWindows(
        np.array(cues, np.float32),
        np.array(resnet, np.float32),
        np.ones(n, np.float32),
        np.full(n, label, np.int8),
    )


class TestCascadeThreshold:
    def test_highest_threshold_keeping_the_recall(self) -> None:
        """The threshold is the highest grid value that keeps the asked share of laughter windows."""
        clips = [clip([0.015, 0.5, 0.6, 0.7, 0.8] * 10, [0.5] * 50, 1), clip([0.01] * 20, [0.5] * 20, 0)]
        assert cascade_threshold(clips, recall=0.98) == 0.01  # 0.02 would keep only 80 %
        assert cascade_threshold(clips, recall=0.8) == 0.3

    def test_reach_by_class(self) -> None:
        """The reach is the share of each class's windows at or above the threshold."""
        clips = [clip([0.1, 0.5], [0.5, 0.5], 0), clip([0.6, 0.7], [0.5, 0.5], 1)]
        assert reach_fractions(clips, ["speech", "laughter"], 0.3) == {
            "speech": 0.5,
            "laughter": 1.0,
            "all": 0.75,
        }


class TestEvaluateStack:
    def test_the_stack_uses_both_scores(self) -> None:
        """When each member misses a different negative class, the stack separates laughter from both."""
        rng = np.random.default_rng(0)
        clips, labels = [], []
        for _group in range(6):
            for kind in ("laughter", "speech", "applause"):
                n = 8
                noise = rng.normal(0, 0.03, n)
                cues = {"laughter": 0.7, "speech": 0.3, "applause": 0.7}[kind] + noise
                resnet = {"laughter": 0.8, "speech": 0.8, "applause": 0.2}[kind] - noise
                clips.append(clip(list(cues), list(resnet), int(kind == "laughter")))
                labels.append(kind)
        index = np.arange(len(clips))
        groups = index // 3
        folds = [(index[groups % 3 != k], index[groups % 3 == k]) for k in range(3)]
        report = evaluate_stack(StackScores(clips, folds), labels, recall=0.98)
        auc = {name: report.models[name]["roc_auc_by_class"] for name in ("cues", "resnet", "stack")}
        assert auc["cues"]["applause"] == pytest.approx(0.5, abs=0.2)
        assert auc["resnet"]["speech"] == pytest.approx(0.5, abs=0.2)
        assert auc["stack"]["applause"] > 0.95
        assert auc["stack"]["speech"] > 0.95
        assert report.reach["laughter"] == 1.0
