"""Tests for laughter_server.vision.face_head and emotion_versions: the trained head's maths, its file and
which version a request means."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from laughter_server.errors import InvalidOptionError, ModelLoadError
from laughter_server.vision.emotion import EMOTION_INDEX
from laughter_server.vision.emotion_versions import (
    BUILTIN_VERSIONS,
    DEFAULT_EMOTION_VERSION,
    available_emotion_versions,
    resolve_emotion_version,
)
from laughter_server.vision.face_head import FaceHead, head_features, load_head, save_head


def binary_head(version: str = "2.1.0") -> FaceHead:
    """happy vs neutral over the scores: happy when log p(happy) is high."""
    coef = np.zeros((1, 7))
    coef[0, EMOTION_INDEX["happy"]] = -2.0  # P(neutral) falls as the happy score rises
    return FaceHead(
        version=version,
        classes=("happy", "neutral"),
        mean=np.zeros(7),
        scale=np.ones(7),
        coef=coef,
        intercept=np.array([0.0]),
    )


def probabilities(happy: list[float]) -> np.ndarray:
    rows = np.full((len(happy), 7), 0.0, dtype=np.float32)
    rows[:, EMOTION_INDEX["happy"]] = happy
    rows[:, EMOTION_INDEX["neutral"]] = 1.0 - np.asarray(happy)
    return rows


class TestFaceHead:
    def test_scores_only_its_classes_and_sums_to_one(self) -> None:
        head = binary_head()
        out = head.emotions(probabilities([0.9, 0.01]), np.zeros((2, 256), np.float32))
        assert out.shape == (2, 7)
        assert np.allclose(out.sum(axis=1), 1.0)
        others = [i for name, i in EMOTION_INDEX.items() if name not in head.classes]
        assert np.all(out[:, others] == 0.0)
        assert out[0, EMOTION_INDEX["happy"]] > out[1, EMOTION_INDEX["happy"]]

    def test_scores_features_are_floored_logs(self) -> None:
        features = head_features("scores", probabilities([1.0, 0.0]), np.zeros((2, 256), np.float32))
        assert features[0, EMOTION_INDEX["happy"]] == 0.0
        assert features[1, EMOTION_INDEX["happy"]] == pytest.approx(np.log(1e-6))

    def test_multiclass_softmax(self) -> None:
        classes = ("happy", "sad", "neutral")
        coef = np.zeros((3, 256))
        coef[1, 0] = 5.0  # embedding value 0 drives "sad"
        head = FaceHead(
            "3.0.0", classes, np.zeros(256), np.ones(256), coef, np.zeros(3), features="embedding"
        )
        embedding = np.zeros((1, 256), np.float32)
        embedding[0, 0] = 2.0
        out = head.emotions(probabilities([0.5]), embedding)
        assert out[0].argmax() == EMOTION_INDEX["sad"]
        assert out[0].sum() == pytest.approx(1.0)

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"classes": ("happy",)}, "two distinct classes"),
            ({"classes": ("happy", "joy")}, "unknown classes"),
            ({"coef": np.zeros((1, 5))}, "weights must be"),
            ({"scale": np.zeros(7)}, "scales positive"),
            ({"features": "pixels"}, "features must be"),
        ],
    )
    def test_bad_heads_are_refused(self, change: dict[str, object], message: str) -> None:
        fields = {**binary_head().__dict__, **change}
        with pytest.raises(ValueError, match=message):
            FaceHead(**fields)  # type: ignore[arg-type]

    def test_round_trip_keeps_weights_and_records_the_file_checksum(self, tmp_path: Path) -> None:
        head = binary_head()
        path = save_head(head, tmp_path, {"note": "figures"})
        assert path.name == "face_emotion-2.1.0.json"
        loaded = load_head(path)
        assert loaded.classes == head.classes
        assert np.array_equal(loaded.coef, head.coef)
        assert len(loaded.sha256) == 64
        assert json.loads(path.read_text())["training"] == {"note": "figures"}

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("{not json", "is not JSON"),
            ('{"format": "other"}', "is not a laughter-face-head-1"),
            ('{"format": "laughter-face-head-1", "version": "2.1.0"}', "is damaged"),
        ],
    )
    def test_unreadable_files_raise_model_load_error(self, tmp_path: Path, text: str, message: str) -> None:
        path = tmp_path / "face_emotion-2.1.0.json"
        path.write_text(text)
        with pytest.raises(ModelLoadError, match=message):
            load_head(path)


class TestEmotionVersions:
    def test_builtin_versions_and_default(self) -> None:
        assert resolve_emotion_version(None, "") is BUILTIN_VERSIONS[DEFAULT_EMOTION_VERSION]
        assert resolve_emotion_version(None, "1").crop_shape == (64, 64, 1)
        assert resolve_emotion_version(None, "2").crop_shape == (112, 112, 3)

    def test_a_trained_head_runs_on_version_2(self, tmp_path: Path) -> None:
        save_head(binary_head("2.10.0"), tmp_path)
        save_head(binary_head("2.2.0"), tmp_path)
        assert available_emotion_versions(tmp_path) == ["1", "2", "2.2.0", "2.10.0"]
        version = resolve_emotion_version(tmp_path, "2.10.0")
        assert version.head is not None
        assert version.head.version == "2.10.0"
        assert version.triton_model == "face_expression"

    @pytest.mark.parametrize("requested", ["7.7.7", "../face_emotion-2.1.0", ".hidden"])
    def test_unknown_versions_are_refused(self, tmp_path: Path, requested: str) -> None:
        save_head(binary_head(), tmp_path)
        with pytest.raises(InvalidOptionError) as caught:
            resolve_emotion_version(tmp_path, requested)
        assert caught.value.field == "version"
