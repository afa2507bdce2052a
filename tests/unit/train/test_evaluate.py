"""Tests of the evaluation command: segment matching, scene construction, annotations, PNG and report."""

from __future__ import annotations

import json
import pathlib
import sys

import laughter_server
import numpy as np
import numpy.typing as npt
import pytest
import soundfile
from laughter_train.cli import eval_main
from laughter_train.dataset import LabeledClip, TrainingDataError
from laughter_train.evaluate import (
    SceneSettings,
    build_scenes,
    describe_scenes,
    load_segment_annotations,
)
from laughter_train.metrics import match_onsets, segment_metrics

from tests.unit.train.test_train import SUBSET, fixture_subset_dir

__all__ = ["fixture_subset_dir"]

RATE = 16_000
SHIPPED_MODEL = (
    pathlib.Path(laughter_server.__file__).parent / "models" / "audio" / "laughter-audio-1.0.0.skops"
)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LAUGH_LEAD_S = 0.1
LAUGH_SOUND_S = 0.5


def _laugh(seed: int) -> npt.NDArray[np.float32]:
    """0.1 s of silence, 0.5 s of a pulsed tone, 0.05 s of silence."""
    t = np.arange(round(LAUGH_SOUND_S * RATE)) / RATE
    sound = 0.3 * np.sin(2 * np.pi * (300 + 20 * seed) * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 5 * t))
    parts = [np.zeros(round(LAUGH_LEAD_S * RATE)), sound, np.zeros(round(0.05 * RATE))]
    return np.asarray(np.concatenate(parts), dtype=np.float32)


def _clip(path: str, samples: npt.NDArray[np.float32]) -> LabeledClip:
    label = path.split("/", 1)[0]
    return LabeledClip(path, label, path, samples, "0" * 64)


@pytest.fixture(name="synthetic_clips")
def fixture_synthetic_clips() -> list[LabeledClip]:
    """Three laughs with known leading silence and five negatives of different lengths and levels."""
    rng = np.random.default_rng(7)
    clips = [_clip(f"laughter/l{i}.wav", _laugh(i)) for i in range(3)]
    for i, (seconds, level) in enumerate([(3.0, 0.05), (7.0, 0.2), (1.5, 0.01), (12.0, 0.1), (0.4, 0.3)]):
        noise = (level * rng.standard_normal(round(seconds * RATE))).astype(np.float32)
        clips.append(_clip(f"speech/n{i}.wav", noise))
    return clips


class TestMatchOnsets:
    """match_onsets and segment_metrics on hand-made segment lists."""

    def test_tolerance_boundary(self) -> None:
        """0.29 s off is a hit, 0.31 s off is a miss plus a false positive."""
        match = match_onsets([1.0, 5.0], [1.29, 5.31], 0.3)
        assert match.pairs == ((0, 0),)
        assert (match.true_positives, match.false_positives, match.misses) == (1, 1, 1)

    def test_exact_tolerance_is_a_hit(self) -> None:
        """An onset exactly the tolerance away counts despite float rounding (1.3 - 1.0 > 0.3)."""
        assert match_onsets([1.0], [1.3], 0.3).true_positives == 1

    def test_one_to_one(self) -> None:
        """Two detections near one laugh: the closer one is the hit, the other a false positive."""
        match = match_onsets([10.0], [10.1, 9.95], 0.3)
        assert match.pairs == ((0, 1),)
        assert (match.true_positives, match.false_positives, match.misses) == (1, 1, 0)

    def test_closest_pair_first(self) -> None:
        """A detection goes to the nearest laugh, not to the first one within tolerance."""
        match = match_onsets([1.0, 1.25], [1.2], 0.3)
        assert match.pairs == ((1, 0),)
        assert match.misses == 1

    def test_hand_made_f1(self) -> None:
        """Three laughs, four detections: 2 hits, 2 false positives, 1 miss."""
        match = match_onsets([1.0, 5.0, 9.0], [1.29, 5.31, 8.9, 9.05], 0.3)
        assert match.pairs == ((0, 0), (2, 3))
        figures = segment_metrics(match.true_positives, match.false_positives, match.misses)
        assert figures == {"precision": 0.5, "recall": 0.6667, "f1": 0.5714}

    def test_nothing_detected_nothing_true(self) -> None:
        """Empty lists give zero counts and zero figures, not a division error."""
        match = match_onsets([], [], 0.3)
        assert (match.true_positives, match.false_positives, match.misses) == (0, 0, 0)
        assert segment_metrics(0, 0, 0) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


class TestBuildScenes:
    """build_scenes / describe_scenes."""

    def test_deterministic(self, synthetic_clips: list[LabeledClip]) -> None:
        """Two builds with the same seed are identical; another seed gives other scenes."""
        first, second = build_scenes(synthetic_clips), build_scenes(synthetic_clips)
        assert [s.name for s in first] == [s.name for s in second]
        for a, b in zip(first, second, strict=True):
            np.testing.assert_array_equal(a.samples, b.samples)
            assert (a.laughter, a.parts) == (b.laughter, b.parts)
        other = build_scenes(synthetic_clips, SceneSettings(seed=1))
        assert [s.parts for s in other] != [s.parts for s in first]

    def test_laugh_at_recorded_onset(self, synthetic_clips: list[LabeledClip]) -> None:
        """Each laugh is in its scene unchanged; the true segment is its sounding part."""
        laughs = {c.relative_path: c for c in synthetic_clips if c.is_laughter}
        scenes = [s for s in build_scenes(synthetic_clips) if s.laughter]
        assert len(scenes) == len(laughs)
        for scene in scenes:
            (part,) = [p for p in scene.parts if p.source in laughs]
            samples = laughs[part.source].samples
            start = round(part.at_s * RATE)
            np.testing.assert_array_equal(scene.samples[start : start + len(samples)], samples)
            assert 2.0 <= part.at_s <= 4.0
            ((start_s, end_s),) = scene.laughter
            assert start_s == pytest.approx(part.at_s + LAUGH_LEAD_S)
            assert end_s == pytest.approx(part.at_s + LAUGH_LEAD_S + LAUGH_SOUND_S)
            assert np.max(np.abs(scene.samples)) <= 1.0

    def test_negative_scenes(self, synthetic_clips: list[LabeledClip]) -> None:
        """Scenes without laughter hold negatives only; every negative is used; the count is bounded."""
        settings = SceneSettings(negative_scene_s=2.0)
        scenes = build_scenes(synthetic_clips, settings)
        negatives = [s for s in scenes if not s.laughter]
        assert negatives
        assert all(p.source.startswith("speech/") for s in negatives for p in s.parts)
        assert all(len(s.samples) == 2 * RATE for s in negatives)
        description = describe_scenes(settings, scenes, synthetic_clips)
        assert description["negative_clips_used"] == description["negative_clips"] == 5
        assert description["laughter_scenes"] == 3
        bounded = build_scenes(synthetic_clips, SceneSettings(negative_scene_s=2.0, max_negative_scenes=2))
        assert sum(1 for s in bounded if not s.laughter) == 2


def _write_wav(path: pathlib.Path, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, np.zeros(round(seconds * RATE), np.float32), RATE)


class TestSegmentAnnotations:
    """load_segment_annotations."""

    def test_rows(self, tmp_path: pathlib.Path) -> None:
        """Several rows per file, files relative to the CSV or the data folder, empty rows for no laughter."""
        data = tmp_path / "data"
        _write_wav(data / "a.wav", 6.0)
        _write_wav(tmp_path / "notes" / "b.wav", 3.0)
        annotations = tmp_path / "notes" / "segments.csv"
        annotations.write_text("file,start_s,end_s\na.wav,4.0,5.0\nb.wav,,\na.wav,1.0,2.5\n")
        files = load_segment_annotations(annotations, data)
        assert [(f.name, f.laughter) for f in files] == [
            ("a.wav", ((1.0, 2.5), (4.0, 5.0))),
            ("b.wav", ()),
        ]
        assert files[0].duration_s == pytest.approx(6.0)

    @pytest.mark.parametrize(
        ("rows", "message"),
        [
            ("gone.wav,1.0,2.0\n", r"missing audio file: gone\.wav"),
            ("a.wav,3.0,2.0\n", r"line 2: start_s 3 must be before end_s 2"),
            ("a.wav,one,2.0\n", r"line 2: start_s 'one' is not a number"),
            ("a.wav,1.0,\n", r"line 2: give both start_s and end_s"),
            ("a.wav,9.0,10.0\n", r"starts at 9 s, after the end of the file"),
        ],
    )
    def test_bad_rows(self, tmp_path: pathlib.Path, rows: str, message: str) -> None:
        """A missing file or a malformed row is refused with the file or the line."""
        _write_wav(tmp_path / "a.wav", 6.0)
        annotations = tmp_path / "segments.csv"
        annotations.write_text("file,start_s,end_s\n" + rows)
        with pytest.raises(TrainingDataError, match=message):
            load_segment_annotations(annotations, tmp_path)

    def test_missing_column(self, tmp_path: pathlib.Path) -> None:
        """A CSV without the end_s column names it."""
        annotations = tmp_path / "segments.csv"
        annotations.write_text("file,start_s\na.wav,1.0\n")
        with pytest.raises(TrainingDataError, match="end_s"):
            load_segment_annotations(annotations, tmp_path)


def eval_shipped(data: pathlib.Path, *options: str) -> int:
    """``laughter-eval audio --data DATA --model <shipped 1.0.0>`` with ``options``; returns the exit code."""
    return eval_main(["audio", "--data", str(data), "--model", str(SHIPPED_MODEL), *options])


class TestEvalCommand:
    """laughter-eval audio with the shipped 1.0.0 model on a few dev clips."""

    def test_png_and_report(self, subset_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
        """The default PNG lies next to the report; the JSON holds the segment figures and the curve."""
        report_path = tmp_path / "eval.json"
        code = eval_shipped(subset_dir, "--report", str(report_path))
        assert code == 0
        png = tmp_path / "eval-pr.png"
        assert png.read_bytes()[:8] == PNG_MAGIC
        assert png.stat().st_size > 10_000
        report = json.loads(report_path.read_text())
        assert report["pr_curve_png"] == str(png)
        curve = report["pr_curve"]
        assert len(curve["precision"]) == len(curve["recall"]) == len(curve["thresholds"]) + 1
        assert 0.0 <= curve["average_precision"] <= 1.0
        segments = report["segments"]
        assert segments["source"] == "scenes"
        assert segments["onset_tolerance_s"] == 0.3
        assert segments["true_segments"] == len(SUBSET["laughter"])
        assert segments["true_positives"] + segments["misses"] == segments["true_segments"]
        assert segments["true_positives"] + segments["false_positives"] == segments["detected_segments"]
        assert {"precision", "recall", "f1"} <= set(segments)
        construction = report["scene_construction"]
        assert construction["laughter_scenes"] == len(SUBSET["laughter"])
        assert construction["negative_clips_used"] == construction["negative_clips"]

    def test_annotations_and_tolerance(self, subset_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
        """With --segments only the annotated files count, at the tolerance asked for; no PNG unless asked."""
        annotations = tmp_path / "segments.csv"
        laugh, speech = "laughter/" + SUBSET["laughter"][0], "speech/" + SUBSET["speech"][0]
        annotations.write_text(f"file,start_s,end_s\n{laugh},0.0,5.5\n{speech},,\n")
        report_path = tmp_path / "eval.json"
        code = eval_shipped(
            subset_dir,
            "--segments",
            str(annotations),
            "--onset-tolerance",
            "0.5",
            "--report",
            str(report_path),
            "--no-pr-curve",
        )
        assert code == 0
        report = json.loads(report_path.read_text())
        assert report["scene_construction"] is None
        assert report["pr_curve_png"] is None
        assert not list(tmp_path.glob("*.png"))
        segments = report["segments"]
        assert segments["source"] == str(annotations)
        assert (segments["files"], segments["true_segments"], segments["onset_tolerance_s"]) == (2, 1, 0.5)
        assert [row["file"] for row in segments["per_file"]] == [laugh, speech]

    @pytest.mark.parametrize(
        ("rows", "message"),
        [
            ("laughter/not-there.wav,0.0,1.0\n", "not-there.wav"),
            ("laughter/" + SUBSET["laughter"][0] + ",2.0,1.0\n", "must be before end_s"),
            ("laughter/" + SUBSET["laughter"][0] + ",0.5,soon\n", "end_s 'soon' is not a number"),
        ],
    )
    def test_bad_annotations_exit_2(
        self,
        subset_dir: pathlib.Path,
        tmp_path: pathlib.Path,
        capsys: pytest.CaptureFixture[str],
        rows: str,
        message: str,
    ) -> None:
        """Bad --segments rows end the command with status 2 and the reason on stderr."""
        annotations = tmp_path / "segments.csv"
        annotations.write_text("file,start_s,end_s\n" + rows)
        code = eval_shipped(subset_dir, "--segments", str(annotations))
        assert code == 2
        error = capsys.readouterr().err
        assert error.startswith("laughter-eval: segment annotations")
        assert message in error

    def test_png_without_matplotlib(
        self,
        subset_dir: pathlib.Path,
        tmp_path: pathlib.Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Asking for a PNG without matplotlib fails at once and says what to install."""
        monkeypatch.setitem(sys.modules, "matplotlib", None)
        png = tmp_path / "curve.png"
        code = eval_shipped(subset_dir, "--pr-curve", str(png))
        assert code == 2
        assert "pip install 'laughter-server[train]'" in capsys.readouterr().err
        assert not png.exists()
