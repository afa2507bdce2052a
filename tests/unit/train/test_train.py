"""Tests of the training command on a small subset of the dev set."""

from __future__ import annotations

import csv
import json
import pathlib
import shutil

import numpy as np
import pytest
from laughter_server.audio.detector import AudioLaughterDetector
from laughter_server.audio.features import FeatureSettings, compute_window_features
from laughter_server.media.types import AudioClip
from laughter_train.cli import eval_main, main
from laughter_train.dataset import TrainingDataError, fingerprint_clips, load_labeled_clips

SUBSET = {
    "laughter": [
        "btanks-data__sounds_laugh01.wav",
        "trackballs-data__sfx_evillaugh.wav",
        "wesnoth-1.16-data__sounds_dwarf-laugh.wav",
        "xemacs21-basesupport__sounds_laugh.wav",
    ],
    "speech": [
        "codec2-examples__raw_big_dog.wav",
        "forensics-samples-files__audio2_deleted.wav",
        "redeclipse-data__voice_thanks.wav",
        "xemacs21-basesupport__sounds_Boring.wav",
    ],
    "music": ["sonic-pi-samples__samples_loop_amen.wav", "trackballs-data__music_tb_sorrow.wav"],
    "noise": ["flightgear-data-base__Sounds_rain.wav"],
}


@pytest.fixture(scope="module", name="subset_dir")
def fixture_subset_dir(audio_dev_dir: pathlib.Path, tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A label-folder tree with a few dev clips of each kind."""
    root = tmp_path_factory.mktemp("subset")
    for label, names in SUBSET.items():
        (root / label).mkdir()
        for name in names:
            shutil.copy(audio_dev_dir / "audio" / label / name, root / label / name)
    return root


def train_quick(data: pathlib.Path, out: pathlib.Path, version: str, *options: str) -> int:
    """``laughter-train audio --quick`` on ``data`` into ``out``; returns the exit code."""
    return main(["audio", "--data", str(data), "--out", str(out), "--version", version, "--quick", *options])


@pytest.fixture(scope="module", name="quick_model")
def fixture_quick_model(subset_dir: pathlib.Path, tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A model trained with --quick on the subset."""
    out = tmp_path_factory.mktemp("model")
    assert train_quick(subset_dir, out, "0.0.1") == 0
    return out / "laughter-audio-0.0.1.skops"


class TestTrainingCommand:
    """laughter-train audio / laughter-eval audio."""

    def test_quick_training_gives_loadable_model(
        self, quick_model: pathlib.Path, subset_dir: pathlib.Path
    ) -> None:
        """The saved model loads, verifies its checksum and records its provenance."""
        detector = AudioLaughterDetector.load(quick_model)
        metadata = json.loads(quick_model.with_suffix(".json").read_text())
        assert detector.version == "0.0.1"
        assert metadata["data_fingerprint"] == fingerprint_clips(load_labeled_clips(subset_dir))
        assert metadata["class_balance"]["positive_clips"] == 4
        estimators = {row["estimator"] for row in metadata["cross_validation"]["table"]}
        assert estimators == {
            "logistic_regression",
            "random_forest",
            "hist_gradient_boosting",
            "guarded_boosting",
        }
        assert metadata["feature_settings"]["feature_set"] == "laughter-cues-2"
        assert metadata["chosen_estimator"] in estimators
        assert metadata["artifact_sha256"] == detector.sha256

    def test_training_is_deterministic(
        self, quick_model: pathlib.Path, subset_dir: pathlib.Path, tmp_path: pathlib.Path
    ) -> None:
        """A second run with the same seed predicts exactly the same probabilities."""
        assert train_quick(subset_dir, tmp_path, "0.0.1") == 0
        first = AudioLaughterDetector.load(quick_model)
        second = AudioLaughterDetector.load(tmp_path / quick_model.name)
        samples = load_labeled_clips(subset_dir)[0].samples
        np.testing.assert_array_equal(
            first.predict_windows(AudioClip(samples)).probabilities,
            second.predict_windows(AudioClip(samples)).probabilities,
        )

    def test_eval_report(
        self, quick_model: pathlib.Path, subset_dir: pathlib.Path, tmp_path: pathlib.Path
    ) -> None:
        """laughter-eval writes metrics and a false-positive rate for each negative class."""
        report_path = tmp_path / "report.json"
        assert (
            eval_main(
                [
                    "audio",
                    "--data",
                    str(subset_dir),
                    "--model",
                    str(quick_model),
                    "--report",
                    str(report_path),
                ]
            )
            == 0
        )
        report = json.loads(report_path.read_text())
        assert set(report["false_positive_rate_by_class"]) == {"speech", "music", "noise"}
        assert 0.0 <= report["f1"] <= 1.0
        assert report["clips"] == 11


class TestLoadLabeledClips:
    """load_labeled_clips input checks."""

    def test_manifest_missing_file_named(self, subset_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
        """A manifest row pointing at a missing file fails with the file's name."""
        manifest = tmp_path / "manifest.csv"
        with manifest.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file", "label", "source_package"])
            writer.writerow(["laughter/btanks-data__sounds_laugh01.wav", "laughter", "btanks-data"])
            writer.writerow(["speech/not-there.wav", "speech", "nowhere"])
        with pytest.raises(TrainingDataError, match=r"not-there\.wav"):
            load_labeled_clips(subset_dir, manifest)

    def test_manifest_groups_and_labels(self, subset_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
        """Manifest rows give labels and CV groups; non-audio rows are skipped."""
        manifest = tmp_path / "manifest.csv"
        manifest.write_text(
            "file,label,source_package\n"
            "laughter/btanks-data__sounds_laugh01.wav,laughter,pkg-a\n"
            "speech/redeclipse-data__voice_thanks.wav,speech,pkg-b\n"
            "images/face.jpg,face-smile,pkg-c\n"
        )
        clips = load_labeled_clips(subset_dir, manifest)
        assert [(c.label, c.group) for c in clips] == [("laughter", "pkg-a"), ("speech", "pkg-b")]

    def test_folder_groups_from_names(self, subset_dir: pathlib.Path) -> None:
        """In the folder layout the group is the name part before '__'."""
        clips = load_labeled_clips(subset_dir)
        assert {c.group for c in clips if c.is_laughter} == {
            "btanks-data",
            "trackballs-data",
            "wesnoth-1.16-data",
            "xemacs21-basesupport",
        }

    def test_only_negatives_refused(self, tmp_path: pathlib.Path, subset_dir: pathlib.Path) -> None:
        """A set without laughter clips is refused."""
        shutil.copytree(subset_dir / "speech", tmp_path / "speech")
        with pytest.raises(TrainingDataError, match="laughter"):
            load_labeled_clips(tmp_path)


class TestBadData:
    """Corrupted or mislabelled sets fail with a message naming the problem; documented cases load."""

    @staticmethod
    def _manifest(
        tmp_path: pathlib.Path, rows: list[str], header: str = "file,label,source_package"
    ) -> pathlib.Path:
        manifest = tmp_path / "manifest.csv"
        manifest.write_text(header + "\n" + "\n".join(rows) + "\n")
        return manifest

    def test_manifest_without_label_column(self, subset_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
        """A manifest lacking a required column names it."""
        manifest = self._manifest(
            tmp_path, ["laughter/btanks-data__sounds_laugh01.wav,btanks"], "file,source_package"
        )
        with pytest.raises(TrainingDataError, match=r"lacks column.*label"):
            load_labeled_clips(subset_dir, manifest)

    @pytest.mark.parametrize("label", ["Laughter", "laughs", "laugh", " laughter-ish"])
    def test_misspelt_positive_label_refused(
        self, subset_dir: pathlib.Path, tmp_path: pathlib.Path, label: str
    ) -> None:
        """A label that reads like laughter but is not 'laughter' is refused with its line number."""
        manifest = self._manifest(
            tmp_path,
            [
                "speech/redeclipse-data__voice_thanks.wav,speech,pkg-b",
                "laughter/btanks-data__sounds_laugh01.wav," + label + ",pkg-a",
            ],
        )
        with pytest.raises(TrainingDataError, match=r"line 3.*spelt 'laughter'"):
            load_labeled_clips(subset_dir, manifest)

    def test_misspelt_label_folder_refused(self, subset_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
        """The same check applies to label folders."""
        shutil.copytree(subset_dir / "speech", tmp_path / "speech")
        shutil.copytree(subset_dir / "laughter", tmp_path / "Laughter")
        with pytest.raises(TrainingDataError, match="Laughter"):
            load_labeled_clips(tmp_path)

    def test_empty_label_refused(self, subset_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
        """An empty label names its line."""
        manifest = self._manifest(tmp_path, ["laughter/btanks-data__sounds_laugh01.wav,,pkg-a"])
        with pytest.raises(TrainingDataError, match="line 2: empty label"):
            load_labeled_clips(subset_dir, manifest)

    def test_corrupted_audio_file_named(self, subset_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
        """A file that is not audio fails with its path."""
        shutil.copytree(subset_dir, tmp_path / "set")
        (tmp_path / "set" / "speech" / "broken__clip.wav").write_bytes(b"RIFF\x00\x00not a wave file")
        with pytest.raises(TrainingDataError, match=r"cannot read audio file speech/broken__clip\.wav"):
            load_labeled_clips(tmp_path / "set")

    def test_silent_laughter_refused_silent_negative_kept(
        self, subset_dir: pathlib.Path, tmp_path: pathlib.Path
    ) -> None:
        """A silent laughter clip would teach nothing and is refused; silence as a negative is a valid example."""
        import soundfile

        shutil.copytree(subset_dir, tmp_path / "set")
        silence = np.zeros(16_000, np.float32)
        soundfile.write(tmp_path / "set" / "noise" / "room__silence.wav", silence, 16_000)
        clips = load_labeled_clips(tmp_path / "set")
        assert "noise/room__silence.wav" in {c.relative_path for c in clips}
        soundfile.write(tmp_path / "set" / "laughter" / "room__silent-laugh.wav", silence, 16_000)
        with pytest.raises(TrainingDataError, match=r"laughter/room__silent-laugh\.wav is silent"):
            load_labeled_clips(tmp_path / "set")


class TestWindowWeights:
    """window_weights."""

    def test_examples_count_once_and_classes_balance(self) -> None:
        """A long example weighs as much as a short one; both classes carry the same total weight."""
        from laughter_train.train import window_weights

        labels = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], np.int8)
        weights = window_weights(labels, [2, 2, 6])
        assert weights.mean() == pytest.approx(1.0)
        assert weights[2:4].sum() == pytest.approx(weights[4:].sum())
        assert weights[labels == 1].sum() == pytest.approx(weights[labels == 0].sum())

    def test_example_weights_scale_whole_examples(self) -> None:
        """A hard negative weighs ``w`` times another negative of any length; classes still balance."""
        from laughter_train.train import window_weights

        labels = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], np.int8)
        weights = window_weights(labels, [2, 2, 6], [1.0, 8.0, 1.0])
        assert weights.mean() == pytest.approx(1.0)
        assert weights[2:4].sum() == pytest.approx(8.0 * weights[4:].sum())
        assert weights[labels == 1].sum() == pytest.approx(weights[labels == 0].sum())

    def test_one_weight_per_example(self) -> None:
        from laughter_train.train import window_weights

        with pytest.raises(ValueError, match="one weight per example"):
            window_weights(np.array([1, 0], np.int8), [1, 1], [1.0])


class TestHardNegatives:
    """laughter-train audio --hard-negatives / --hard-negative-weight."""

    def test_default_recorded(self, quick_model: pathlib.Path) -> None:
        """By default guarded_boosting weighs speech and screams 8 times more, and the metadata says so."""
        metadata = json.loads(quick_model.with_suffix(".json").read_text())
        assert metadata["hard_negative_labels"] == ["speech", "scream"]
        assert metadata["hard_negative_weight"] == 8.0

    def test_options_recorded(self, subset_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
        options = ("--hard-negatives", "speech,music", "--hard-negative-weight", "3")
        assert train_quick(subset_dir, tmp_path, "0.0.4", *options) == 0
        metadata = json.loads((tmp_path / "laughter-audio-0.0.4.json").read_text())
        assert metadata["hard_negative_labels"] == ["speech", "music"]
        assert metadata["hard_negative_weight"] == 3.0

    def test_guarded_member_learns_the_hard_negatives(self, subset_dir: pathlib.Path) -> None:
        """With weight 8 the second member scores speech lower than with weight 1; the pair takes the minimum."""
        from laughter_train.train import (
            TrainConfig,
            _fit,
            _training_windows,
            candidate_estimators,
        )

        clips = load_labeled_clips(subset_dir)
        speech = np.concatenate(
            [
                compute_window_features(c.samples, FeatureSettings()).features
                for c in clips
                if c.label == "speech"
            ]
        )
        factory = candidate_estimators(0, is_quick=True)["guarded_boosting"]
        models = {}
        for weight in (1.0, 8.0):
            config = TrainConfig(is_quick=True, hard_negative_weight=weight)
            models[weight] = _fit("guarded_boosting", factory, _training_windows(clips, config, 0), 0)
        plain_member = models[1.0].members[1].predict_proba(speech)[:, 1]
        weighted_member = models[8.0].members[1].predict_proba(speech)[:, 1]
        assert weighted_member.mean() < plain_member.mean()
        pair = models[8.0].predict_proba(speech)[:, 1]
        np.testing.assert_array_equal(
            pair, np.minimum(models[8.0].members[0].predict_proba(speech)[:, 1], weighted_member)
        )

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            (("--hard-negative-weight", "0"), "must be a finite number above 0"),
            (("--hard-negative-weight", "heavy"), "not a number"),
            (("--hard-negatives", "speech,laughter"), "laughter is the positive class"),
        ],
    )
    def test_bad_options_refused(
        self,
        subset_dir: pathlib.Path,
        tmp_path: pathlib.Path,
        capsys: pytest.CaptureFixture[str],
        options: tuple[str, ...],
        message: str,
    ) -> None:
        with pytest.raises(SystemExit) as exit_info:
            train_quick(subset_dir, tmp_path, "0.0.5", *options)
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err
        assert not list(tmp_path.glob("*.skops"))


class TestAugmentChoice:
    """laughter-train audio --augment."""

    def test_mix_recipe_recorded_and_trains(self, subset_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
        """--augment mix trains a loadable model and records the mixing settings in its metadata."""
        assert train_quick(subset_dir, tmp_path, "0.0.2", "--augment", "mix") == 0
        metadata = json.loads((tmp_path / "laughter-audio-0.0.2.json").read_text())
        assert metadata["is_augmented"] is True
        assert metadata["augment_settings"]["mixes_per_positive"] == 4
        assert metadata["augment_settings"]["augment_negatives"] is True
        AudioLaughterDetector.load(tmp_path / "laughter-audio-0.0.2.skops")

    def test_none_means_no_copies(
        self, subset_dir: pathlib.Path, tmp_path: pathlib.Path, quick_model: pathlib.Path
    ) -> None:
        """--augment none trains on the original clips only: fewer positive windows than with laugh copies."""
        assert train_quick(subset_dir, tmp_path, "0.0.3", "--augment", "none") == 0
        plain = json.loads((tmp_path / "laughter-audio-0.0.3.json").read_text())
        copies = json.loads(quick_model.with_suffix(".json").read_text())
        assert plain["is_augmented"] is False
        assert copies["is_augmented"] is True
        plain_positive = plain["class_balance"]["training_windows_positive"]
        assert copies["class_balance"]["training_windows_positive"] > 2 * plain_positive


class TestEstimatorChoice:
    """laughter-train audio --estimator."""

    def test_named_candidate_is_shipped(self, subset_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
        """--estimator random_forest ships the forest with its best aggregate, whatever the table's best row."""
        assert train_quick(subset_dir, tmp_path, "0.0.6", "--estimator", "random_forest") == 0
        metadata = json.loads((tmp_path / "laughter-audio-0.0.6.json").read_text())
        assert metadata["chosen_estimator"] == "random_forest"
        assert metadata["chosen_by"] == "--estimator random_forest"
        forest = [r for r in metadata["cross_validation"]["table"] if r["estimator"] == "random_forest"]
        best = max(forest, key=lambda row: (row["roc_auc"], row["best_f1"]))
        assert (metadata["clip_aggregate"], metadata["clip_threshold"]) == (
            best["aggregate"],
            best["best_threshold"],
        )
        AudioLaughterDetector.load(tmp_path / "laughter-audio-0.0.6.skops")

    def test_default_is_the_best_row(self, quick_model: pathlib.Path) -> None:
        """Without --estimator the row with the best ROC AUC (then F1) is shipped."""
        metadata = json.loads(quick_model.with_suffix(".json").read_text())
        best = max(metadata["cross_validation"]["table"], key=lambda row: (row["roc_auc"], row["best_f1"]))
        assert metadata["chosen_by"] == "best ROC AUC"
        assert (metadata["chosen_estimator"], metadata["clip_aggregate"]) == (
            best["estimator"],
            best["aggregate"],
        )

    def test_unknown_candidate_refused(self, subset_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
        """A name that is not a candidate is a usage error (exit 2), and nothing is trained."""
        with pytest.raises(SystemExit) as exit_info:
            train_quick(subset_dir, tmp_path, "0.0.7", "--estimator", "svm")
        assert exit_info.value.code == 2
        assert not list(tmp_path.glob("*.skops"))

    def test_command_line_names_match_the_candidates(self) -> None:
        """The names --estimator accepts are exactly the trainer's candidates."""
        from laughter_train.cli import ESTIMATOR_NAMES as CLI_NAMES
        from laughter_train.train import ESTIMATOR_NAMES, candidate_estimators

        assert CLI_NAMES == ESTIMATOR_NAMES == tuple(candidate_estimators(0, is_quick=True))
