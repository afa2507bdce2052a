"""The bundled sample (samples/) and the edge-case fixtures (tests/data/) are present and consistent."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
SAMPLES_DIR = REPO_ROOT / "samples"
DATA_DIR = REPO_ROOT / "tests" / "data"
MAX_SAMPLE_BYTES = 3 * 1024 * 1024
MAX_FIXTURE_BYTES = 1024 * 1024


@pytest.fixture(name="truth", scope="module")
def fixture_truth() -> dict[str, Any]:
    """The sample's ground truth."""
    return json.loads((SAMPLES_DIR / "sample.json").read_text())


@pytest.fixture(name="fixtures", scope="module")
def fixture_fixtures() -> list[dict[str, Any]]:
    """The fixture descriptions."""
    return json.loads((DATA_DIR / "fixtures.json").read_text())["fixtures"]


def decode_audio_16k(path: Path) -> np.ndarray:
    """Decode the first audio stream of ``path`` as 16 kHz mono float32."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=16_000)
    chunks = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            chunks.extend(f.to_ndarray()[0] for f in resampler.resample(frame))
    chunks.extend(f.to_ndarray()[0] for f in resampler.resample(None))
    return np.concatenate(chunks)


def level_dbfs(samples: np.ndarray) -> float:
    """RMS level in dBFS."""
    return float(20.0 * np.log10(np.sqrt(np.mean(samples.astype(np.float64) ** 2)) + 1e-12))


class TestSampleMedia:
    """samples/sample.mp4 decodes and matches sample.json."""

    def test_is_small_enough_to_commit(self) -> None:
        """The sample stays under 3 MB."""
        assert 0 < (SAMPLES_DIR / "sample.mp4").stat().st_size < MAX_SAMPLE_BYTES

    def test_has_one_video_and_one_audio_stream(self, truth: dict[str, Any]) -> None:
        """The container holds the video and audio streams the ground truth names."""
        with av.open(str(SAMPLES_DIR / "sample.mp4")) as container:
            assert len(container.streams.video) == 1
            assert len(container.streams.audio) == 1
            video, audio = container.streams.video[0], container.streams.audio[0]
            assert video.codec_context.name == truth["video_codec"]
            assert audio.codec_context.name == truth["audio_codec"]
            assert audio.rate == truth["audio_sample_rate_hertz"]
            assert (video.codec_context.width, video.codec_context.height) == (
                truth["width"],
                truth["height"],
            )

    def test_frame_count_and_duration_match(self, truth: dict[str, Any]) -> None:
        """Every frame decodes, and the last one ends at the stated duration."""
        with av.open(str(SAMPLES_DIR / "sample.mp4")) as container:
            times_s = [frame.time for frame in container.decode(video=0)]
            assert container.duration is not None
            container_s = container.duration / 1e6
        assert len(times_s) == truth["frame_count"]
        assert times_s[-1] + 1.0 / truth["fps"] == pytest.approx(truth["duration_s"], abs=0.01)
        assert container_s == pytest.approx(truth["duration_s"], abs=0.05)

    def test_audio_covers_the_duration(self, truth: dict[str, Any]) -> None:
        """The soundtrack lasts as long as the picture."""
        samples = decode_audio_16k(SAMPLES_DIR / "sample.mp4")
        assert len(samples) / 16_000 == pytest.approx(truth["duration_s"], abs=0.1)

    def test_laughter_is_louder_than_the_quiet_stretches(self, truth: dict[str, Any]) -> None:
        """Each laughter segment is far above the noise bed between the second and third laugh."""
        samples = decode_audio_16k(SAMPLES_DIR / "sample.mp4")
        segments = truth["laughter_segments"]
        quiet = samples[
            int((segments[1]["end_s"] + 0.5) * 16_000) : int((segments[2]["start_s"] - 0.5) * 16_000)
        ]
        assert level_dbfs(quiet) < -40.0
        for segment in segments:
            laugh = samples[int(segment["start_s"] * 16_000) : int(segment["end_s"] * 16_000)]
            assert level_dbfs(laugh) > level_dbfs(quiet) + 20.0


class TestSampleTruth:
    """sample.json's segments are well formed."""

    def test_has_laughter_and_speech(self, truth: dict[str, Any]) -> None:
        """The sample holds at least two laughs and some speech."""
        assert len(truth["laughter_segments"]) >= 2
        assert len(truth["speech_segments"]) >= 1

    @pytest.mark.parametrize("key", ["laughter_segments", "speech_segments", "visible_laughs"])
    def test_segments_lie_inside_the_media(self, truth: dict[str, Any], key: str) -> None:
        """Every segment starts before it ends and lies within [0, duration]."""
        for segment in truth[key]:
            assert 0.0 <= segment["start_s"] < segment["end_s"] <= truth["duration_s"]

    def test_segments_do_not_overlap(self, truth: dict[str, Any]) -> None:
        """Laughter and speech segments are disjoint and in time order."""
        segments = sorted(truth["laughter_segments"] + truth["speech_segments"], key=lambda s: s["start_s"])
        for earlier, later in itertools.pairwise(segments):
            assert earlier["end_s"] <= later["start_s"]

    def test_each_laugh_meets_a_visible_laugh(self, truth: dict[str, Any]) -> None:
        """Every laughter segment overlaps a laugh seen on the face."""
        for segment in truth["laughter_segments"]:
            assert segment["face_visible"] is True
            assert any(
                segment["start_s"] < seen["end_s"] and seen["start_s"] < segment["end_s"]
                for seen in truth["visible_laughs"]
            )

    def test_sources_are_documented(self, truth: dict[str, Any]) -> None:
        """SOURCES.md names the video and every clip used."""
        sources = (SAMPLES_DIR / "SOURCES.md").read_text()
        assert Path(truth["video_source"]["file"]).name in sources
        for segment in truth["laughter_segments"] + truth["speech_segments"]:
            assert segment["source"] in sources


class TestFixtures:
    """Every fixture in tests/data/fixtures.json exists and is what it claims."""

    def test_every_fixture_exists_and_is_small(self, fixtures: list[dict[str, Any]]) -> None:
        """Each listed file is present and under 1 MB."""
        assert len(fixtures) >= 9
        for fixture in fixtures:
            path = DATA_DIR / fixture["file"]
            assert path.is_file(), fixture["file"]
            assert path.stat().st_size < MAX_FIXTURE_BYTES, fixture["file"]

    def test_every_fixture_states_an_expected_status(self, fixtures: list[dict[str, Any]]) -> None:
        """Each fixture says which status the service should answer, with a reason for errors."""
        for fixture in fixtures:
            expect = fixture["expect"]
            assert expect["status"] in {"OK", "INVALID_ARGUMENT", "RESOURCE_EXHAUSTED"}
            assert expect["status"] == "OK" or expect["reason"]

    def test_declared_streams_match_the_files(self, fixtures: list[dict[str, Any]]) -> None:
        """Fixtures that describe their media hold exactly the streams they claim."""
        for fixture in (f for f in fixtures if "media" in f):
            media = fixture["media"]
            with av.open(str(DATA_DIR / fixture["file"])) as container:
                assert bool(container.streams.video) is media["has_video"], fixture["file"]
                assert bool(container.streams.audio) is media["has_audio"], fixture["file"]
                if "width" in media:
                    stream = container.streams.video[0]
                    assert (stream.codec_context.width, stream.codec_context.height) == (
                        media["width"],
                        media["height"],
                    )

    def test_subtitle_only_file_has_no_media_streams(self) -> None:
        """no_streams.mkv opens but holds neither audio nor video."""
        with av.open(str(DATA_DIR / "no_streams.mkv")) as container:
            assert len(container.streams) == 1
            assert not container.streams.video
            assert not container.streams.audio

    def test_truncated_sample_is_a_prefix_of_the_sample(self) -> None:
        """truncated.mp4 is the first 40% of the sample's bytes."""
        sample = (SAMPLES_DIR / "sample.mp4").read_bytes()
        truncated = (DATA_DIR / "truncated.mp4").read_bytes()
        assert len(truncated) == int(len(sample) * 0.4)
        assert sample.startswith(truncated)

    def test_random_bytes_do_not_open(self) -> None:
        """random.bin is rejected by the demuxer."""
        with pytest.raises(av.error.InvalidDataError):
            av.open(str(DATA_DIR / "random.bin"))

    def test_silence_is_digital_zero(self) -> None:
        """silence.wav holds 5 s of exact zeros."""
        samples = decode_audio_16k(DATA_DIR / "silence.wav")
        assert len(samples) == 5 * 16_000
        assert not np.any(samples)
