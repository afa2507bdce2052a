"""Tests of the shipped audio laughter detector."""

from __future__ import annotations

import json
import pathlib
import shutil
import threading
from collections.abc import Callable

import numpy as np
import pytest
from laughter_server.audio.detector import AudioLaughterDetector, default_model_path
from laughter_server.errors import InvalidMediaError, ModelLoadError
from laughter_server.fusion.fuser import fuse_events
from laughter_server.fusion.rules import DEFAULT_RULES
from laughter_server.media.types import AudioClip
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
from threadpoolctl import threadpool_info

LAUGHTER = [
    "audio/laughter/btanks-data__sounds_laugh01.wav",
    "audio/laughter/trackballs-data__sfx_evillaugh.wav",
    "audio/laughter/wesnoth-1.16-data__sounds_witches-laugh.wav",
    "audio/laughter/xemacs21-basesupport__sounds_laugh.wav",
    "audio/laughter/hedgewars-data__HillBilly_Laugh.wav",
]
SPEECH = [
    "audio/speech/codec2-examples__raw_vk5qi.wav",
    "audio/speech/asterisk-core-sounds-en-wav__en_US_f_Allison_dir-intro.wav",
    "audio/speech/forensics-samples-files__audio1_debian.wav",
    "audio/speech/hedgewars-data__Pirate_Youllregretthat.wav",
    "audio/speech/xemacs21-basesupport__sounds_im_so_happy.wav",
]

Reader = Callable[[str], np.ndarray]


def laugh_in_speech(read_clip: Reader) -> tuple[AudioClip, float]:
    """The first laugh added at 4.0 s into the first speech clip (at 0.3 gain), and where the laugh ends."""
    speech = read_clip(SPEECH[0]) * 0.3
    laugh = read_clip(LAUGHTER[0])
    onset = 4 * 16_000
    mixture = speech.copy()
    mixture[onset : onset + laugh.size] += laugh
    return AudioClip(mixture), 4.0 + laugh.size / 16_000


@pytest.fixture(scope="module", name="detector")
def fixture_detector() -> AudioLaughterDetector:
    """The shipped model."""
    return AudioLaughterDetector.load(default_model_path())


class TestAudioLaughterDetector:
    """AudioLaughterDetector.load / predict_windows."""

    def test_metadata(self, detector: AudioLaughterDetector) -> None:
        """The shipped model carries its name, version, checksum and feature settings."""
        assert detector.name == "laughter-audio"
        assert detector.version == "1.4.0"
        assert detector.settings.feature_set == "laughter-cues-2"
        assert len(detector.sha256) == 64
        assert detector.settings.window_s == pytest.approx(1.0)
        assert detector.clip_aggregate in ("max", "top3_mean", "top_half_mean")
        assert 0.0 < detector.operating_threshold < 1.0

    def test_laughter_scores_above_speech(self, detector: AudioLaughterDetector, read_clip: Reader) -> None:
        """Every laughter clip listed scores above every speech clip listed, and at least 0.5."""
        laughter = [detector.score_clip(AudioClip(read_clip(p))) for p in LAUGHTER]
        speech = [detector.score_clip(AudioClip(read_clip(p))) for p in SPEECH]
        assert min(laughter) > max(speech)
        assert min(laughter) >= 0.5

    def test_laughter_windows_inside_speech(self, detector: AudioLaughterDetector, read_clip: Reader) -> None:
        """A laugh mixed into speech makes an event over the laugh and none over the speech before it.

        Windows over the laugh score above the speech-only windows, and the server's segmenter (fusion
        rules, audio only) cuts one event that overlaps the laugh and starts after the speech-only part.
        """
        clip, end_s = laugh_in_speech(read_clip)
        scores = detector.predict_windows(clip)
        inside = (scores.centers_s > 4.5) & (scores.centers_s < end_s - 0.5)
        before = scores.centers_s < 3.0
        assert np.median(scores.probabilities[inside]) > np.max(scores.probabilities[before]) + 0.1
        assert np.max(scores.probabilities[before]) < 0.5
        events, _ = fuse_events(scores, (), np.zeros(0), clip.duration_s, 0.2, DEFAULT_RULES)
        assert events, "no event over the laugh"
        assert all(e.start_s > 3.0 for e in events)
        assert any(e.start_s < end_s and e.end_s > 4.0 for e in events)

    def test_window_scores_shape_and_times(self, detector: AudioLaughterDetector, read_clip: Reader) -> None:
        """Probabilities lie in [0, 1]; centres are media times (the clip offset added)."""
        samples = read_clip(SPEECH[0])
        scores = detector.predict_windows(AudioClip(samples, start_s=10.0))
        assert scores.count == scores.probabilities.size == scores.rms_dbfs.size
        assert np.all((scores.probabilities >= 0) & (scores.probabilities <= 1))
        assert scores.centers_s[0] == pytest.approx(10.5)
        assert scores.hop_s == pytest.approx(0.25)

    def test_laugh_in_speech_onset(self, detector: AudioLaughterDetector, read_clip: Reader) -> None:
        """A laugh mixed into speech at 4.0 s yields a segment starting within 0.5 s of it."""
        clip, _ = laugh_in_speech(read_clip)
        segments, _ = fuse_events(detector.predict_windows(clip), (), np.zeros(0), clip.duration_s, 0.2)
        assert segments, "no laughter segment found"
        first = min(segments, key=lambda s: abs(s.start_s - 4.0))
        assert abs(first.start_s - 4.0) <= 0.5
        assert first.end_s > 5.0

    def test_short_clip_gives_one_window(self, detector: AudioLaughterDetector, read_clip: Reader) -> None:
        """A clip shorter than a window is padded to one window centred on its midpoint."""
        samples = read_clip("audio/laughter/monsterz-data__sound_laugh.wav")
        scores = detector.predict_windows(AudioClip(samples))
        assert scores.count == 1
        assert scores.centers_s[0] == pytest.approx(samples.size / 16_000 / 2, abs=1e-3)

    def test_empty_and_silent_clips(self, detector: AudioLaughterDetector) -> None:
        """No samples give no windows; digital silence gives probability 0."""
        assert detector.predict_windows(AudioClip(np.zeros(0, np.float32))).count == 0
        silent = detector.predict_windows(AudioClip(np.zeros(32_000, np.float32)))
        assert np.all(silent.probabilities == 0.0)

    def test_wrong_sample_rate_refused(self, detector: AudioLaughterDetector) -> None:
        """Audio at another rate is refused with InvalidMediaError."""
        with pytest.raises(InvalidMediaError):
            detector.predict_windows(AudioClip(np.zeros(8000, np.float32), sample_rate_hertz=8000))

    def test_concurrent_use_matches_serial(self, detector: AudioLaughterDetector, read_clip: Reader) -> None:
        """Threads sharing one detector get the same probabilities as a serial call."""
        clips = [AudioClip(read_clip(p)) for p in LAUGHTER + SPEECH]
        expected = [detector.predict_windows(c).probabilities for c in clips]
        results: dict[int, np.ndarray] = {}

        def work(index: int) -> None:
            results[index] = detector.predict_windows(clips[index]).probabilities

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(clips))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for index, probabilities in enumerate(expected):
            np.testing.assert_array_equal(results[index], probabilities)


class TestVersionSwap:
    """The previous model version stays loadable beside the current one."""

    def test_previous_version_loads_and_scores(
        self, detector: AudioLaughterDetector, read_clip: Reader
    ) -> None:
        """1.0.0 (legacy feature set) and the current version load side by side and score the same windows."""
        previous = AudioLaughterDetector.load(default_model_path().with_name("laughter-audio-1.0.0.skops"))
        assert previous.version == "1.0.0"
        assert previous.settings.feature_set == "mfcc-1"
        assert previous.sha256 != detector.sha256
        clip = AudioClip(read_clip(LAUGHTER[0]))
        old_scores = previous.predict_windows(clip)
        new_scores = detector.predict_windows(clip)
        np.testing.assert_allclose(old_scores.centers_s, new_scores.centers_s)
        assert previous.score_clip(clip) >= 0.5


class TestModelIntegrity:
    """Refusal of damaged or tampered artifacts."""

    def test_sha_mismatch_refused(self, tmp_path: pathlib.Path) -> None:
        """A model file whose bytes changed is refused, naming the mismatch."""
        source = default_model_path()
        model = tmp_path / source.name
        shutil.copy(source, model)
        shutil.copy(source.with_suffix(".json"), model.with_suffix(".json"))
        data = bytearray(model.read_bytes())
        data[len(data) // 2] ^= 0xFF
        model.write_bytes(bytes(data))
        with pytest.raises(ModelLoadError, match="sha256 mismatch"):
            AudioLaughterDetector.load(model)

    def test_missing_metadata_refused(self, tmp_path: pathlib.Path) -> None:
        """A model without its metadata JSON is refused."""
        model = tmp_path / default_model_path().name
        shutil.copy(default_model_path(), model)
        with pytest.raises(ModelLoadError, match="metadata not found"):
            AudioLaughterDetector.load(model)

    def test_untrusted_type_refused(self, tmp_path: pathlib.Path) -> None:
        """An artifact holding a type outside the trusted list is refused even with a matching sha256."""
        import hashlib

        import skops.io
        from sklearn.neighbors import KNeighborsClassifier

        model = tmp_path / "m.skops"
        skops.io.dump(KNeighborsClassifier(n_neighbors=1).fit([[0.0], [1.0]], [0, 1]), model)
        metadata = json.loads(default_model_path().with_suffix(".json").read_text())
        metadata["artifact_sha256"] = hashlib.sha256(model.read_bytes()).hexdigest()
        model.with_suffix(".json").write_text(json.dumps(metadata))
        with pytest.raises(ModelLoadError, match="cannot be loaded"):
            AudioLaughterDetector.load(model)


class TestThreads:
    def test_scoring_thread_runs_one_openmp_and_one_blas_thread(
        self, detector: AudioLaughterDetector
    ) -> None:
        """A thread that scored audio scores on one OpenMP thread from then on, and BLAS runs one thread."""
        seen: dict[str, int] = {}

        def score() -> None:
            detector.predict_windows(AudioClip(samples=np.zeros(16000, np.float32), sample_rate_hertz=16000))
            seen["openmp_after"] = _openmp_effective_n_threads()

        worker = threading.Thread(target=score)
        worker.start()
        worker.join()
        assert seen["openmp_after"] == 1
        blas = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
        assert blas
        assert set(blas) == {1}
