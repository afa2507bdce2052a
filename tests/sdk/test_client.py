"""LaughterClient and AsyncLaughterClient over a real gRPC transport: the scripted in-process server for the
protocol, a closed port for the unavailable case."""

from __future__ import annotations

import pathlib
from typing import Any

import laughter
import pytest
from laughter import AnalysisOptions, AsyncLaughterClient, ClientOptions, LaughterClient

ScriptedServer = tuple[str, Any]
"""The scripted_server fixture: address and servicer (tests/sdk/conftest.py)."""


class TestLaughterClient:
    """The synchronous client."""

    def test_analyze_file(self, scripted_server: ScriptedServer, sample_path: pathlib.Path) -> None:
        """The file's bytes, name and options reach the server; the answer comes back typed."""
        address, servicer = scripted_server
        options = AnalysisOptions(analysis_frame_rate_hertz=2.0, disable_audio=True)
        with LaughterClient(address) as client:
            result = client.analyze_file(sample_path, options=options)
        request = servicer.requests[-1]
        assert request.content == sample_path.read_bytes()
        assert request.filename == "sample.mp4"
        assert request.options.analysis_frame_rate_hertz == 2.0
        assert request.options.disable_audio
        assert isinstance(result, laughter.AnalysisResult)
        assert result.events[0].laughter_type is laughter.LaughterType.JOYFUL

    def test_metadata_and_token(self, scripted_server: ScriptedServer, sample_path: pathlib.Path) -> None:
        """The auth token and extra metadata travel with the call."""
        address, servicer = scripted_server
        options = ClientOptions(address=address, auth_token="s3cret", metadata=(("x-tenant", "lab"),))
        with LaughterClient(options=options) as client:
            client.analyze_bytes(sample_path.read_bytes())
        assert servicer.metadata[-1]["authorization"] == "Bearer s3cret"
        assert servicer.metadata[-1]["x-tenant"] == "lab"

    def test_rejected_media(self, scripted_server: ScriptedServer, test_data: pathlib.Path) -> None:
        """A rich INVALID_ARGUMENT status becomes InvalidMediaError with the reason."""
        with (
            LaughterClient(scripted_server[0]) as client,
            pytest.raises(laughter.InvalidMediaError) as caught,
        ):
            client.analyze_file(test_data / "random.bin")
        assert caught.value.reason == "MEDIA_UNDECODABLE"
        assert caught.value.message == "media cannot be decoded"

    def test_missing_file_makes_no_call(
        self, scripted_server: ScriptedServer, tmp_path: pathlib.Path
    ) -> None:
        """A missing file raises before any RPC reaches the server."""
        address, servicer = scripted_server
        calls_before = len(servicer.requests)
        with LaughterClient(address) as client, pytest.raises(laughter.MediaFileNotFoundError):
            client.analyze_file(tmp_path / "absent.mp4")
        assert len(servicer.requests) == calls_before

    def test_oversized_media_makes_no_call(self, scripted_server: ScriptedServer) -> None:
        """Media above max_message_bytes is refused locally."""
        address, servicer = scripted_server
        calls_before = len(servicer.requests)
        options = ClientOptions(address=address, max_message_bytes=1024)
        with LaughterClient(options=options) as client, pytest.raises(laughter.MediaFileError, match="bytes"):
            client.analyze_bytes(b"\0" * 2048)
        assert len(servicer.requests) == calls_before

    def test_health_and_models(self, scripted_server: ScriptedServer) -> None:
        """health() reads grpc.health.v1; list_models() returns ModelInfo values."""
        with LaughterClient(scripted_server[0]) as client:
            assert client.health() is laughter.HealthStatus.SERVING
            assert client.is_serving()
            models = client.list_models()
        assert [model.name for model in models] == ["face_emotion"]
        assert models[0].ready

    def test_unimplemented_call(self, scripted_server: ScriptedServer) -> None:
        """A health check for an unknown service maps to NotFoundError, never a bare grpc error."""
        with LaughterClient(scripted_server[0]) as client, pytest.raises(laughter.NotFoundError):
            client.health(service="no.such.Service")

    def test_closed_port(self, closed_address: str, sample_path: pathlib.Path) -> None:
        """Nothing listening gives ServiceUnavailableError; is_serving() is False."""
        with LaughterClient(closed_address, options=ClientOptions(timeout_s=5.0)) as client:
            with pytest.raises(laughter.ServiceUnavailableError) as caught:
                client.analyze_file(sample_path)
            assert not client.is_serving()
        assert caught.value.code == "UNAVAILABLE"

    def test_closed_client(self, scripted_server: ScriptedServer) -> None:
        """A closed client refuses calls and cannot be reopened."""
        client = LaughterClient(scripted_server[0])
        client.close()
        client.close()
        assert client.is_closed
        with pytest.raises(laughter.ClientClosedError):
            client.list_models()


class TestAsyncLaughterClient:
    """The asyncio client."""

    async def test_analyze_file(self, scripted_server: ScriptedServer, sample_path: pathlib.Path) -> None:
        """analyze_file returns the same typed result as the sync client."""
        async with AsyncLaughterClient(scripted_server[0]) as client:
            result = await client.analyze_file(sample_path)
            models = await client.list_models()
            status = await client.health()
        assert result.summary.durations.event_count == 2
        assert models[0].role is laughter.ModelRole.FACE_EMOTION
        assert status is laughter.HealthStatus.SERVING

    async def test_rejected_media(self, scripted_server: ScriptedServer, test_data: pathlib.Path) -> None:
        """aio errors map to the same classes, with the rich details."""
        async with AsyncLaughterClient(scripted_server[0]) as client:
            with pytest.raises(laughter.InvalidMediaError) as caught:
                await client.analyze_file(test_data / "random.bin")
        assert caught.value.reason == "MEDIA_UNDECODABLE"

    async def test_missing_file(self, tmp_path: pathlib.Path, closed_address: str) -> None:
        """A missing file raises the local error even when no server is reachable."""
        async with AsyncLaughterClient(closed_address) as client:
            with pytest.raises(laughter.MediaFileNotFoundError):
                await client.analyze_file(tmp_path / "absent.mp4")

    async def test_closed_port(self, closed_address: str, sample_path: pathlib.Path) -> None:
        """Nothing listening gives ServiceUnavailableError."""
        async with AsyncLaughterClient(closed_address, options=ClientOptions(timeout_s=5.0)) as client:
            with pytest.raises(laughter.ServiceUnavailableError):
                await client.analyze_file(sample_path)
            assert not await client.is_serving()

    async def test_closed_client(self, scripted_server: ScriptedServer) -> None:
        """A closed async client refuses calls."""
        client = AsyncLaughterClient(scripted_server[0])
        await client.close()
        with pytest.raises(laughter.ClientClosedError):
            await client.health()
