"""Stacking in training: the cascade threshold, the combiner's grouped CV and the per-class figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from laughter_server.audio.features import compute_window_features
from laughter_train.dataset import LabeledClip
from laughter_train.stack import cascade_threshold, evaluate_stack, reach_fractions, resnet_version
from laughter_train.stack_scores import (
    ClipWindows,
    ResnetScorer,
    StackScores,
    load_scores,
    rescore_resnet,
    save_scores,
    sha256_file,
)
from laughter_train.train import TrainConfig


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


REPOSITORY = Path(__file__).resolve().parents[3] / "model_repository" / "laughter_resnet"


class TestResnetScoresOfAnotherFile:
    def test_the_version_is_the_folder_of_the_file(self, tmp_path: Path) -> None:
        """A stack names the ResNet version it was fitted over: the repository folder holding the file."""
        assert resnet_version(REPOSITORY / "1" / "model.onnx") == "1"
        assert resnet_version(REPOSITORY / "2" / "model.onnx") == "2"
        assert resnet_version(tmp_path / "model.onnx") == "1"

    def test_rescoring_keeps_the_cues_and_scores_with_the_new_file(self, tmp_path: Path) -> None:
        """A score cache remembers its ResNet file; scoring again with version 2 keeps the out-of-fold cues
        scores, replaces the ResNet's by version 2's (close to version 1's, not equal) and survives a save."""
        rng = np.random.default_rng(1)
        tone = np.sin(2 * np.pi * 220 * np.arange(3 * 16000) / 16000).astype(np.float32)
        samples = [tone * 0.3, rng.normal(0, 0.1, 3 * 16000).astype(np.float32)]
        clips = [
            LabeledClip(f"clip{i}.wav", label, f"g{i}", s, f"{i:064x}")
            for i, (label, s) in enumerate(zip(("laughter", "speech"), samples, strict=True))
        ]
        config = TrainConfig()
        centres = [compute_window_features(s, config.features).centers_s for s in samples]
        fp32 = ResnetScorer(REPOSITORY / "1" / "model.onnx")
        windows = [
            clip([0.2] * c.size, list(fp32.score_clip(s, c)), 0)
            for s, c in zip(samples, centres, strict=True)
        ]
        first = StackScores(
            windows, [(np.array([0]), np.array([1]))], sha256_file(REPOSITORY / "1" / "model.onnx")
        )
        rescored = rescore_resnet(first, clips, config, REPOSITORY / "2" / "model.onnx")
        assert rescored.resnet_sha256 == sha256_file(REPOSITORY / "2" / "model.onnx") != first.resnet_sha256
        for before, after in zip(first.clips, rescored.clips, strict=True):
            assert np.array_equal(before.cues, after.cues)
            assert after.resnet.shape == before.resnet.shape
            assert 0 < np.max(np.abs(after.resnet - before.resnet)) < 0.2
        save_scores(rescored, tmp_path / "scores.npz", clips)
        loaded = load_scores(tmp_path / "scores.npz", clips)
        assert loaded is not None
        assert loaded.resnet_sha256 == rescored.resnet_sha256
        assert np.array_equal(loaded.clips[0].resnet, rescored.clips[0].resnet)
