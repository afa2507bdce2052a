"""The SDK and the CLI against the real server (local Triton + gRPC server from ``server_address``)."""

from __future__ import annotations

import io
import json
import pathlib
from typing import Any

import laughter
import pytest
from laughter import AsyncLaughterClient, LaughterClient
from laughter._cli import main

pytestmark = pytest.mark.integration

ANALYSIS_TIMEOUT_S = 240.0


def _overlaps(event: laughter.LaughterEvent, segment: dict[str, float]) -> bool:
    return event.start_s < segment["end_s"] and segment["start_s"] < event.end_s


def _check_sample_result(result: laughter.AnalysisResult, truth: dict[str, Any]) -> None:
    """The result is typed, in range, and finds laughter where the sample has it."""
    assert isinstance(result, laughter.AnalysisResult)
    assert result.events, "the sample holds three laughs; expected at least one event"
    media = result.summary.media
    assert media.duration_s == pytest.approx(truth["duration_s"], abs=0.5)
    assert media.has_video
    assert media.has_audio
    for event in result.events:
        assert isinstance(event.laughter_type, laughter.LaughterType)
        assert event.laughter_type is not laughter.LaughterType.NONE
        assert 0.0 <= event.start_s <= event.peak_s <= event.end_s <= media.duration_s + 0.5
        assert 0.0 <= event.confidence <= 1.0
    found = [seg for seg in truth["laughter_segments"] if any(_overlaps(ev, seg) for ev in result.events)]
    assert found, "no event overlaps a ground-truth laughter segment"
    assert result.summary.laughter_detected
    assert result.summary.durations.event_count == len(result.events)
    assert {model.name for model in result.summary.models}, "the summary names the models used"


class TestSyncClientWithServer:
    """LaughterClient against the real server."""

    def test_analyze_sample(
        self, server_address: str, sample_path: pathlib.Path, sample_truth: dict[str, Any]
    ) -> None:
        """The sample gives typed events that overlap its laughter, and JSON-ready to_dict()."""
        with LaughterClient(server_address) as client:
            result = client.analyze_file(sample_path, timeout_s=ANALYSIS_TIMEOUT_S)
        _check_sample_result(result, sample_truth)
        data = json.loads(json.dumps(result.to_dict()))
        assert len(data["events"]) == len(result.events)
        assert data["summary"]["media"]["has_video"] is True

    def test_random_bytes_rejected(self, server_address: str, test_data: pathlib.Path) -> None:
        """Undecodable bytes raise InvalidMediaError with the server's reason and message."""
        with LaughterClient(server_address) as client, pytest.raises(laughter.InvalidMediaError) as caught:
            client.analyze_file(test_data / "random.bin", timeout_s=60.0)
        assert caught.value.code == "INVALID_ARGUMENT"
        assert caught.value.reason == "MEDIA_UNDECODABLE"
        assert caught.value.message

    def test_missing_file(self, server_address: str, tmp_path: pathlib.Path) -> None:
        """A missing file raises the local error before any call."""
        with LaughterClient(server_address) as client, pytest.raises(laughter.MediaFileNotFoundError):
            client.analyze_file(tmp_path / "absent.mp4")

    def test_health_and_models(self, server_address: str) -> None:
        """The server reports SERVING and lists its models with versions."""
        with LaughterClient(server_address) as client:
            assert client.health(timeout_s=10.0) is laughter.HealthStatus.SERVING
            models = client.list_models(timeout_s=10.0)
        assert models
        assert all(model.version for model in models)


class TestAsyncClientWithServer:
    """AsyncLaughterClient against the real server."""

    async def test_analyze_sample(
        self, server_address: str, sample_path: pathlib.Path, sample_truth: dict[str, Any]
    ) -> None:
        """The async client returns the same kind of result."""
        async with AsyncLaughterClient(server_address) as client:
            result = await client.analyze_file(sample_path, timeout_s=ANALYSIS_TIMEOUT_S)
        _check_sample_result(result, sample_truth)

    async def test_random_bytes_rejected(self, server_address: str, test_data: pathlib.Path) -> None:
        """aio errors carry the same reason."""
        async with AsyncLaughterClient(server_address) as client:
            with pytest.raises(laughter.InvalidMediaError) as caught:
                await client.analyze_file(test_data / "random.bin", timeout_s=60.0)
        assert caught.value.reason == "MEDIA_UNDECODABLE"


class TestCliWithServer:
    """The ``laughter`` command against the real server."""

    def _run(self, *argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()

    def test_table(self, server_address: str, sample_path: pathlib.Path) -> None:
        """analyze prints the events table and the summary."""
        code, out, _ = self._run("analyze", str(sample_path), "--address", server_address, "--plain")
        assert code == 0
        assert "Laughter events" in out
        assert "laughs per minute" in out

    def test_json(self, server_address: str, sample_path: pathlib.Path) -> None:
        """--json output parses and holds the events."""
        code, out, _ = self._run("analyze", str(sample_path), "--address", server_address, "--json")
        assert code == 0
        assert json.loads(out)["events"]

    def test_bad_file_exits_3(self, server_address: str, test_data: pathlib.Path) -> None:
        """A file the server rejects exits 3 with the reason on stderr."""
        code, _, err = self._run("analyze", str(test_data / "random.bin"), "--address", server_address)
        assert code == 3
        assert "MEDIA_UNDECODABLE" in err

    def test_missing_file_exits_2(self, server_address: str, tmp_path: pathlib.Path) -> None:
        """A missing file exits 2."""
        code, _, err = self._run("analyze", str(tmp_path / "absent.mp4"), "--address", server_address)
        assert code == 2
        assert "absent.mp4" in err
