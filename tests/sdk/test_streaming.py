"""Live sessions through the SDK and the CLI against the real server (local Triton + gRPC server)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import json
import os
import pathlib
import signal
from collections.abc import AsyncIterator, Iterator
from typing import Any

import laughter
import pytest
from laughter import AsyncLaughterClient, EventPhase, LaughterClient
from laughter._cli import main
from laughter.sources import file_source

pytestmark = pytest.mark.integration

ONSET_TOLERANCE_S = 0.5
STREAM_TIMEOUT_S = 240.0


def _ended(updates: list[laughter.SessionUpdate]) -> list[laughter.LaughterEvent]:
    return [u.event for u in updates if isinstance(u, laughter.EventUpdate) and u.phase is EventPhase.ENDED]


def _check_sample_updates(updates: list[laughter.SessionUpdate], truth: dict[str, Any]) -> None:
    """Started first, summary last, and an ENDED event within 0.5 s of every ground-truth laugh onset."""
    assert isinstance(updates[0], laughter.SessionStarted)
    assert updates[0].session_id
    summary = updates[-1]
    assert isinstance(summary, laughter.AnalysisSummary)
    assert sum(isinstance(u, laughter.AnalysisSummary) for u in updates) == 1
    ended = _ended(updates)
    starts = [event.start_s for event in ended]
    for segment in truth["laughter_segments"]:
        assert min(abs(start - segment["start_s"]) for start in starts) <= ONSET_TOLERANCE_S, (
            segment,
            starts,
        )
    assert summary.laughter_detected
    assert summary.durations.event_count == len(ended)
    progress = [u for u in updates if isinstance(u, laughter.Progress)]
    assert progress, "progress updates are sent"
    assert progress[-1].frames_dropped == 0  # BLOCK: the sender waits instead
    assert progress[-1].frames_analyzed == summary.media.frames_analyzed > 0


@pytest.fixture(name="sync_updates", scope="module")
def fixture_sync_updates(server_address: str, sample_path: pathlib.Path) -> list[laughter.SessionUpdate]:
    """Every update of the sample streamed with the sync client, as fast as the server takes it."""
    with LaughterClient(server_address) as client:
        return list(client.stream(file_source(sample_path), timeout_s=STREAM_TIMEOUT_S))


class TestSyncStream:
    """LaughterClient.stream with file_source."""

    def test_sample_events_and_summary(
        self, sync_updates: list[laughter.SessionUpdate], sample_truth: dict[str, Any]
    ) -> None:
        """The sample's three laughs end as events near their onsets, and the summary comes last."""
        _check_sample_updates(sync_updates, sample_truth)

    def test_event_phases(self, sync_updates: list[laughter.SessionUpdate]) -> None:
        """Every event goes STARTED first and ENDED once, last, under one id."""
        phases: dict[str, list[EventPhase]] = {}
        for update in sync_updates:
            if isinstance(update, laughter.EventUpdate):
                phases.setdefault(update.event.event_id, []).append(update.phase)
        assert phases
        for seen in phases.values():
            assert seen[0] is EventPhase.STARTED
            assert seen[-1] is EventPhase.ENDED
            assert seen.count(EventPhase.ENDED) == 1

    def test_updates_are_json_ready(self, sync_updates: list[laughter.SessionUpdate]) -> None:
        """Every update's to_dict() survives json.dumps, with its kind."""
        kinds = set()
        for update in sync_updates:
            data = json.loads(json.dumps(update.to_dict()))
            assert isinstance(data, dict)
            kinds.add(update.kind)
        assert {"started", "event", "progress", "summary"} <= kinds

    def test_break_cancels(self, server_address: str, sample_path: pathlib.Path) -> None:
        """Leaving the loop after the first update cancels the call; the server keeps serving."""
        with LaughterClient(server_address) as client:
            updates = client.stream(file_source(sample_path), timeout_s=STREAM_TIMEOUT_S)
            first = next(updates)
            updates.close()
            assert isinstance(first, laughter.SessionStarted)
            assert client.health(timeout_s=10.0) is laughter.HealthStatus.SERVING

    def test_failing_source_raises_its_error(self, server_address: str, sample_path: pathlib.Path) -> None:
        """An exception raised by the source comes out of the iteration, not a gRPC error."""

        def broken() -> Iterator[laughter.MediaChunk]:
            for index, chunk in enumerate(file_source(sample_path)):
                if index == 20:
                    raise RuntimeError("the capture device went away")
                yield chunk

        with LaughterClient(server_address) as client, pytest.raises(RuntimeError, match="went away"):
            list(client.stream(broken(), config=file_source(sample_path).options, timeout_s=60.0))

    def test_config_without_formats(self, server_address: str) -> None:
        """No video and no audio format: InvalidArgumentError with reason SESSION_CONFIG_INVALID."""
        config = laughter.SessionOptions(video_encoding=None, audio_encoding=None)
        with LaughterClient(server_address) as client, pytest.raises(laughter.InvalidArgumentError) as caught:
            list(client.stream([], config=config, timeout_s=30.0))
        assert caught.value.code == "INVALID_ARGUMENT"
        assert caught.value.reason == "SESSION_CONFIG_INVALID"


class TestAsyncStream:
    """AsyncLaughterClient.stream and open_session."""

    async def test_sample_events_and_summary(
        self, server_address: str, sample_path: pathlib.Path, sample_truth: dict[str, Any]
    ) -> None:
        """The async iterator gives the same updates as the sync one."""
        async with AsyncLaughterClient(server_address) as client:
            updates = [u async for u in client.stream(file_source(sample_path), timeout_s=STREAM_TIMEOUT_S)]
        _check_sample_updates(updates, sample_truth)

    async def test_cancel_mid_stream(self, server_address: str, sample_path: pathlib.Path) -> None:
        """Cancelling the consuming task mid-way raises only CancelledError; the server stays healthy and
        takes the next session."""
        seen: list[laughter.SessionUpdate] = []

        async with AsyncLaughterClient(server_address) as client:

            async def consume() -> None:
                async for update in client.stream(file_source(sample_path), timeout_s=STREAM_TIMEOUT_S):
                    seen.append(update)

            task = asyncio.create_task(consume())
            while not any(isinstance(u, laughter.Progress) for u in seen):
                await asyncio.sleep(0.05)
                assert not task.done(), task
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await client.health(timeout_s=10.0) is laughter.HealthStatus.SERVING
            source = file_source(sample_path, frame_rate_hertz=5.0)
            short = [chunk for chunk in source if chunk.offset_s < 2.0]
            updates = [u async for u in client.stream(short, config=source.options, timeout_s=60.0)]
        assert isinstance(updates[-1], laughter.AnalysisSummary)

    async def test_break_cancels(self, server_address: str, sample_path: pathlib.Path) -> None:
        """Leaving the async loop early (inside aclosing) ends the session without errors."""
        async with AsyncLaughterClient(server_address) as client:
            stream = client.stream(file_source(sample_path), timeout_s=STREAM_TIMEOUT_S)
            async with contextlib.aclosing(stream) as updates:
                async for update in updates:
                    assert isinstance(update, laughter.SessionStarted)
                    break
            assert await client.is_serving(timeout_s=10.0)

    async def test_open_session(self, server_address: str, sample_path: pathlib.Path) -> None:
        """send_frame / send_audio / close, then the updates end with the summary."""
        source = file_source(sample_path, frame_rate_hertz=5.0)
        chunks = [chunk for chunk in source if chunk.offset_s < 6.0]
        async with AsyncLaughterClient(server_address) as client:
            session = await client.open_session(source.options, timeout_s=60.0)
            async with session:
                for chunk in chunks:
                    if isinstance(chunk, laughter.Frame):
                        await session.send_frame(chunk.data, chunk.offset_s)
                    else:
                        await session.send_audio(chunk.data, chunk.offset_s)
                await session.close()
                with pytest.raises(laughter.SessionClosedError):
                    await session.send_frame(chunks[0].data, 10.0)
                updates = [u async for u in session.updates()]
        assert session.session_id == updates[0].session_id  # type: ignore[union-attr]
        summary = updates[-1]
        assert isinstance(summary, laughter.AnalysisSummary)
        assert summary.media.duration_s == pytest.approx(6.0, abs=0.3)
        assert any(abs(event.start_s - 1.2) <= ONSET_TOLERANCE_S for event in _ended(updates))

    async def test_failing_source_raises_its_error(
        self, server_address: str, sample_path: pathlib.Path
    ) -> None:
        """An async source that raises ends the stream with its own exception."""

        async def broken() -> AsyncIterator[laughter.MediaChunk]:
            async for chunk in file_source(sample_path):
                if chunk.offset_s > 1.0:
                    raise RuntimeError("the capture device went away")
                yield chunk

        async with AsyncLaughterClient(server_address) as client:
            with pytest.raises(RuntimeError, match="went away"):
                async for _ in client.stream(broken(), config=file_source(sample_path).options):
                    pass
            assert await client.is_serving(timeout_s=10.0)

    async def test_config_without_formats(self, server_address: str) -> None:
        """The async client maps the rejected config to InvalidArgumentError too."""
        config = laughter.SessionOptions(video_encoding=None, audio_encoding=None)
        async with AsyncLaughterClient(server_address) as client:
            with pytest.raises(laughter.InvalidArgumentError) as caught:
                async for _ in client.stream([], config=config, timeout_s=30.0):
                    pass
        assert caught.value.reason == "SESSION_CONFIG_INVALID"
        assert caught.value.field_violations or caught.value.message

    async def test_bad_chunks_warn(self, server_address: str, sample_path: pathlib.Path) -> None:
        """A frame that is not a JPEG gives a SessionWarning; the session goes on to its summary."""
        source = file_source(sample_path, frame_rate_hertz=5.0)
        chunks: list[laughter.MediaChunk] = [chunk for chunk in source if chunk.offset_s < 2.0]
        chunks.append(laughter.Frame(b"not a jpeg", 2.5))
        async with AsyncLaughterClient(server_address) as client:
            updates = [u async for u in client.stream(chunks, config=source.options, timeout_s=60.0)]
        warnings = [u for u in updates if isinstance(u, laughter.SessionWarning)]
        assert [w.reason for w in warnings] == ["CHUNK_INVALID"]
        assert warnings[0].message
        assert isinstance(updates[-1], laughter.AnalysisSummary)


class TestCliStream:
    """``laughter stream`` against the real server."""

    def _run(self, *argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()

    def test_text(self, server_address: str, sample_path: pathlib.Path) -> None:
        """Prints started and ended lines as events come, then the summary tables, and exits 0."""
        code, out, err = self._run(
            "stream", str(sample_path), "--address", server_address, "--plain", "--send-fps", "5"
        )
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0].startswith("session ")
        started = [line for line in lines if "laughter started" in line]
        ended = [line for line in lines if "laughter ended" in line]
        assert len(started) == len(ended) >= 3
        assert "confidence" in ended[0]
        assert "Laughter events" in out
        assert "laughs per minute" in out

    def test_jsonl(self, server_address: str, sample_path: pathlib.Path) -> None:
        """--jsonl prints one parseable JSON object per update, the summary last."""
        code, out, err = self._run(
            "stream", str(sample_path), "--address", server_address, "--jsonl", "--send-fps", "5"
        )
        assert code == 0, err
        records = [json.loads(line) for line in out.splitlines()]
        assert records[0]["update"] == "started"
        assert records[-1]["update"] == "summary"
        assert records[-1]["laughter_detected"] is True
        ended = [r for r in records if r["update"] == "event" and r["phase"] == "ended"]
        assert ended
        assert {"start_s", "end_s", "laughter_type", "confidence"} <= set(ended[0]["event"])

    def test_json(self, server_address: str, sample_path: pathlib.Path) -> None:
        """--json prints one document with the ended events and the summary."""
        code, out, err = self._run(
            "stream", str(sample_path), "--address", server_address, "--json", "--send-fps", "5"
        )
        assert code == 0, err
        document = json.loads(out)
        assert document["session_id"]
        assert len(document["events"]) == document["summary"]["durations"]["event_count"] >= 3


class _ProgressInterrupter(io.StringIO):
    """Output that sends the process SIGINT (a Ctrl-C) when the first progress line is written."""

    def __init__(self) -> None:
        super().__init__()
        self.interrupted = False

    def write(self, text: str) -> int:
        if not self.interrupted and '"update": "progress"' in text:
            self.interrupted = True
            os.kill(os.getpid(), signal.SIGINT)
        return super().write(text)


class _FileCamera:
    """A camera stand-in: the sample's frames at real-time pace, with the camera's options."""

    def __init__(self, sample_path: pathlib.Path, origin_s: float | None) -> None:
        self._source = file_source(sample_path, realtime=True, frame_rate_hertz=15.0, origin_s=origin_s)
        self.options = dataclasses.replace(self._source.options, audio_encoding=None)
        self.is_closed = False

    def __iter__(self) -> Iterator[laughter.MediaChunk]:
        return (chunk for chunk in self._source if isinstance(chunk, laughter.Frame))

    def close(self) -> None:
        self.is_closed = True


class TestCliLive:
    """``laughter live`` with a stand-in camera: Ctrl-C half-closes and the summary still comes."""

    def test_ctrl_c_prints_the_summary(
        self,
        server_address: str,
        sample_path: pathlib.Path,
        test_data: pathlib.Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """The first Ctrl-C ends the session gracefully: exit 0, the summary last, the camera released."""
        cameras: list[_FileCamera] = []

        def fake_camera(index: int, **kwargs: Any) -> _FileCamera:
            cameras.append(_FileCamera(sample_path, kwargs.get("origin_s")))
            return cameras[-1]

        monkeypatch.setattr("laughter._cli_stream.camera_source", fake_camera)
        out, err = _ProgressInterrupter(), io.StringIO()
        argv = [
            "live",
            "--address",
            server_address,
            "--jsonl",
            "--audio-wav",
            str(test_data / "audio_only.wav"),
        ]
        code = main(argv, stdout=out, stderr=err)
        assert code == 0, err.getvalue()
        assert out.interrupted
        records = [json.loads(line) for line in out.getvalue().splitlines()]
        assert records[0]["update"] == "started"
        assert records[-1]["update"] == "summary"
        assert 0.5 < records[-1]["media"]["duration_s"] < 10.0
        assert cameras[0].is_closed
