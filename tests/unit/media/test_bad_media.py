"""Bad whole-file media: WAV headers without a decoder, stills against short videos, and plain-word
messages for what FFmpeg refused."""

from __future__ import annotations

import av.error
import pytest
from laughter_server.errors import (
    FrameTooLargeError,
    LaughterError,
    StillImageError,
    UndecodableMediaError,
)
from laughter_server.media.decode import MediaLimits, decode_audio, iter_video_frames, probe_media
from laughter_server.media.decode_errors import describe_decode_error

from tests.bad_media import (
    DATA_DIR,
    assert_plain_words,
    audio_with_picture,
    broken_copies,
    still,
    video,
    wav,
)


class TestWavWithoutDecoder:
    """WAV headers FFmpeg opens without a decoder are MEDIA_UNDECODABLE with words, never a crash."""

    @pytest.mark.parametrize(
        ("tag", "bits", "fmt_size"),
        [(3, 16, 16), (0x1234, 16, 16), (0xFFFE, 16, 16), (1, 0, 16)],
        ids=["float-16-bit", "tag-0x1234", "extensible-short-fmt", "zero-bits"],
    )
    def test_refused_in_words(self, tag: int, bits: int, fmt_size: int) -> None:
        """Format tag 3 with 16 bits, an unknown tag, a 16-byte EXTENSIBLE fmt, and 0 bits per sample."""
        with pytest.raises(UndecodableMediaError) as caught:
            probe_media(wav(tag, bits, fmt_size=fmt_size), MediaLimits())
        assert caught.value.reason == "MEDIA_UNDECODABLE"
        assert "audio stream" in caught.value.message
        assert_plain_words(caught.value.message)

    def test_plain_pcm_still_decodes(self) -> None:
        """The same builder with tag 1 and 16 bits gives one second of audio."""
        data = wav(1, 16)
        assert probe_media(data, MediaLimits()).audio_codec == "pcm_s16le"
        clip = decode_audio(data)
        assert clip is not None
        assert clip.duration_s == pytest.approx(1.0, abs=0.01)


class TestStillsAndShortVideos:
    """Frame size first; picture files and one-frame clips are stills; short MJPEG/PNG clips are videos."""

    @pytest.mark.parametrize("extension", [".jpg", ".png", ".bmp", ".webp", ".tiff", ".gif"])
    def test_picture_files_are_stills(self, extension: str) -> None:
        """Each picture format is MEDIA_IS_STILL_IMAGE with a pointer to videos and live frames."""
        with pytest.raises(StillImageError) as caught:
            probe_media(still(extension), MediaLimits())
        assert caught.value.reason == "MEDIA_IS_STILL_IMAGE"
        assert "send a video" in caught.value.message
        assert "live session" in caught.value.message

    @pytest.mark.parametrize(
        ("container", "codec"), [("matroska", "mjpeg"), ("avi", "mjpeg"), ("mov", "png"), ("gif", "gif")]
    )
    def test_three_frame_clips_are_videos(self, container: str, codec: str) -> None:
        """Three MJPEG frames in MKV (no frame count in the header) and the like are analysed as video."""
        data = video(container, codec, 3)
        info = probe_media(data, MediaLimits())
        assert info.video_codec == codec
        assert len(list(iter_video_frames(data, 10.0))) == 3

    def test_one_frame_clip_is_a_still(self) -> None:
        """A one-frame MJPEG AVI cannot show anything over time."""
        with pytest.raises(StillImageError):
            probe_media(video("avi", "mjpeg", 1), MediaLimits())

    @pytest.mark.parametrize(
        ("container", "codec", "attached"),
        [("mp3", "mp3", True), ("mp4", "aac", True), ("matroska", "pcm_s16le", False)],
    )
    def test_audio_with_a_picture_is_audio(self, container: str, codec: str, attached: bool) -> None:
        """Cover art (or a one-frame picture stream) beside audio: the audio is analysed, the picture ignored."""
        data = audio_with_picture(container, codec, attached=attached)
        info = probe_media(data, MediaLimits())
        assert info.video_codec is None
        assert info.audio_codec is not None
        clip = decode_audio(data)
        assert clip is not None
        assert clip.duration_s > 1.5

    @pytest.mark.parametrize(("container", "frames"), [("avi", 1), ("matroska", 3)])
    def test_frame_size_is_checked_first(self, container: str, frames: int) -> None:
        """Frames above the pixel limit are FRAME_TOO_LARGE, one frame or three."""
        data = video(container, "mjpeg", frames, size=(2000, 1000))
        with pytest.raises(FrameTooLargeError):
            probe_media(data, MediaLimits(max_frame_pixels=1000 * 1000))


class TestPlainWords:
    """Messages about broken files say what is wrong, not which exception the decoder raised."""

    @pytest.mark.parametrize(
        "error",
        [
            av.error.InvalidDataError(1, "Invalid data found when processing input"),
            av.error.EOFError(2, "End of file"),
            av.error.PatchWelcomeError(3, "Not yet implemented in FFmpeg, patches welcome"),
            ValueError("bad value"),
            RuntimeError("other"),
        ],
        ids=lambda e: type(e).__name__,
    )
    def test_each_kind_has_words(self, error: BaseException) -> None:
        """Every kind maps to a sentence without the class name or the library's text."""
        words = describe_decode_error(error)
        assert_plain_words(words)
        assert str(error) not in words

    def test_broken_files(self) -> None:
        """Truncations and byte flips of the MP4 fixtures and a WAV: refusals are in plain words."""
        messages = []
        originals = [*(p.read_bytes() for p in sorted(DATA_DIR.glob("*.mp4"))), wav(1, 16)]
        for seed, original in enumerate(originals):
            for data in broken_copies(original, seed):
                try:
                    info = probe_media(data, MediaLimits())
                    if info.video_codec:
                        list(iter_video_frames(data, 2.0))
                    if info.audio_codec:
                        decode_audio(data)
                except LaughterError as error:
                    messages.append(error.message)
        assert len(messages) >= 10
        for message in messages:
            assert_plain_words(message)
