"""Field checks protobuf lets through: malformed Durations, unknown enum values, upload sizes."""

from __future__ import annotations

import pytest
from google.protobuf import duration_pb2
from laughter.v1 import analysis_pb2, media_pb2, session_pb2
from laughter_server.api import validation
from laughter_server.api.convert import options_from_proto
from laughter_server.api.session_convert import spec_from_proto
from laughter_server.errors import InvalidOptionError, SessionConfigError, UploadInvalidError

BAD_DURATIONS = [
    duration_pb2.Duration(seconds=0, nanos=1_000_000_000),
    duration_pb2.Duration(seconds=0, nanos=-1_000_000_000),
    duration_pb2.Duration(seconds=1, nanos=-1),
    duration_pb2.Duration(seconds=-1, nanos=5),
    duration_pb2.Duration(seconds=400_000_000_000),
]


def config(**fields: object) -> session_pb2.SessionConfig:
    """A valid PCM session config with ``fields`` set on top."""
    message = session_pb2.SessionConfig(
        audio=media_pb2.AudioFormat(encoding=media_pb2.AUDIO_ENCODING_PCM_S16LE, sample_rate_hertz=16000)
    )
    for name, value in fields.items():
        if isinstance(value, duration_pb2.Duration):
            getattr(message, name).CopyFrom(value)
        else:
            setattr(message, name, value)
    return message


def spec(message: session_pb2.SessionConfig):  # type: ignore[no-untyped-def]
    """spec_from_proto with the server's default rates."""
    return spec_from_proto(message, default_frame_rate_hertz=5.0, max_frame_rate_hertz=30.0)


class TestDuration:
    """Durations must follow google.protobuf.Duration's own rules."""

    @pytest.mark.parametrize("value", BAD_DURATIONS, ids=str)
    def test_malformed(self, value: duration_pb2.Duration) -> None:
        """Nanos out of range, mixed signs, or seconds past the Duration range are refused."""
        with pytest.raises(InvalidOptionError) as caught:
            validation.duration_s(value, "options.min_event_duration")
        assert caught.value.field == "options.min_event_duration"

    def test_well_formed(self) -> None:
        """Negative with negative nanos is well formed; zero gives the default."""
        assert validation.duration_s(duration_pb2.Duration(seconds=-1, nanos=-5), "f") == pytest.approx(-1.0)
        assert validation.duration_s(duration_pb2.Duration(seconds=1, nanos=500_000_000), "f") == 1.5
        assert validation.duration_s(duration_pb2.Duration(), "f", default=1.0) == 1.0

    def test_min_event_duration_in_options(self) -> None:
        """options_from_proto names the field with its prefix."""
        message = analysis_pb2.AnalysisOptions(
            min_event_duration=duration_pb2.Duration(seconds=0, nanos=2_000_000_000)
        )
        with pytest.raises(InvalidOptionError) as caught:
            options_from_proto(
                message,
                default_frame_rate_hertz=5.0,
                max_frame_rate_hertz=30.0,
                field_prefix="config.options",
            )
        assert caught.value.field == "config.options.min_event_duration"

    @pytest.mark.parametrize("value", BAD_DURATIONS[:4], ids=str)
    def test_progress_interval(self, value: duration_pb2.Duration) -> None:
        """A malformed progress_interval is a SESSION_CONFIG_INVALID naming the field."""
        with pytest.raises(SessionConfigError) as caught:
            spec(config(progress_interval=value))
        assert (caught.value.field, caught.value.reason) == (
            "config.progress_interval",
            "SESSION_CONFIG_INVALID",
        )

    def test_zero_progress_interval_is_the_default(self) -> None:
        """As documented: unset or zero means 1 s."""
        assert spec(config(progress_interval=duration_pb2.Duration())).progress_interval_s == 1.0


class TestEnums:
    """Enum values this server does not know are refused with the field."""

    def test_unknown_backlog_policy(self) -> None:
        """backlog_policy=99 is not silently DROP_OLDEST."""
        with pytest.raises(SessionConfigError) as caught:
            spec(config(backlog_policy=99))
        assert caught.value.field == "config.backlog_policy"
        assert "BACKLOG_POLICY_BLOCK" in caught.value.message

    def test_unknown_encodings(self) -> None:
        """Unknown frame and audio encodings name their field."""
        video = session_pb2.SessionConfig(video=media_pb2.VideoFormat(encoding=42))  # type: ignore[arg-type]
        with pytest.raises(SessionConfigError) as caught:
            spec(video)
        assert caught.value.field == "config.video.encoding"
        audio = config()
        audio.audio.encoding = 42  # type: ignore[assignment]
        with pytest.raises(SessionConfigError) as caught:
            spec(audio)
        assert caught.value.field == "config.audio.encoding"

    def test_zero_channel_count_means_one(self) -> None:
        """channel_count 0 is the documented default of 1."""
        message = config()
        message.audio.channel_count = 0
        assert spec(message).audio.channel_count == 1


class TestUpload:
    """The announced size is checked up front and while bytes arrive."""

    def test_negative_size(self) -> None:
        """size_bytes=-1 names header.size_bytes."""
        with pytest.raises(UploadInvalidError) as caught:
            validation.check_upload_size(-1)
        assert (caught.value.field, caught.value.reason) == ("header.size_bytes", "UPLOAD_INVALID")
        validation.check_upload_size(0)

    def test_more_than_announced(self) -> None:
        """One byte past the announced size is refused; unknown size (0) is not checked."""
        validation.check_upload_progress(100, 100)
        validation.check_upload_progress(0, 10_000)
        with pytest.raises(UploadInvalidError, match="more bytes than announced"):
            validation.check_upload_progress(100, 101)
