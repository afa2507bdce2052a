"""Event-level evaluation: fold scenes, laughs over speech, segment matching figures, the engine path."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from laughter_server.audio.detector import AudioLaughterDetector, default_model_path
from laughter_server.pipeline.audio_stage import AudioStage
from laughter_train.dataset import LabeledClip
from laughter_train.evaluate import EvalFile, _active_level_dbfs
from laughter_train.events_eval import CachedAudioStage, detect_events, scene_counts, summarize
from laughter_train.fold_models import Fold, grouped_folds
from laughter_train.scenes import Scene, fold_scenes, over_speech_scenes, scaled

RATE = 16_000


def _tone(seconds: float, level: float, hertz: float) -> npt.NDArray[np.float32]:
    t = np.arange(round(seconds * RATE)) / RATE
    return (level * np.sin(2 * np.pi * hertz * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 5 * t))).astype(
        np.float32
    )


def _clip(path: str, group: str, samples: npt.NDArray[np.float32]) -> LabeledClip:
    return LabeledClip(path, path.split("/", 1)[0], group, samples, "0" * 64)


@pytest.fixture(name="clips")
def fixture_clips() -> list[LabeledClip]:
    """Laughs from four sources, speech from two, noise from two; each source its own group."""
    rng = np.random.default_rng(3)
    clips = [
        _clip(f"laughter/s{i}__l.wav", f"s{i}", _tone(1.0 + 0.2 * i, 0.3, 300 + 40 * i)) for i in range(4)
    ]
    for i in range(2):
        speech = (0.1 * rng.standard_normal(5 * RATE)).astype(np.float32)
        clips.append(_clip(f"speech/s{i}__talk.wav", f"s{i}", speech))
        noise = (0.05 * rng.standard_normal(4 * RATE)).astype(np.float32)
        clips.append(_clip(f"noise/n{i}__hum.wav", f"n{i}", noise))
    return clips


class TestFoldScenes:
    """Scenes of a fold are built from that fold's test clips only, deterministically."""

    def test_parts_come_from_the_fold(self, clips: list[LabeledClip]) -> None:
        folds = grouped_folds(clips, folds=2)
        scenes = fold_scenes(clips, folds)
        assert {s.fold for s in scenes} == {0, 1}
        for scene in scenes:
            allowed = {clips[i].relative_path for i in folds[scene.fold].test}
            sources = {part.source for part in scene.file.parts}
            assert sources <= allowed, scene.key
        for fold in folds:
            train_groups = {clips[i].group for i in fold.train}
            test_groups = {clips[i].group for i in fold.test}
            assert not train_groups & test_groups
        kinds = {s.kind for s in scenes}
        assert kinds == {"laughter", "negative", "over_speech"}
        assert len({s.key for s in scenes}) == len(scenes)

    def test_deterministic(self, clips: list[LabeledClip]) -> None:
        folds = grouped_folds(clips, folds=2)
        first, second = fold_scenes(clips, folds), fold_scenes(clips, folds)
        assert [s.key for s in first] == [s.key for s in second]
        for a, b in zip(first, second, strict=True):
            np.testing.assert_array_equal(a.file.samples, b.file.samples)
            assert a.file.laughter == b.file.laughter

    def test_a_fold_without_speech_has_no_over_speech_scenes(self, clips: list[LabeledClip]) -> None:
        no_speech = [c for c in clips if c.label != "speech"]
        assert over_speech_scenes(no_speech, 5.0, seed=1) == []


class TestOverSpeech:
    """The laugh sits at the asked SNR over the speech bed, at its recorded onset."""

    @pytest.mark.parametrize("snr_db", [0.0, 5.0, 10.0])
    def test_snr_and_onset(self, snr_db: float) -> None:
        rng = np.random.default_rng(5)
        laugh = np.concatenate([np.zeros(RATE // 10, np.float32), _tone(0.8, 0.3, 400)])
        speech = (0.05 * rng.standard_normal(6 * RATE)).astype(np.float32)
        clips = [_clip("laughter/a__l.wav", "a", laugh), _clip("speech/b__s.wav", "b", speech)]
        (scene,) = over_speech_scenes(clips, snr_db, seed=9)
        ((start_s, end_s),) = scene.laughter
        laugh_part = next(p for p in scene.parts if p.source == "laughter/a__l.wav")
        assert start_s == pytest.approx(laugh_part.at_s + 0.1, abs=0.011)
        assert end_s - start_s == pytest.approx(0.8, abs=0.02)
        begin, stop = round(laugh_part.at_s * RATE), round((laugh_part.at_s + laugh_part.duration_s) * RATE)
        bed = np.concatenate([scene.samples[: begin - RATE // 10], scene.samples[stop + RATE // 10 :]])
        mixed = scene.samples[round(start_s * RATE) : round(end_s * RATE)]
        bed_level = _active_level_dbfs(bed)
        mix_level = _active_level_dbfs(mixed)
        assert bed_level is not None
        assert mix_level is not None
        # laugh power = mix power - bed power (independent signals): SNR to within 1 dB
        laugh_power = 10 ** (mix_level / 10) - 10 ** (bed_level / 10)
        assert 10 * np.log10(laugh_power) - bed_level == pytest.approx(snr_db, abs=1.0)

    def test_scaled_copy(self) -> None:
        item = EvalFile("x", np.full(100, 0.5, np.float32), ((0.0, 0.001),))
        quieter = scaled(Scene(0, "laughter", item), -20.0)
        np.testing.assert_allclose(quieter.file.samples, 0.05, rtol=1e-5)
        assert quieter.gain_db == -20.0
        assert quieter.key.endswith("-gain-20-x")


def _scene(laughter: tuple[tuple[float, float], ...], seconds: float = 10.0, kind: str = "laughter") -> Scene:
    return Scene(0, kind, EvalFile("s", np.zeros(round(seconds * RATE), np.float32), laughter))


class TestSegmentFigures:
    """Hand-computed matches, pooled figures and false events per hour."""

    def test_tolerances(self) -> None:
        """Onsets 0.4 s and 0.45 s off: misses at 0.3 s, hits at 0.5 s."""
        counts = scene_counts(_scene(((1.0, 2.0), (5.0, 6.0))), [(1.4, 2.0), (5.45, 6.0)])
        assert counts["counts"][0.3] == [0, 2, 2]
        assert counts["counts"][0.5] == [2, 0, 0]

    def test_exactly_the_tolerance_is_a_hit(self) -> None:
        counts = scene_counts(_scene(((1.0, 2.0),)), [(1.5, 2.0)])
        assert counts["counts"][0.5] == [1, 0, 0]
        assert counts["counts"][0.3] == [0, 1, 1]

    def test_one_detection_matches_one_laugh_closest_first(self) -> None:
        """Two laughs 0.3 s apart, one detection 0.05 s after the second: the second is hit, the first missed."""
        counts = scene_counts(_scene(((1.0, 1.2), (1.3, 2.0))), [(1.35, 2.0)])
        assert counts["counts"][0.3] == [1, 0, 1]

    def test_pooled_and_per_hour(self) -> None:
        rows = [
            (_scene(((1.0, 2.0),)), scene_counts(_scene(((1.0, 2.0),)), [(1.1, 2.0), (6.0, 7.0)])),
            (
                _scene((), 1800.0, "negative"),
                scene_counts(_scene((), 1800.0, "negative"), [(1, 2), (3, 4), (5, 6)]),
            ),
            (_scene((), 1800.0, "negative"), scene_counts(_scene((), 1800.0, "negative"), [])),
        ]
        summary = summarize(rows)
        # 1 hit, 1 + 3 false, 0 missed: precision 0.2, recall 1, F1 1/3
        assert summary["at_0.5s"] == {
            "precision": 0.2,
            "recall": 1.0,
            "f1": 0.3333,
            "true_positives": 1,
            "false_positives": 4,
            "misses": 0,
        }
        assert summary["laughter_free_seconds"] == 3600.0
        assert summary["false_events_per_hour"] == 3.0
        assert summary["false_events_in_laughter_free_audio"] == 3


class TestEnginePath:
    """Events come from the service's engine with the shipped model; the cache changes nothing."""

    def test_cached_stage_gives_the_engine_s_events(self, read_clip) -> None:  # type: ignore[no-untyped-def]
        detector = AudioLaughterDetector.load(default_model_path())
        laugh = read_clip("audio/laughter/wesnoth-1.16-data__sounds_dwarf-laugh.wav")
        rng = np.random.default_rng(1)
        hiss = (0.002 * rng.standard_normal(3 * RATE)).astype(np.float32)
        samples = np.concatenate([hiss, laugh, hiss]).astype(np.float32)
        plain = detect_events(AudioStage(detector, default_model_path()), samples)
        cached = CachedAudioStage(detector)
        first = detect_events(cached, samples)
        again = detect_events(cached, samples)
        assert plain == first == again
        onset_s = 3.0
        assert any(abs(e.start_s - onset_s) < 1.0 for e in plain)

    def test_folds_need_two_laughter_sources(self) -> None:
        from laughter_train.dataset import TrainingDataError

        clips = [
            _clip("laughter/a__l.wav", "a", _tone(1, 0.3, 300)),
            _clip("noise/b__n.wav", "b", _tone(1, 0.1, 90)),
        ]
        with pytest.raises(TrainingDataError, match="at least 2 sources"):
            grouped_folds(clips)
        assert Fold(0, (1,), (0,)).test == (0,)
