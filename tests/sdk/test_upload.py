"""Large files go through AnalyzeMediaUpload in pieces read from disk; small ones in one message."""

from __future__ import annotations

import pathlib

import pytest
from laughter import AsyncLaughterClient, ClientOptions, LaughterClient

from tests.sdk.conftest import ScriptedServicer

MP4_HEADER = b"\0\0\0\x20ftypisom"


def write_file(folder: pathlib.Path, size_bytes: int) -> pathlib.Path:
    path = folder / "big.mp4"
    path.write_bytes(MP4_HEADER + bytes(index % 251 for index in range(size_bytes - len(MP4_HEADER))))
    return path


class TestUploadScripted:
    """The choice of path and the shape of the upload, seen by a scripted server."""

    def test_large_file_is_sent_in_pieces(
        self, scripted_server: tuple[str, ScriptedServicer], tmp_path: pathlib.Path
    ) -> None:
        """Above the threshold: a header with name and size, then pieces no larger than the chunk size."""
        address, servicer = scripted_server
        path = write_file(tmp_path, 300_000)
        uploads_before, requests_before = len(servicer.uploads), len(servicer.requests)
        options = ClientOptions(address=address, upload_threshold_bytes=100_000, upload_chunk_bytes=64 * 1024)
        with LaughterClient(options=options) as client:
            result = client.analyze_file(path)
        assert result.events
        assert len(servicer.requests) == requests_before
        header, sizes, content = servicer.uploads[uploads_before]
        assert header.filename == "big.mp4"
        assert header.size_bytes == 300_000
        assert content == path.read_bytes()
        assert max(sizes) == 64 * 1024
        assert len(sizes) == 5

    async def test_async_upload(
        self, scripted_server: tuple[str, ScriptedServicer], tmp_path: pathlib.Path
    ) -> None:
        """The async client uploads the same bytes."""
        address, servicer = scripted_server
        path = write_file(tmp_path, 200_000)
        before = len(servicer.uploads)
        options = ClientOptions(address=address, upload_threshold_bytes=0, upload_chunk_bytes=50_000)
        async with AsyncLaughterClient(options=options) as client:
            await client.analyze_file(path)
        _, sizes, content = servicer.uploads[before]
        assert content == path.read_bytes()
        assert sizes == [50_000] * 4

    def test_small_file_is_one_message(
        self, scripted_server: tuple[str, ScriptedServicer], tmp_path: pathlib.Path
    ) -> None:
        """At or below the threshold the file goes through AnalyzeMedia."""
        address, servicer = scripted_server
        path = write_file(tmp_path, 50_000)
        uploads_before, requests_before = len(servicer.uploads), len(servicer.requests)
        with LaughterClient(options=ClientOptions(address=address, upload_threshold_bytes=50_000)) as client:
            client.analyze_file(path)
        assert len(servicer.uploads) == uploads_before
        assert servicer.requests[requests_before].content == path.read_bytes()

    def test_above_message_limit_uploads(
        self, scripted_server: tuple[str, ScriptedServicer], tmp_path: pathlib.Path
    ) -> None:
        """A file that cannot fit one message is uploaded whatever the threshold, in pieces that fit."""
        address, servicer = scripted_server
        path = write_file(tmp_path, 200_000)
        before = len(servicer.uploads)
        options = ClientOptions(address=address, max_message_bytes=150_000, upload_threshold_bytes=10**9)
        with LaughterClient(options=options) as client:
            client.analyze_file(path)
        _, sizes, _ = servicer.uploads[before]
        assert max(sizes) <= 75_000


@pytest.mark.integration
class TestUploadWithServer:
    """The real server gives the same analysis for both paths."""

    def test_same_events_as_one_message(self, server_address: str, sample_path: pathlib.Path) -> None:
        """The sample uploaded in 128 KiB pieces gives the events of the one-message call."""
        small = ClientOptions(
            address=server_address, upload_threshold_bytes=100_000, upload_chunk_bytes=128 * 1024
        )
        with LaughterClient(options=small) as client:
            uploaded = client.analyze_file(sample_path, timeout_s=240.0)
        with LaughterClient(server_address) as client:
            whole = client.analyze_file(sample_path, timeout_s=240.0)
        assert uploaded.events
        assert [(e.start_s, e.end_s, e.laughter_type) for e in uploaded.events] == [
            (e.start_s, e.end_s, e.laughter_type) for e in whole.events
        ]
        assert uploaded.summary.media.frames_analyzed == whole.summary.media.frames_analyzed
