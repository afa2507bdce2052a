"""is_silent: telling silent audio from audio worth scoring; score_blocks; reload and snapshot: swapping the
model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from laughter_server.errors import ModelLoadError
from laughter_server.media.decode import decode_audio
from laughter_server.media.types import AUDIO_SAMPLE_RATE_HERTZ, AudioClip
from laughter_server.pipeline.audio_stage import SILENCE_DBFS, AudioStage, is_silent

REPO_ROOT = Path(__file__).resolve().parents[3]
DATA_DIR = REPO_ROOT / "tests" / "data"


def tone(level_dbfs: float, duration_s: float = 1.0) -> npt.NDArray[np.float32]:
    """A 440 Hz sine whose RMS is ``level_dbfs``."""
    t = np.arange(int(duration_s * AUDIO_SAMPLE_RATE_HERTZ)) / AUDIO_SAMPLE_RATE_HERTZ
    amplitude = np.sqrt(2.0) * 10.0 ** (level_dbfs / 20.0)
    samples: npt.NDArray[np.float32] = (amplitude * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    return samples


def clip(samples: npt.NDArray[np.float32]) -> AudioClip:
    """A 16 kHz clip."""
    return AudioClip(samples=samples.astype(np.float32))


class TestIsSilent:
    """is_silent compares the loudest 50 ms block with a dBFS threshold."""

    def test_zeros(self) -> None:
        """Digital silence is silent."""
        assert is_silent(clip(np.zeros(AUDIO_SAMPLE_RATE_HERTZ, dtype=np.float32)))

    def test_empty(self) -> None:
        """An empty clip is silent."""
        assert is_silent(clip(np.zeros(0, dtype=np.float32)))

    @pytest.mark.parametrize(
        ("level_dbfs", "silent"), [(-20.0, False), (-55.0, False), (-65.0, True), (-90.0, True)]
    )
    def test_tone_levels(self, level_dbfs: float, silent: bool) -> None:
        """Tones above -60 dBFS are sound, below it silence."""
        assert bool(is_silent(clip(tone(level_dbfs)))) == silent

    def test_returns_plain_bool(self) -> None:
        """The result is a Python bool."""
        assert type(is_silent(clip(tone(-20.0)))) is bool

    def test_one_loud_block_is_enough(self) -> None:
        """A 50 ms burst in 5 s of silence makes the clip not silent."""
        samples = np.zeros(5 * AUDIO_SAMPLE_RATE_HERTZ, dtype=np.float32)
        samples[40_000:40_800] = tone(-30.0, 0.05)
        assert not is_silent(clip(samples))

    def test_custom_threshold(self) -> None:
        """The threshold is a parameter."""
        quiet = clip(tone(-45.0))
        assert not is_silent(quiet)
        assert is_silent(quiet, threshold_dbfs=-40.0)
        assert SILENCE_DBFS == -60.0

    def test_silence_fixture(self) -> None:
        """tests/data/silence.wav decodes to a silent clip; audio_only.wav does not."""
        silence = decode_audio((DATA_DIR / "silence.wav").read_bytes())
        speech = decode_audio((DATA_DIR / "audio_only.wav").read_bytes())
        assert silence is not None
        assert speech is not None
        assert is_silent(silence)
        assert not is_silent(speech)

    @pytest.mark.parametrize("label", ["laughter", "speech", "noise"])
    def test_dev_recordings_are_not_silent(
        self, label: str, dev_data: Path, dev_manifest: dict[str, dict[str, str]]
    ) -> None:
        """The first three dev recordings of each label are sound, and silent once scaled by -100 dB."""
        names = sorted(name for name, row in dev_manifest.items() if row["label"] == label)[:3]
        assert len(names) == 3
        for name in names:
            audio = decode_audio((dev_data / name).read_bytes())
            assert audio is not None
            assert not is_silent(audio), name
            assert is_silent(AudioClip(samples=(audio.samples * 1e-5).astype(np.float32))), name


MODELS_DIR = REPO_ROOT / "server" / "laughter_server" / "models" / "audio"


def copy_model(version: str, folder: Path, as_version: str | None = None) -> Path:
    """Copy a shipped audio model (.skops and .json) into ``folder``, optionally under another version."""
    target = as_version or version
    model = folder / f"laughter-audio-{target}.skops"
    shutil.copyfile(MODELS_DIR / f"laughter-audio-{version}.skops", model)
    metadata = json.loads((MODELS_DIR / f"laughter-audio-{version}.json").read_text())
    metadata["version"] = target
    model.with_suffix(".json").write_text(json.dumps(metadata))
    return model


def shipped_sha256(version: str) -> str:
    metadata = json.loads((MODELS_DIR / f"laughter-audio-{version}.json").read_text())
    return str(metadata["artifact_sha256"])


def speech_clip() -> AudioClip:
    audio = decode_audio((DATA_DIR / "audio_only.wav").read_bytes())
    assert audio is not None
    return audio


def flip_byte(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))


class TestReload:
    """AudioStage.reload swaps models only once the new one has loaded; snapshots keep their model."""

    @pytest.fixture
    def stage(self, tmp_path: Path) -> AudioStage:
        return AudioStage.load(copy_model("1.4.0", tmp_path))

    def test_reload_switches_and_describes_the_new_model(self, stage: AudioStage, tmp_path: Path) -> None:
        """The returned description and describe() both name the loaded version and its checksum."""
        described = stage.reload(copy_model("1.1.0", tmp_path))
        assert (described.version, described.sha256) == ("1.1.0", shipped_sha256("1.1.0"))
        assert stage.describe() == described

    @pytest.mark.parametrize(
        ("damage", "message"),
        [
            ("flip_byte", "sha256 mismatch"),
            ("no_metadata", "metadata not found"),
            ("bad_metadata", "metadata is unreadable"),
        ],
    )
    def test_failed_reload_keeps_the_old_model(
        self, stage: AudioStage, tmp_path: Path, damage: str, message: str
    ) -> None:
        """A model that cannot be loaded raises ModelLoadError; the old one keeps scoring as before."""
        clip = speech_clip()
        before, described = stage.score_blocks([clip])[0], stage.describe()
        assert before is not None
        broken = copy_model("1.1.0", tmp_path, as_version="9.9.9")
        if damage == "flip_byte":
            flip_byte(broken)
        elif damage == "no_metadata":
            broken.with_suffix(".json").unlink()
        else:
            broken.with_suffix(".json").write_text("{not json")
        with pytest.raises(ModelLoadError, match=message):
            stage.reload(broken)
        assert stage.describe() == described
        after = stage.score_blocks([clip])[0]
        assert after is not None
        np.testing.assert_array_equal(after.probabilities, before.probabilities)

    def test_snapshot_keeps_its_model_across_a_reload(self, stage: AudioStage, tmp_path: Path) -> None:
        """A snapshot taken before a reload scores and reports with the model of that moment."""
        clip = speech_clip()
        before = stage.score_blocks([clip])[0]
        assert before is not None
        snapshot = stage.snapshot()
        stage.reload(copy_model("1.1.0", tmp_path))
        assert snapshot.describe().version == "1.4.0"
        assert stage.describe().version == "1.1.0"
        scored = snapshot.score_blocks([clip])[0]
        assert scored is not None
        np.testing.assert_array_equal(scored.probabilities, before.probabilities)
        reloaded = stage.score_blocks([clip])[0]
        assert reloaded is not None
        assert not np.array_equal(reloaded.probabilities, before.probabilities)


class TestWarmUp:
    """AudioStage.warm_up, run at server start."""

    def test_warm_up_leaves_the_model_and_its_scores_unchanged(self) -> None:
        """Warming up scores throw-away noise only: the model in use and its scores stay the same."""
        from laughter_server.config import DEFAULT_AUDIO_MODEL

        stage = AudioStage.load(DEFAULT_AUDIO_MODEL)
        samples = decode_audio((REPO_ROOT / "samples" / "sample.mp4").read_bytes())
        assert samples is not None
        before = stage.score_blocks([samples])[0]
        description = stage.describe()
        assert stage.warm_up() > 0.0
        after = stage.score_blocks([samples])[0]
        assert before is not None
        assert after is not None
        np.testing.assert_array_equal(before.probabilities, after.probabilities)
        assert stage.describe() == description


class TestScoreBlocks:
    """AudioStage.score_blocks scores several clips in one classifier call."""

    @pytest.fixture(name="stage", scope="class")
    @classmethod
    def fixture_stage(cls) -> AudioStage:
        """The shipped default model."""
        from laughter_server.config import DEFAULT_AUDIO_MODEL

        return AudioStage.load(DEFAULT_AUDIO_MODEL)

    def test_same_scores_as_one_clip_at_a_time(self, stage: AudioStage) -> None:
        """Each clip's windows score exactly as when the clip is scored alone."""
        clip = speech_clip()
        half = len(clip.samples) // 2
        parts = [AudioClip(samples=clip.samples[:half]), AudioClip(samples=clip.samples[half:], start_s=3.0)]
        together = stage.score_blocks(parts)
        for part, scored in zip(parts, together, strict=True):
            alone = stage.detector.predict_windows(part)
            np.testing.assert_array_equal(scored.probabilities, alone.probabilities)
            np.testing.assert_array_equal(scored.centers_s, alone.centers_s)
        assert together[1].centers_s[0] > 3.0

    def test_peak_level_marks_silent_windows(self, stage: AudioStage) -> None:
        """Windows of digital silence get a peak level far below the silence threshold; speech does not."""
        clip = speech_clip()
        silence = AudioClip(samples=np.zeros(3 * AUDIO_SAMPLE_RATE_HERTZ, np.float32))
        spoken, quiet = stage.score_blocks([clip, silence])
        assert spoken.peak_dbfs is not None
        assert quiet.peak_dbfs is not None
        assert np.all(quiet.peak_dbfs < SILENCE_DBFS)
        assert np.any(spoken.peak_dbfs > SILENCE_DBFS)
