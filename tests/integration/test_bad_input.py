"""Bad input over the real server: undecodable WAVs, stills, short clips, broken files, garbage live frames,
malformed uploads and options. Each gets a clear status or warning, and the server keeps serving."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from laughter.v1 import (
    analysis_pb2,
    laughter_service_pb2,
    laughter_service_pb2_grpc,
    media_pb2,
    session_pb2,
    summary_pb2,
)

from tests.bad_media import (
    DATA_DIR,
    assert_plain_words,
    audio_with_picture,
    broken_copies,
    still,
    video,
    wav,
)
from tests.conftest import SAMPLE
from tests.integration.media_chunks import Chunk, requests, session_config
from tests.integration.test_analyze_media import error_reason
from tests.integration.test_security import upload

pytestmark = pytest.mark.integration

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def stub(server_address: str) -> laughter_service_pb2_grpc.LaughterAnalysisServiceStub:
    return laughter_service_pb2_grpc.LaughterAnalysisServiceStub(grpc.insecure_channel(server_address))


def analyze_bytes(stub, content: bytes, **options: object):  # type: ignore[no-untyped-def]
    request = laughter_service_pb2.AnalyzeMediaRequest(
        content=content, options=analysis_pb2.AnalysisOptions(**options)
    )
    return stub.AnalyzeMedia(request, timeout=120).result


def refusal(call) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    """The RpcError a call raises (fails the test when it succeeds)."""
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


def field_violations(error: grpc.RpcError) -> list[str]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    fields = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields.extend(v.field for v in bad.field_violations)
    return fields


class TestWholeFile:
    """AnalyzeMedia refuses bad files in words, analyses short clips, and keeps serving."""

    @pytest.mark.parametrize(
        ("tag", "bits", "fmt_size"), [(3, 16, 16), (0x1234, 16, 16), (0xFFFE, 16, 16), (1, 0, 16)]
    )
    def test_wav_without_decoder(self, stub, tag: int, bits: int, fmt_size: int) -> None:  # type: ignore[no-untyped-def]
        """The four WAV headers that used to answer INTERNAL are MEDIA_UNDECODABLE."""
        error = refusal(lambda: analyze_bytes(stub, wav(tag, bits, fmt_size=fmt_size)))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_reason(error) == "MEDIA_UNDECODABLE"
        assert_plain_words(error.details())

    @pytest.mark.parametrize("extension", [".jpg", ".png", ".bmp", ".webp", ".gif", ".tiff"])
    def test_still_image(self, stub, extension: str) -> None:  # type: ignore[no-untyped-def]
        """A picture is MEDIA_IS_STILL_IMAGE with a pointer to videos and live sessions."""
        error = refusal(lambda: analyze_bytes(stub, still(extension)))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_reason(error) == "MEDIA_IS_STILL_IMAGE"
        assert "send a video" in error.details()

    def test_three_frame_mjpeg_in_mkv_is_a_video(self, stub) -> None:  # type: ignore[no-untyped-def]
        """Three MJPEG frames in Matroska are analysed as a (faceless) video."""
        result = analyze_bytes(stub, video("matroska", "mjpeg", 3), analysis_frame_rate_hertz=10.0)
        assert result.summary.media.frames_analyzed == 3

    def test_mp3_with_cover_art_is_audio(self, stub) -> None:  # type: ignore[no-untyped-def]
        """An MP3 whose cover picture FFmpeg shows as a one-frame video stream is analysed as audio."""
        result = analyze_bytes(stub, audio_with_picture("mp3", "mp3"))
        assert summary_pb2.NOTICE_CODE_NO_VIDEO_STREAM in {n.code for n in result.summary.notices}
        assert result.summary.media.media_duration.seconds >= 1

    def test_one_large_frame_is_too_large(self, stub) -> None:  # type: ignore[no-untyped-def]
        """A one-frame AVI above the pixel limit is FRAME_TOO_LARGE, not a still."""
        error = refusal(lambda: analyze_bytes(stub, video("avi", "mjpeg", 1, size=(4096, 2160))))
        assert error_reason(error) == "FRAME_TOO_LARGE"

    def test_broken_files_are_refused_in_words(self, stub) -> None:  # type: ignore[no-untyped-def]
        """Truncated and byte-flipped copies of the MP4 fixtures and a WAV: no class names, no paths."""
        messages = []
        originals = [
            (DATA_DIR / "video_no_audio.mp4").read_bytes(),
            SAMPLE.read_bytes()[:400_000],
            wav(1, 16),
        ]
        for seed, original in enumerate(originals):
            for data in broken_copies(original, seed, flips=3):
                try:
                    analyze_bytes(stub, data, disable_video=False)
                except grpc.RpcError as error:
                    messages.append((error.code(), error.details()))
        assert len(messages) >= 5
        assert all(code != grpc.StatusCode.INTERNAL for code, _ in messages), messages
        for _, message in messages:
            assert_plain_words(message)
        assert analyze_bytes(stub, (DATA_DIR / "audio_only.wav").read_bytes()).events


class TestLiveFrames:
    """Garbage and mislabelled frames in a PNG session are warned about and counted, from their headers."""

    def test_garbage_and_jpeg_in_a_png_session(self, stub) -> None:  # type: ignore[no-untyped-def]
        config = session_config(audio=False)
        config.video.encoding = media_pb2.FRAME_ENCODING_PNG
        rng = np.random.default_rng(3)
        garbage = [Chunk(i * 0.3, "frame", PNG_SIGNATURE + rng.bytes(3000)) for i in range(5)]
        jpeg = Chunk(1.5, "frame", still(".jpg"))
        updates = [r.update for r in stub.StreamingAnalyze(requests(config, [*garbage, jpeg]), timeout=60)]
        messages = [u.warning.message for u in updates if u.HasField("warning")]
        assert sum("PNG chunk" in m for m in messages) == 5, messages
        assert sum("JPEG data but the session declared PNG" in m for m in messages) == 1, messages
        progress = [u.progress for u in updates if u.HasField("progress")][-1]
        undecodable = [d for d in progress.drops if d.reason == session_pb2.DROP_REASON_UNDECODABLE]
        assert [d.frame_count for d in undecodable] == [6]
        assert updates[-1].HasField("summary")


class TestUpload:
    """AnalyzeMediaUpload protocol errors carry UPLOAD_INVALID and name header.size_bytes."""

    def test_negative_size(self, stub) -> None:  # type: ignore[no-untyped-def]
        error = refusal(lambda: upload(stub, b"abc", size_bytes=-1))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_reason(error) == "UPLOAD_INVALID"
        assert field_violations(error) == ["header.size_bytes"]

    def test_more_bytes_than_announced(self, stub) -> None:  # type: ignore[no-untyped-def]
        """100 bytes announced, 904,307 sent: refused as too many, not as incomplete."""
        error = refusal(lambda: upload(stub, bytes(904_307), size_bytes=100, piece=64 * 1024))
        assert error_reason(error) == "UPLOAD_INVALID"
        assert "more bytes than announced" in error.details()
        assert field_violations(error) == ["header.size_bytes"]

    def test_no_header(self, stub) -> None:  # type: ignore[no-untyped-def]
        only_bytes = iter([laughter_service_pb2.AnalyzeMediaUploadRequest(content_chunk=b"abc")])
        error = refusal(lambda: stub.AnalyzeMediaUpload(only_bytes, timeout=30))
        assert error_reason(error) == "UPLOAD_INVALID"


class TestOptions:
    """Malformed Durations and unknown enum values are INVALID_ARGUMENT with the field."""

    def test_malformed_min_event_duration(self, stub) -> None:  # type: ignore[no-untyped-def]
        bad = duration_pb2.Duration(seconds=1, nanos=-5)
        error = refusal(
            lambda: analyze_bytes(stub, (DATA_DIR / "audio_only.wav").read_bytes(), min_event_duration=bad)
        )
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field_violations(error) == ["options.min_event_duration"]

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"progress_interval": duration_pb2.Duration(nanos=1_500_000_000)}, "config.progress_interval"),
            ({"backlog_policy": 99}, "config.backlog_policy"),
            ({"frame_encoding": 42}, "config.video.encoding"),
            ({"audio_encoding": 42}, "config.audio.encoding"),
        ],
    )
    def test_session_config(self, stub, change: dict[str, object], field: str) -> None:  # type: ignore[no-untyped-def]
        config = session_config()
        for name, value in change.items():
            if name == "progress_interval":
                config.progress_interval.CopyFrom(value)
            elif name == "frame_encoding":
                config.video.encoding = value  # type: ignore[assignment]
            elif name == "audio_encoding":
                config.audio.encoding = value  # type: ignore[assignment]
            else:
                setattr(config, name, value)
        error = refusal(lambda: list(stub.StreamingAnalyze(requests(config, []), timeout=30)))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field_violations(error) == [field]
