"""Live sessions (StreamingAnalyze and the browser RPCs) against a real Triton and the real server."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time

import grpc
import pytest
from google.rpc import error_details_pb2
from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc, media_pb2, session_pb2, summary_pb2

from tests.conftest import SAMPLE, ServerThread
from tests.integration.media_chunks import Chunk, duration, load_chunks, media_chunk, requests, session_config
from tests.integration.test_analyze_media import analyze, error_reason, seconds

pytestmark = pytest.mark.integration

ONSET_TOLERANCE_S = 0.5


@pytest.fixture(scope="module")
def stub(server_address: str) -> laughter_service_pb2_grpc.LaughterAnalysisServiceStub:
    return laughter_service_pb2_grpc.LaughterAnalysisServiceStub(grpc.insecure_channel(server_address))


@pytest.fixture(scope="module")
def sample_chunks() -> list[Chunk]:
    return load_chunks(SAMPLE)


@pytest.fixture(scope="module")
def short_chunks() -> list[Chunk]:
    """The sample's first 6 s: one laugh at 1.2-3.7 s, then speech."""
    return load_chunks(SAMPLE, max_s=6.0)


def stream(stub, config, chunks, timeout=300):  # type: ignore[no-untyped-def]
    return [r.update for r in stub.StreamingAnalyze(requests(config, chunks), timeout=timeout)]


def kinds(updates) -> list[str]:  # type: ignore[no-untyped-def]
    return [u.WhichOneof("update") for u in updates]


def ended_events(updates):  # type: ignore[no-untyped-def]
    return [
        u.event.event
        for u in updates
        if u.HasField("event") and u.event.phase == session_pb2.EVENT_PHASE_ENDED
    ]


def warnings(updates) -> list[str]:  # type: ignore[no-untyped-def]
    reasons = []
    for u in updates:
        if u.HasField("warning"):
            for detail in u.warning.details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info):
                    reasons.append(info.reason)
    return reasons


class TestStreamingSample:
    """Streaming the sample as fast as possible finds what whole-file analysis finds."""

    @pytest.fixture(scope="class")
    @classmethod
    def updates(cls, stub, sample_chunks):  # type: ignore[no-untyped-def]
        return stream(stub, session_config(include_face_samples=True), sample_chunks)

    def test_protocol_order(self, updates) -> None:  # type: ignore[no-untyped-def]
        """started first, summary last; each event goes STARTED before ENDED under one id."""
        order = kinds(updates)
        assert order[0] == "started"
        assert order[-1] == "summary"
        assert order.count("summary") == 1
        phases: dict[str, list[int]] = {}
        for u in updates:
            if u.HasField("event"):
                phases.setdefault(u.event.event.event_id, []).append(u.event.phase)
        assert phases
        for event_id, seen in phases.items():
            assert seen[0] == session_pb2.EVENT_PHASE_STARTED, event_id
            assert seen[-1] == session_pb2.EVENT_PHASE_ENDED, event_id
            assert seen.count(session_pb2.EVENT_PHASE_ENDED) == 1

    def test_same_segments_as_whole_file(self, stub, updates) -> None:  # type: ignore[no-untyped-def]
        whole = analyze(stub, SAMPLE)
        live = ended_events(updates)
        assert len(live) == len(whole.events)
        for a, b in zip(
            sorted(live, key=lambda e: seconds(e.start_offset)),
            sorted(whole.events, key=lambda e: seconds(e.start_offset)),
            strict=True,
        ):
            assert abs(seconds(a.start_offset) - seconds(b.start_offset)) <= ONSET_TOLERANCE_S
            assert abs(seconds(a.end_offset) - seconds(b.end_offset)) <= ONSET_TOLERANCE_S

    def test_known_laughs_found(self, updates, sample_truth) -> None:  # type: ignore[no-untyped-def]
        starts = [seconds(e.start_offset) for e in ended_events(updates)]
        for segment in sample_truth["laughter_segments"]:
            assert min(abs(s - segment["start_s"]) for s in starts) <= ONSET_TOLERANCE_S, (segment, starts)

    def test_nothing_dropped_when_the_sender_waits(self, updates) -> None:  # type: ignore[no-untyped-def]
        progress = [u.progress for u in updates if u.HasField("progress")][-1]
        assert progress.frames_dropped == 0
        assert progress.frames_analyzed >= 140  # 28.5 s at 5 Hz

    def test_summary_and_progress(self, updates, sample_chunks) -> None:  # type: ignore[no-untyped-def]
        summary = updates[-1].summary
        events = ended_events(updates)
        assert summary.laughter_detected
        assert summary.durations.event_count == len(events)
        progress = [u.progress for u in updates if u.HasField("progress")]
        assert progress, "progress updates are sent"
        last = progress[-1]
        assert last.frames_received == sum(1 for c in sample_chunks if c.kind == "frame")
        assert last.frames_analyzed + last.frames_dropped <= last.frames_received
        assert last.frames_analyzed == summary.media.frames_analyzed
        dropped = sum(d.frame_count for d in last.drops)
        assert dropped == last.frames_dropped
        assert any(u.HasField("face_sample") for u in updates)
        assert len(summary.faces) >= 1


class TestBacklog:
    """A live sender faster than the server: frames are decimated (oldest first), audio is not."""

    def test_drops_are_counted_and_reported(self, stub, sample_chunks) -> None:  # type: ignore[no-untyped-def]
        updates = stream(stub, session_config(block=False), sample_chunks)
        progress = [u.progress for u in updates if u.HasField("progress")][-1]
        backlog = [d for d in progress.drops if d.reason == session_pb2.DROP_REASON_BACKLOG]
        assert backlog
        assert backlog[0].frame_count == progress.frames_dropped > 0
        assert backlog[0].audio_chunk_count == 0
        summary = updates[-1].summary
        assert summary_pb2.NOTICE_CODE_MEDIA_DROPPED in {n.code for n in summary.notices}
        assert progress.audio_samples_received == sum(
            len(c.data) // 2 for c in sample_chunks if c.kind == "audio"
        )
        assert summary.laughter_detected  # the audio alone still finds laughter


class TestConcurrentSessions:
    """Many sessions at once all complete with correct summaries."""

    def test_twenty_sessions(self, stub, short_chunks) -> None:  # type: ignore[no-untyped-def]
        def run(i: int):  # type: ignore[no-untyped-def]
            return stream(stub, session_config(session_id=f"concurrent-{i}"), short_chunks)

        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            results = list(pool.map(run, range(20)))
        for updates in results:
            summary = updates[-1].summary
            assert summary.laughter_detected
            events = ended_events(updates)
            assert any(abs(seconds(e.start_offset) - 1.2) <= ONSET_TOLERANCE_S for e in events), events


def server_state(server: ServerThread) -> tuple[int, int]:
    """(open sessions, asyncio tasks) inside the server's loop."""
    assert server.running is not None
    assert server._loop is not None
    registry = server.running.services.registry

    async def probe() -> tuple[int, int]:
        return len(registry), len(asyncio.all_tasks())

    return asyncio.run_coroutine_threadsafe(probe(), server._loop).result(10)


class TestResources:
    """Cancelled and finished sessions free everything."""

    def test_cancelled_sessions_leave_nothing(self, stub, server, short_chunks) -> None:  # type: ignore[no-untyped-def]
        stream(stub, session_config(), short_chunks[:10])  # the inference batchers run from the first frames
        baseline_sessions, baseline_tasks = server_state(server)
        for i in range(200):
            call = stub.StreamingAnalyze(
                requests(session_config(session_id=f"cancel-{i}"), short_chunks[:10])
            )
            first = next(call)
            assert first.update.HasField("started")
            call.cancel()
        deadline = time.monotonic() + 180  # each first analyses and stores the media it received
        while time.monotonic() < deadline:
            sessions, tasks = server_state(server)
            if sessions == baseline_sessions and tasks <= baseline_tasks + 2:
                break
            time.sleep(0.2)
        assert sessions == baseline_sessions
        assert tasks <= baseline_tasks + 2


class TestBadStreams:
    """Bad input gets a precise status or a per-chunk warning, and other sessions go on."""

    def test_no_config_first(self, stub, short_chunks) -> None:  # type: ignore[no-untyped-def]
        def without_config():  # type: ignore[no-untyped-def]
            yield laughter_service_pb2.StreamingAnalyzeRequest(chunk=media_chunk(short_chunks[0]))

        with pytest.raises(grpc.RpcError) as caught:
            list(stub.StreamingAnalyze(without_config(), timeout=30))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_reason(caught.value) == "SESSION_CONFIG_MISSING"

    def test_config_without_formats(self, stub) -> None:  # type: ignore[no-untyped-def]
        config = session_pb2.SessionConfig(client_id="tests")
        with pytest.raises(grpc.RpcError) as caught:
            list(
                stub.StreamingAnalyze(
                    iter([laughter_service_pb2.StreamingAnalyzeRequest(config=config)]), timeout=30
                )
            )
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_reason(caught.value) == "SESSION_CONFIG_INVALID"

    def test_bad_chunks_warn_and_the_session_goes_on(self, stub, short_chunks) -> None:  # type: ignore[no-untyped-def]
        audio = [c for c in short_chunks if c.kind == "audio"]
        frames = [c for c in short_chunks if c.kind == "frame"]
        audio_end = audio[-1].offset_s + len(audio[-1].data) / 2 / 16000
        bad = [
            Chunk(frames[-1].offset_s + 0.5, "frame", b"not a jpeg"),  # selected by the 5 Hz sampling
            Chunk(audio_end, "audio", audio[1].data[:-1]),  # odd byte count
            Chunk(0.0, "frame", frames[0].data),  # goes backwards
            Chunk(0.0, "audio", audio[0].data),  # goes backwards
        ]
        chunks = [*short_chunks, *bad]

        def build():  # type: ignore[no-untyped-def]
            yield from requests(session_config(), chunks)

        def with_second_config():  # type: ignore[no-untyped-def]
            for i, request in enumerate(build()):
                yield request
                if i == 5:
                    yield laughter_service_pb2.StreamingAnalyzeRequest(config=session_config())

        updates = [r.update for r in stub.StreamingAnalyze(with_second_config(), timeout=120)]
        reasons = warnings(updates)
        assert reasons.count("CHUNK_INVALID") == 2
        assert reasons.count("TIMESTAMP_NOT_MONOTONIC") == 2
        assert reasons.count("SESSION_CONFIG_INVALID") == 1
        assert updates[-1].HasField("summary")
        assert updates[-1].summary.laughter_detected

    def test_raw_frame_with_wrong_size(self, stub) -> None:  # type: ignore[no-untyped-def]
        config = session_pb2.SessionConfig(
            video=media_pb2.VideoFormat(encoding=media_pb2.FRAME_ENCODING_RAW_RGB24, width=64, height=48)
        )
        frame = media_pb2.MediaChunk(
            frame=media_pb2.VideoFrame(data=b"\0" * 100, capture_offset=duration(0.0))
        )
        reqs = [
            laughter_service_pb2.StreamingAnalyzeRequest(config=config),
            laughter_service_pb2.StreamingAnalyzeRequest(chunk=frame),
        ]
        updates = [r.update for r in stub.StreamingAnalyze(iter(reqs), timeout=60)]
        assert "CHUNK_INVALID" in warnings(updates)
        assert updates[-1].HasField("summary")

    def test_oversized_chunk(self, stub) -> None:  # type: ignore[no-untyped-def]
        big = media_pb2.MediaChunk(
            audio=media_pb2.AudioChunk(data=b"\0" * (9 * 1024 * 1024), capture_offset=duration(0.0))
        )
        reqs = [
            laughter_service_pb2.StreamingAnalyzeRequest(config=session_config(video=False)),
            laughter_service_pb2.StreamingAnalyzeRequest(chunk=big),
        ]
        updates = [r.update for r in stub.StreamingAnalyze(iter(reqs), timeout=60)]
        assert "CHUNK_INVALID" in warnings(updates)
        progress = [u.progress for u in updates if u.HasField("progress")][-1]
        assert any(
            d.reason == session_pb2.DROP_REASON_TOO_LARGE and d.audio_chunk_count == 1 for d in progress.drops
        )

    def test_bad_session_does_not_disturb_a_good_one(self, stub, short_chunks) -> None:  # type: ignore[no-untyped-def]
        def garbage():  # type: ignore[no-untyped-def]
            yield laughter_service_pb2.StreamingAnalyzeRequest(config=session_config())
            for i in range(200):
                yield laughter_service_pb2.StreamingAnalyzeRequest(
                    chunk=media_chunk(Chunk(i * 0.04, "frame", b"\xff\xd8garbage"))
                )

        result: dict[str, object] = {}
        thread = threading.Thread(
            target=lambda: result.setdefault("bad", list(stub.StreamingAnalyze(garbage(), timeout=120)))
        )
        thread.start()
        good = stream(stub, session_config(), short_chunks)
        thread.join(120)
        assert good[-1].summary.laughter_detected
        assert any(abs(seconds(e.start_offset) - 1.2) <= ONSET_TOLERANCE_S for e in ended_events(good))


class TestFairness:
    """A client flooding frames as fast as it can does not starve a normal session."""

    def test_flood_beside_a_normal_session(self, stub, sample_chunks, short_chunks) -> None:  # type: ignore[no-untyped-def]
        flood: dict[str, object] = {}

        def run_flood() -> None:
            flood["updates"] = stream(stub, session_config(block=False, session_id="flood"), sample_chunks)

        thread = threading.Thread(target=run_flood)
        thread.start()
        normal = stream(stub, session_config(session_id="normal"), short_chunks)
        thread.join(300)
        progress = [u.progress for u in normal if u.HasField("progress")][-1]
        assert progress.frames_dropped == 0
        assert progress.frames_analyzed >= 28  # 6 s at 5 Hz
        assert any(abs(seconds(e.start_offset) - 1.2) <= ONSET_TOLERANCE_S for e in ended_events(normal))
        flooded = flood["updates"]
        assert flooded[-1].HasField("summary")  # type: ignore[index]


class TestBrowserSessions:
    """CreateSession + AppendSessionMedia + WatchSession + EndSession run the same session code."""

    def test_push_watch_end(self, stub, short_chunks) -> None:  # type: ignore[no-untyped-def]
        created = stub.CreateSession(
            laughter_service_pb2.CreateSessionRequest(config=session_config()), timeout=30
        )
        assert created.session_id
        watched: list[session_pb2.SessionUpdate] = []
        watcher = threading.Thread(
            target=lambda: watched.extend(
                r.update
                for r in stub.WatchSession(
                    laughter_service_pb2.WatchSessionRequest(session_id=created.session_id), timeout=120
                )
            )
        )
        watcher.start()
        for i in range(0, len(short_chunks), 20):
            reply = stub.AppendSessionMedia(
                laughter_service_pb2.AppendSessionMediaRequest(
                    session_id=created.session_id, chunks=[media_chunk(c) for c in short_chunks[i : i + 20]]
                ),
                timeout=30,
            )
            assert reply.progress.frames_received > 0 or reply.progress.audio_samples_received > 0
        ended = stub.EndSession(
            laughter_service_pb2.EndSessionRequest(session_id=created.session_id), timeout=120
        )
        watcher.join(120)
        assert ended.summary.laughter_detected
        assert any(abs(seconds(e.start_offset) - 1.2) <= ONSET_TOLERANCE_S for e in ended.events)
        assert watched[-1].HasField("summary")
        assert [e.event_id for e in ended_events(watched)] == [e.event_id for e in ended.events]
        assert created.started.result_id  # every reply that names the session names its stored result
        assert watched[-1].summary.result_id == ended.summary.result_id == created.started.result_id
        with pytest.raises(grpc.RpcError) as caught:
            stub.AppendSessionMedia(
                laughter_service_pb2.AppendSessionMediaRequest(
                    session_id=created.session_id, chunks=[media_chunk(short_chunks[0])]
                ),
                timeout=10,
            )
        assert caught.value.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION)

    def test_unknown_session(self, stub) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(grpc.RpcError) as caught:
            stub.EndSession(laughter_service_pb2.EndSessionRequest(session_id="nope"), timeout=10)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        assert error_reason(caught.value) == "SESSION_NOT_FOUND"
