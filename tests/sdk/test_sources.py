"""Media sources (laughter.sources) on the bundled sample and test files, without a server."""

from __future__ import annotations

import asyncio
import pathlib
import sys
import time
import wave
from collections.abc import Iterator

import cv2
import laughter
import numpy as np
import pytest
from laughter import AudioChunk, AudioEncoding, BacklogPolicy, Frame, FrameEncoding
from laughter._aiter import iterate_async
from laughter.sources import AUDIO_RATE_HERTZ, camera_source, file_source, wav_source

SAMPLE_FRAME_COUNT = 684
SAMPLE_FPS = 24
CHUNK_BYTES = 1600 * 2  # 100 ms of 16 kHz mono PCM16


@pytest.fixture(name="sample_chunks", scope="module")
def fixture_sample_chunks(sample_path: pathlib.Path) -> list[laughter.MediaChunk]:
    """Every chunk of the sample, as fast as it decodes."""
    return list(file_source(sample_path))


def _frames(chunks: list[laughter.MediaChunk]) -> list[Frame]:
    return [chunk for chunk in chunks if isinstance(chunk, Frame)]


def _audio(chunks: list[laughter.MediaChunk]) -> list[AudioChunk]:
    return [chunk for chunk in chunks if isinstance(chunk, AudioChunk)]


class TestFileSource:
    """file_source decodes a file into JPEG frames and 100 ms PCM16 chunks in capture order."""

    def test_interleaved_by_capture_time(self, sample_chunks: list[laughter.MediaChunk]) -> None:
        """Offsets never decrease across both tracks, and both tracks are mixed from the start."""
        offsets = [chunk.offset_s for chunk in sample_chunks]
        assert offsets == sorted(offsets)
        first_second = sample_chunks[: 24 + 10]
        assert {type(chunk) for chunk in first_second} == {Frame, AudioChunk}

    def test_every_frame_with_its_time(self, sample_chunks: list[laughter.MediaChunk]) -> None:
        """All 684 frames at 24 fps, each a JPEG of the video's size."""
        frames = _frames(sample_chunks)
        assert len(frames) == SAMPLE_FRAME_COUNT
        assert [frame.offset_s for frame in frames[:3]] == pytest.approx([0.0, 1 / 24, 2 / 24])
        assert frames[-1].offset_s == pytest.approx((SAMPLE_FRAME_COUNT - 1) / SAMPLE_FPS)
        image = cv2.imdecode(np.frombuffer(frames[100].data, np.uint8), cv2.IMREAD_COLOR)
        assert frames[100].data[:2] == b"\xff\xd8"
        assert image.shape == (288, 360, 3)

    def test_audio_chunks(self, sample_chunks: list[laughter.MediaChunk]) -> None:
        """100 ms chunks of 16 kHz mono PCM16 stamped 0.0, 0.1, ...; together the whole 28.5 s."""
        audio = _audio(sample_chunks)
        assert all(len(chunk.data) == CHUNK_BYTES for chunk in audio[:-1])
        assert 0 < len(audio[-1].data) <= CHUNK_BYTES
        assert [chunk.offset_s for chunk in audio[:3]] == pytest.approx([0.0, 0.1, 0.2])
        assert audio[150].offset_s == pytest.approx(15.0)
        total_s = sum(len(chunk.data) for chunk in audio) / 2 / AUDIO_RATE_HERTZ
        assert total_s == pytest.approx(28.5, abs=0.05)
        samples = np.frombuffer(b"".join(chunk.data for chunk in audio[12:37]), "<i2")
        assert np.abs(samples).max() > 3000  # the first laugh, 1.2-3.7 s, is loud

    def test_options_match(self, sample_path: pathlib.Path) -> None:
        """Options describe JPEG and 16 kHz mono PCM16; BLOCK as fast as possible, DROP_OLDEST paced."""
        options = file_source(sample_path).options
        assert options.video_encoding is FrameEncoding.JPEG
        assert options.audio_encoding is AudioEncoding.PCM_S16LE
        assert (options.audio_sample_rate_hertz, options.audio_channel_count) == (16000, 1)
        assert options.backlog_policy is BacklogPolicy.BLOCK
        assert file_source(sample_path, realtime=True).options.backlog_policy is BacklogPolicy.DROP_OLDEST

    def test_frame_rate(self, sample_path: pathlib.Path) -> None:
        """frame_rate_hertz=5 keeps every frame due at 0.2 s steps; audio is unchanged."""
        chunks = list(file_source(sample_path, frame_rate_hertz=5.0))
        offsets = [frame.offset_s for frame in _frames(chunks)]
        assert len(offsets) == pytest.approx(28.5 * 5, abs=1)
        steps = np.diff(offsets)
        assert steps.min() >= 0.2 - 1 / 24 - 1e-6
        assert steps.max() <= 0.2 + 1 / 24 + 1e-6
        assert len(_audio(chunks)) == 286

    async def test_async_iteration(
        self, sample_path: pathlib.Path, sample_chunks: list[laughter.MediaChunk]
    ) -> None:
        """async for gives the same chunks as for."""
        chunks = [chunk async for chunk in file_source(sample_path)]
        assert [(type(c), c.offset_s, len(c.data)) for c in chunks] == [
            (type(c), c.offset_s, len(c.data)) for c in sample_chunks
        ]

    def test_video_only(self, test_data: pathlib.Path) -> None:
        """A file without audio sends frames only, and says so in its options."""
        source = file_source(test_data / "video_no_audio.mp4")
        chunks = list(source)
        assert chunks
        assert all(isinstance(chunk, Frame) for chunk in chunks)
        assert source.options.audio_encoding is None

    def test_audio_only(self, test_data: pathlib.Path) -> None:
        """A WAV file through file_source is resampled audio only."""
        source = file_source(test_data / "audio_only.wav")
        assert source.options.video_encoding is None
        chunks = list(source)
        assert all(isinstance(chunk, AudioChunk) for chunk in chunks)
        assert sum(len(chunk.data) for chunk in chunks) == pytest.approx(176000 * 2, abs=CHUNK_BYTES)

    def test_missing_file(self, tmp_path: pathlib.Path) -> None:
        """A missing file raises MediaFileNotFoundError naming it."""
        with pytest.raises(laughter.MediaFileNotFoundError, match=r"absent\.mp4"):
            file_source(tmp_path / "absent.mp4")

    def test_directory(self, tmp_path: pathlib.Path) -> None:
        """A directory raises MediaIsADirectoryError."""
        with pytest.raises(laughter.MediaIsADirectoryError):
            file_source(tmp_path)

    def test_undecodable(self, test_data: pathlib.Path) -> None:
        """Random bytes raise MediaSourceError when the source is made."""
        with pytest.raises(laughter.MediaSourceError, match=r"random\.bin"):
            file_source(test_data / "random.bin")

    def test_without_pyav(self, sample_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without PyAV the error names the extra to install, and is an ImportError."""
        monkeypatch.setitem(sys.modules, "av", None)
        with pytest.raises(laughter.MissingDependencyError, match=r"laughter-client\[media\]") as caught:
            file_source(sample_path)
        assert isinstance(caught.value, ImportError)


def _released(source: object) -> list[tuple[float, float]]:
    """(release time, capture offset) of every chunk."""
    return [(time.monotonic(), chunk.offset_s) for chunk in source]  # type: ignore[attr-defined]


class TestRealtime:
    """realtime=True releases each chunk when the wall clock reaches its offset."""

    def test_sync(self, test_data: pathlib.Path) -> None:
        """With the clock's origin 4.7 s in the past, only the last 0.3 s of the 5 s file waits."""
        origin_s = time.monotonic() - 4.7
        released = _released(wav_source(test_data / "silence.wav", realtime=True, origin_s=origin_s))
        assert all(at >= origin_s + offset - 0.005 for at, offset in released)
        assert released[-1][0] - origin_s >= released[-1][1]
        assert released[-1][0] - released[0][0] >= 0.15

    async def test_async(self, test_data: pathlib.Path) -> None:
        """The async iteration sleeps on the event loop the same way."""
        origin_s = time.monotonic() - 4.7
        source = file_source(test_data / "silence.wav", realtime=True, origin_s=origin_s)
        released = [(time.monotonic(), chunk.offset_s) async for chunk in source]
        assert all(at >= origin_s + offset - 0.005 for at, offset in released)
        assert released[-1][0] - released[0][0] >= 0.15


class TestWavSource:
    """wav_source sends a 16-bit PCM WAV file as it is, with the standard library."""

    def test_chunks_and_options(self, test_data: pathlib.Path) -> None:
        """100 ms chunks at the file's rate; options name that rate and channel count."""
        path = test_data / "audio_only.wav"
        source = wav_source(path)
        chunks = list(source)
        with wave.open(str(path)) as reader:
            expected = reader.readframes(reader.getnframes())
        assert b"".join(chunk.data for chunk in chunks) == expected
        assert [chunk.offset_s for chunk in chunks[:3]] == pytest.approx([0.0, 0.1, 0.2])
        assert source.options.video_encoding is None
        assert (source.options.audio_sample_rate_hertz, source.options.audio_channel_count) == (16000, 1)

    def test_not_a_wav(self, test_data: pathlib.Path) -> None:
        """A file that is not a WAV raises MediaSourceError pointing at file_source."""
        with pytest.raises(laughter.MediaSourceError, match="file_source"):
            wav_source(test_data / "random.bin")

    def test_eight_bit(self, tmp_path: pathlib.Path) -> None:
        """8-bit samples are refused with a hint (the server takes 16-bit PCM)."""
        path = tmp_path / "eight.wav"
        with wave.open(str(path), "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(1)
            writer.setframerate(16000)
            writer.writeframes(bytes(1600))
        with pytest.raises(laughter.MediaSourceError, match="8-bit"):
            wav_source(path)


class TestCameraSource:
    """camera_source fails clearly where there is no camera."""

    def test_no_camera(self) -> None:
        """An index with no device raises MediaSourceError naming the camera."""
        with pytest.raises(laughter.MediaSourceError, match="camera 7"):
            camera_source(7)

    def test_without_opencv(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without OpenCV the error names the extra to install."""
        monkeypatch.setitem(sys.modules, "cv2", None)
        with pytest.raises(laughter.MissingDependencyError, match=r"laughter-client\[media\]"):
            camera_source(0)


class TestIterateAsync:
    """Sync sources are advanced off the event loop and closed when the iteration stops early."""

    async def test_closes_sync_generator(self) -> None:
        """Stopping after two items closes the generator in its worker thread."""
        closed = asyncio.Event()
        loop = asyncio.get_running_loop()

        def numbers() -> Iterator[int]:
            try:
                yield from range(100)
            finally:
                loop.call_soon_threadsafe(closed.set)

        items = []
        iterator = iterate_async(numbers())
        async for item in iterator:
            items.append(item)
            if len(items) == 2:
                break
        await iterator.aclose()
        await asyncio.wait_for(closed.wait(), 5.0)
        assert items == [0, 1]
