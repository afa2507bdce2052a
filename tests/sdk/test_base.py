"""Requests, options and local file checks: everything the clients share that is not I/O."""

from __future__ import annotations

import os
import pathlib
import tempfile

import laughter
import pytest
from laughter import AnalysisOptions, ClientOptions
from laughter._base import analysis_options_to_proto, build_analyze_request, read_media_file

UNPRIVILEGED_ID = 65534  # nobody / nogroup
REFUSED, READ_ANYWAY, UNEXPECTED = 0, 3, 4


class TestAnalysisOptionsToProto:
    """Unset options stay zero so the server applies its defaults; set ones are copied."""

    def test_defaults_are_an_empty_message(self) -> None:
        """No options and default options both serialise to nothing."""
        assert analysis_options_to_proto(None).ByteSize() == 0
        assert analysis_options_to_proto(AnalysisOptions()).ByteSize() == 0

    def test_values_are_copied(self) -> None:
        """Every option lands in its field, the minimum event length as a Duration."""
        message = analysis_options_to_proto(
            AnalysisOptions(
                analysis_frame_rate_hertz=2.5,
                disable_video=True,
                laughter_threshold=0.75,
                min_event_duration_s=0.25,
                max_faces=3,
                include_face_samples=True,
            )
        )
        assert message.analysis_frame_rate_hertz == 2.5
        assert message.disable_video
        assert not message.disable_audio
        assert message.laughter_threshold == 0.75
        assert message.min_event_duration.ToNanoseconds() == 250_000_000
        assert message.max_faces == 3
        assert message.include_face_samples

    def test_options_are_keyword_only(self) -> None:
        """Positional arguments are refused, so call sites stay readable."""
        with pytest.raises(TypeError):
            AnalysisOptions(5.0)  # type: ignore[misc]


class TestBuildAnalyzeRequest:
    """build_analyze_request wraps the media bytes."""

    def test_request_carries_bytes_and_name(self, sample_path: pathlib.Path) -> None:
        """Content, file name and options are set."""
        data = sample_path.read_bytes()
        request = build_analyze_request(data, filename="sample.mp4", options=AnalysisOptions(max_faces=1))
        assert request.content == data
        assert request.filename == "sample.mp4"
        assert request.options.max_faces == 1


class TestReadMediaFile:
    """Local file problems raise SDK errors that are also the matching OSError."""

    def test_reads_the_sample(self, sample_path: pathlib.Path) -> None:
        """A readable file gives its bytes and base name."""
        data, name = read_media_file(sample_path)
        assert name == "sample.mp4"
        assert data[4:8] == b"ftyp"

    def test_missing_file(self, tmp_path: pathlib.Path) -> None:
        """A missing file is a MediaFileNotFoundError and a FileNotFoundError."""
        with pytest.raises(FileNotFoundError) as caught:
            read_media_file(tmp_path / "absent.mp4")
        assert isinstance(caught.value, laughter.MediaFileNotFoundError)
        assert caught.value.path.endswith("absent.mp4")

    def test_directory(self, tmp_path: pathlib.Path) -> None:
        """A directory is a MediaIsADirectoryError and an IsADirectoryError."""
        with pytest.raises(IsADirectoryError) as caught:
            read_media_file(tmp_path)
        assert isinstance(caught.value, laughter.MediaFileError)

    def test_unreadable_file(self) -> None:
        """A file without read permission is a MediaFileUnreadableError. Root reads files whatever their mode,
        so as root the read runs in a forked child that has dropped to the unprivileged user id 65534."""
        with tempfile.TemporaryDirectory(prefix="laughter-locked-") as folder:
            os.chmod(folder, 0o755)  # under /tmp, so the child may reach the file, just not read it
            path = pathlib.Path(folder) / "locked.mp4"
            path.write_bytes(b"x")
            path.chmod(0)
            if os.geteuid() != 0:
                with pytest.raises(laughter.MediaFileUnreadableError):
                    read_media_file(path)
            else:
                assert read_as_unprivileged_child(path) == REFUSED


def read_as_unprivileged_child(path: pathlib.Path) -> int:
    """``REFUSED``, ``READ_ANYWAY`` or ``UNEXPECTED``: what ``read_media_file(path)`` did in a forked child running
    as user and group 65534 (the parent must be root)."""
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child, which reports through its exit status
        status = UNEXPECTED
        try:
            os.setgid(UNPRIVILEGED_ID)
            os.setuid(UNPRIVILEGED_ID)
            read_media_file(path)
            status = READ_ANYWAY
        except laughter.MediaFileUnreadableError:
            status = REFUSED
        finally:  # any other exception leaves UNEXPECTED
            os._exit(status)
    _, wait_status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(wait_status)


class TestClientOptions:
    """ClientOptions validates itself and reads LAUGHTER_* variables."""

    def test_from_env(self) -> None:
        """Address, timeout and token come from the environment; explicit values win."""
        env = {"LAUGHTER_ADDRESS": "10.0.0.5:6000", "LAUGHTER_TIMEOUT_S": "12.5", "LAUGHTER_AUTH_TOKEN": "t"}
        options = ClientOptions.from_env(env)
        assert (options.address, options.timeout_s, options.auth_token) == ("10.0.0.5:6000", 12.5, "t")
        assert ClientOptions.from_env(env, address="127.0.0.1:1", timeout_s=None).address == "127.0.0.1:1"

    def test_defaults_without_env(self) -> None:
        """An empty environment gives the defaults."""
        assert ClientOptions.from_env({}) == ClientOptions()

    @pytest.mark.parametrize(
        "kwargs",
        [{"address": ""}, {"timeout_s": 0.0}, {"max_message_bytes": 0}],
        ids=["address", "timeout", "size"],
    )
    def test_invalid_values(self, kwargs: dict[str, object]) -> None:
        """Empty addresses and non-positive limits are refused."""
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            ClientOptions(**kwargs)  # type: ignore[arg-type]
