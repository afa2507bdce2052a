"""The results store behind the real server: result ids, reading back, the content cache (Triton untouched on a
hit, a model reload misses), ownership by client and by tenant, sessions, and a PostgreSQL that goes down."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import grpc
import pytest
from laughter.v1 import (
    analysis_pb2,
    laughter_service_pb2,
    laughter_service_pb2_grpc,
    results_pb2,
    summary_pb2,
)

from tests.conftest import SAMPLE, ServerThread, make_settings, wait_serving
from tests.integration.media_chunks import Chunk, load_chunks, media_chunk, requests, session_config
from tests.integration.test_analyze_media import error_reason
from tests.postgres import PostgresServer

pytestmark = pytest.mark.integration

Stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub
AUDIO_ONLY = analysis_pb2.AnalysisOptions(disable_video=True)
STORE_WAIT_S = 60.0


def analyze(stub: Stub, client_id: str, *, fresh: bool = False, options=None, metadata=None):  # type: ignore[no-untyped-def]
    request = laughter_service_pb2.AnalyzeMediaRequest(
        content=SAMPLE.read_bytes(), filename=SAMPLE.name, client_id=client_id, fresh=fresh, options=options
    )
    return stub.AnalyzeMedia(request, timeout=300, metadata=metadata).result


def wait_stored(stub: Stub, result_id: str, client_id: str = "", metadata=None) -> results_pb2.StoredResult:  # type: ignore[no-untyped-def]
    """Poll GetResult until the background write has landed."""
    end = time.monotonic() + STORE_WAIT_S
    while True:
        try:
            request = results_pb2.GetResultRequest(result_id=result_id, client_id=client_id)
            return stub.GetResult(request, timeout=10, metadata=metadata).result
        except grpc.RpcError as error:
            if (
                error.code() not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAVAILABLE)
                or time.monotonic() > end
            ):
                raise
        time.sleep(0.05)


def frames_analyzed(server: ServerThread) -> float:
    assert server.running is not None
    value = server.running.services.metrics.registry.get_sample_value("laughter_frames_analyzed_total")
    return float(value or 0.0)


def without_request_id(result: summary_pb2.AnalysisResult) -> summary_pb2.AnalysisResult:
    copy = summary_pb2.AnalysisResult()
    copy.CopyFrom(result)
    copy.request_id = ""
    copy.cached = False
    return copy


@pytest.fixture(scope="module")
def own_server(triton) -> Iterator[ServerThread]:  # type: ignore[no-untyped-def]
    """A server of its own (the cache test reloads the audio model)."""
    server = ServerThread(make_settings(triton_url=triton.grpc_url)).start()
    wait_serving(server.address)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stub(own_server: ServerThread) -> Stub:
    return Stub(grpc.insecure_channel(own_server.address))


@pytest.fixture(scope="module")
def first(stub: Stub) -> summary_pb2.AnalysisResult:
    """The sample, analysed fresh for client 'alice'."""
    return analyze(stub, "alice", fresh=True)


class TestStored:
    """Every reply names its stored result, which reads back the same."""

    def test_result_id_reads_back(self, stub: Stub, first: summary_pb2.AnalysisResult) -> None:
        """GetResult returns the events and summary of the reply."""
        assert len(first.summary.result_id) == 32
        assert not first.cached
        stored = wait_stored(stub, first.summary.result_id, "alice")
        assert stored.kind == results_pb2.RESULT_KIND_WHOLE_FILE
        assert stored.client_id == "alice"
        assert stored.audio_model_version == "1.4.0"
        assert stored.events_complete
        assert list(stored.result.events) == list(first.events)
        assert stored.result.summary == first.summary

    def test_listed(self, stub: Stub, first: summary_pb2.AnalysisResult) -> None:
        """ListResults for the client names the result."""
        wait_stored(stub, first.summary.result_id, "alice")
        page = stub.ListResults(results_pb2.ListResultsRequest(client_id="alice"), timeout=10)
        assert first.summary.result_id in [r.result_id for r in page.results]

    def test_another_client_cannot_see_it(self, stub: Stub, first: summary_pb2.AnalysisResult) -> None:
        """Another client gets NOT_FOUND (as for an unknown id), an empty list, and deletes nothing."""
        result_id = first.summary.result_id
        wait_stored(stub, result_id, "alice")
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetResult(results_pb2.GetResultRequest(result_id=result_id, client_id="bob"), timeout=10)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        assert error_reason(caught.value) == "RESULT_NOT_FOUND"
        assert not stub.ListResults(results_pb2.ListResultsRequest(client_id="bob"), timeout=10).results
        request = results_pb2.DeleteResultsRequest(client_id="bob", result_ids=[result_id])
        assert stub.DeleteResults(request, timeout=10).deleted_count == 0
        assert wait_stored(stub, result_id, "alice").result_id == result_id


class TestReads:
    """Performance stats, analytics and refusals of bad read requests."""

    def test_performance_stats(self, stub: Stub, first: summary_pb2.AnalysisResult) -> None:
        """The last hour holds the client's analysis, with its processing time."""
        wait_stored(stub, first.summary.result_id, "alice")
        reply = stub.GetPerformanceStats(
            results_pb2.GetPerformanceStatsRequest(client_id="alice", hours=1), timeout=30
        )
        assert reply.result_count >= 1
        assert reply.processing_duration.ToMilliseconds() > 0
        assert [v.audio_model_version for v in reply.model_versions] == ["1.4.0"]
        assert reply.model_versions[0].processing_per_media_second_p95 > 0

    @pytest.mark.parametrize(
        ("call", "request_message", "field"),
        [
            ("GetPerformanceStats", results_pb2.GetPerformanceStatsRequest(hours=9000), "hours"),
            ("DeleteResults", results_pb2.DeleteResultsRequest(), "result_ids"),
            ("ListResults", results_pb2.ListResultsRequest(page_token="garbage"), "page_token"),
            ("ListResults", results_pb2.ListResultsRequest(page_size=501), "page_size"),
            ("GetResult", results_pb2.GetResultRequest(), "result_id"),
            ("GetAnalytics", results_pb2.GetAnalyticsRequest(bucket_width={"seconds": 1}), "bucket_width"),
        ],
    )
    def test_bad_requests(self, stub: Stub, call: str, request_message: object, field: str) -> None:
        """INVALID_ARGUMENT naming the field."""
        from google.rpc import error_details_pb2
        from grpc_status import rpc_status

        with pytest.raises(grpc.RpcError) as caught:
            getattr(stub, call)(request_message, timeout=10)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        status = rpc_status.from_call(caught.value)
        assert status is not None
        fields = []
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                fields += [v.field for v in bad.field_violations]
        assert fields == [field]


class TestCache:
    """The same bytes, options and models: the stored result at once, without Triton."""

    def test_hit_without_triton(
        self, own_server: ServerThread, stub: Stub, first: summary_pb2.AnalysisResult
    ) -> None:
        """A repeat is marked cached, identical, and sends no frame to face detection."""
        wait_stored(stub, first.summary.result_id, "alice")
        before = frames_analyzed(own_server)
        again = analyze(stub, "alice")
        assert again.cached
        assert without_request_id(again) == without_request_id(first)
        assert frames_analyzed(own_server) == before

    def test_fresh_and_other_options_miss(
        self, own_server: ServerThread, stub: Stub, first: summary_pb2.AnalysisResult
    ) -> None:
        """fresh=true analyses again; so do other options, and another client."""
        wait_stored(stub, first.summary.result_id, "alice")
        before = frames_analyzed(own_server)
        fresh = analyze(stub, "alice", fresh=True)
        assert not fresh.cached
        assert fresh.summary.result_id != first.summary.result_id
        assert frames_analyzed(own_server) > before
        assert not analyze(
            stub, "alice", options=analysis_pb2.AnalysisOptions(analysis_frame_rate_hertz=2.0)
        ).cached
        assert not analyze(stub, "carol", options=AUDIO_ONLY).cached

    def test_reload_misses(self, stub: Stub, first: summary_pb2.AnalysisResult) -> None:
        """Another audio model version changes the key; switching back hits again."""
        wait_stored(stub, first.summary.result_id, "alice")
        stub.ReloadModel(laughter_service_pb2.ReloadModelRequest(version="1.1.0"), timeout=60)
        try:
            other = analyze(stub, "alice", options=AUDIO_ONLY)
            assert not other.cached
            assert [m.version for m in other.summary.models if m.name == "laughter-audio"] == ["1.1.0"]
        finally:
            stub.ReloadModel(laughter_service_pb2.ReloadModelRequest(version="1.4.0"), timeout=60)
        assert analyze(stub, "alice").cached


def event_spans(result: summary_pb2.AnalysisResult) -> list[tuple[int, int, int]]:
    """(type, start ms, end ms) of each event: what two analyses of the same audio agree on."""
    return [
        (e.laughter_type, e.start_offset.ToMilliseconds(), e.end_offset.ToMilliseconds())
        for e in result.events
    ]


def held_open(config, chunks, release: threading.Event):  # type: ignore[no-untyped-def]
    """The session's requests without the half-close: the stream stays open until ``release``."""
    yield from requests(config, chunks)
    release.wait(120)


@pytest.fixture(scope="module")
def audio_reference(stub: Stub) -> tuple[list[Chunk], results_pb2.StoredResult]:
    """Six seconds of the sample's audio as live chunks, and the stored result of a session that sent them
    and half-closed (read to its summary)."""
    chunks = [c for c in load_chunks(SAMPLE, max_s=6.0) if c.kind == "audio"]
    updates = [
        r.update for r in stub.StreamingAnalyze(requests(session_config(video=False), chunks), timeout=300)
    ]
    return chunks, wait_stored(stub, updates[-1].summary.result_id, "tests")


@pytest.fixture(scope="module")
def idle_server(triton) -> Iterator[ServerThread]:  # type: ignore[no-untyped-def]
    """A server whose sessions end after 1 s without media."""
    server = ServerThread(make_settings(triton_url=triton.grpc_url, session_idle_timeout_s=1.0)).start()
    wait_serving(server.address)
    yield server
    server.stop()


class TestSessions:
    """A live session's summary is stored with its events, however the session ends."""

    def test_streamed_session(self, stub: Stub) -> None:
        """The streamed summary names a stored session result holding the ended events; the opening
        update named the same id."""
        chunks = load_chunks(SAMPLE, max_s=6.0)
        updates = [r.update for r in stub.StreamingAnalyze(requests(session_config(), chunks), timeout=300)]
        summary = updates[-1].summary
        ended = [u.event.event for u in updates if u.HasField("event") and u.event.phase == 3]
        assert summary.result_id
        assert updates[0].started.result_id == summary.result_id
        stored = wait_stored(stub, summary.result_id, "tests")
        assert stored.kind == results_pb2.RESULT_KIND_SESSION
        assert list(stored.result.events) == ended
        assert stored.event_count == summary.durations.event_count == len(ended)

    def test_client_gone_after_media(
        self, stub: Stub, audio_reference: tuple[list[Chunk], results_pb2.StoredResult]
    ) -> None:
        """A client that cancels its StreamingAnalyze once the server has all its media never reads the
        summary; the session still analyses that media and is stored under the id the opening update named,
        with the same events as a session that half-closed."""
        chunks, reference = audio_reference
        total = sum(len(c.data) // 2 for c in chunks)
        release = threading.Event()
        call = stub.StreamingAnalyze(held_open(session_config(video=False), chunks, release), timeout=300)
        try:
            result_id = ""
            for response in call:
                update = response.update
                if update.HasField("started"):
                    result_id = update.started.result_id
                if update.HasField("progress") and update.progress.audio_samples_received == total:
                    break
                assert not update.HasField("summary"), "the input was never closed"
            call.cancel()
        finally:
            release.set()
        assert result_id
        stored = wait_stored(stub, result_id, "tests")
        assert stored.kind == results_pb2.RESULT_KIND_SESSION
        assert stored.result.summary.result_id == result_id
        assert stored.result.summary.media.media_duration.ToMilliseconds() == pytest.approx(6000, abs=150)
        assert event_spans(stored.result) == event_spans(reference.result)
        assert stored.event_count == reference.event_count

    def test_browser_session_ended(
        self, stub: Stub, audio_reference: tuple[list[Chunk], results_pb2.StoredResult]
    ) -> None:
        """CreateSession names the result id; EndSession (nobody watching) returns it with the summary, and
        the stored events are the ones it returned."""
        chunks, reference = audio_reference
        created = stub.CreateSession(
            laughter_service_pb2.CreateSessionRequest(config=session_config(video=False)), timeout=30
        )
        result_id = created.started.result_id
        assert result_id
        append = laughter_service_pb2.AppendSessionMediaRequest(
            session_id=created.session_id, chunks=[media_chunk(c) for c in chunks]
        )
        stub.AppendSessionMedia(append, timeout=60)
        ended = stub.EndSession(
            laughter_service_pb2.EndSessionRequest(session_id=created.session_id), timeout=120
        )
        assert ended.summary.result_id == result_id
        stored = wait_stored(stub, result_id, "tests")
        assert list(stored.result.events) == list(ended.events)
        assert event_spans(stored.result) == event_spans(reference.result)

    def test_browser_session_expired(
        self, idle_server: ServerThread, audio_reference: tuple[list[Chunk], results_pb2.StoredResult]
    ) -> None:
        """A browser session that gets media and is then left alone (no EndSession, no watcher) ends at
        its idle timeout and is stored, with its events, under the id CreateSession named."""
        chunks, reference = audio_reference
        idle_stub = Stub(grpc.insecure_channel(idle_server.address))
        created = idle_stub.CreateSession(
            laughter_service_pb2.CreateSessionRequest(config=session_config(video=False)), timeout=30
        )
        append = laughter_service_pb2.AppendSessionMediaRequest(
            session_id=created.session_id, chunks=[media_chunk(c) for c in chunks]
        )
        idle_stub.AppendSessionMedia(append, timeout=60)
        stored = wait_stored(idle_stub, created.started.result_id, "tests")
        assert stored.kind == results_pb2.RESULT_KIND_SESSION
        assert event_spans(stored.result) == event_spans(reference.result)
        assert stored.result.summary.media.media_duration.ToMilliseconds() == pytest.approx(6000, abs=150)


class TestTenants:
    """With tokens, results belong to the token's tenant, whatever client_id says."""

    def test_tenant_isolation(self, triton, tmp_path) -> None:  # type: ignore[no-untyped-def]
        """Tenant B cannot read, list or delete tenant A's result (NOT_FOUND, so ids cannot be probed)."""
        path = tmp_path / "tenants"
        path.write_text("alpha:alpha-token-1\nbeta:beta-token-2\n")
        path.chmod(0o600)
        server = ServerThread(make_settings(triton_url=triton.grpc_url, auth_tenants_file=str(path))).start()
        alpha = [("authorization", "Bearer alpha-token-1")]
        beta = [("authorization", "Bearer beta-token-2")]
        try:
            wait_serving(server.address)
            with grpc.insecure_channel(server.address) as channel:
                tenant_stub = Stub(channel)
                result = analyze(tenant_stub, "shared-name", options=AUDIO_ONLY, metadata=alpha)
                result_id = result.summary.result_id
                wait_stored(tenant_stub, result_id, metadata=alpha)
                request = results_pb2.GetResultRequest(result_id=result_id, client_id="shared-name")
                with pytest.raises(grpc.RpcError) as caught:
                    tenant_stub.GetResult(request, timeout=10, metadata=beta)
                assert caught.value.code() == grpc.StatusCode.NOT_FOUND
                listed = tenant_stub.ListResults(results_pb2.ListResultsRequest(), timeout=10, metadata=beta)
                assert not listed.results
                delete = results_pb2.DeleteResultsRequest(all=True)
                assert tenant_stub.DeleteResults(delete, timeout=10, metadata=beta).deleted_count == 0
                assert not analyze(tenant_stub, "shared-name", options=AUDIO_ONLY, metadata=beta).cached
                assert tenant_stub.DeleteResults(delete, timeout=10, metadata=alpha).deleted_count == 1
                with pytest.raises(grpc.RpcError) as caught:
                    tenant_stub.GetResult(
                        results_pb2.GetResultRequest(result_id=result_id), timeout=10, metadata=alpha
                    )
                assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        finally:
            server.stop()


def notice_codes(result: summary_pb2.AnalysisResult) -> set[int]:
    return {n.code for n in result.summary.notices}


class TestStoreDown:
    """PostgreSQL stopped mid-test: replies still come, with a notice; the queued writes land later."""

    def test_down_then_back(self, triton, postgres: PostgresServer) -> None:  # type: ignore[no-untyped-def]
        """A write made while PostgreSQL is down lands once it is back; so does one kept over a shutdown."""
        url = postgres.create_database("store_down")
        settings = make_settings(triton_url=triton.grpc_url, database_url=url)
        server = ServerThread(settings).start()
        stopped = False
        try:
            wait_serving(server.address)
            stub = Stub(grpc.insecure_channel(server.address))
            before = analyze(stub, "dave", options=AUDIO_ONLY)
            assert summary_pb2.NOTICE_CODE_RESULT_NOT_STORED not in notice_codes(before)
            wait_stored(stub, before.summary.result_id, "dave")
            postgres.stop()
            stopped = True
            during = analyze(stub, "dave", options=AUDIO_ONLY)
            assert summary_pb2.NOTICE_CODE_RESULT_NOT_STORED in notice_codes(during)
            assert during.events
            assert not during.cached
            postgres.start()
            stopped = False
            stored = wait_stored(stub, during.summary.result_id, "dave")
            assert list(stored.result.events) == list(during.events)
            postgres.stop()
            stopped = True
            kept = analyze(stub, "dave", options=AUDIO_ONLY, fresh=True)
            assert summary_pb2.NOTICE_CODE_RESULT_NOT_STORED in notice_codes(kept)
        finally:
            server.stop()
            if stopped:
                postgres.start()
        again = ServerThread(settings).start()  # same data dir: the write kept at shutdown is made now
        try:
            wait_serving(again.address)
            stub = Stub(grpc.insecure_channel(again.address))
            assert wait_stored(stub, kept.summary.result_id, "dave").result_id == kept.summary.result_id
        finally:
            again.stop()


class TestAudioModelSplit:
    """--audio-model-split assigns each analysis a version by its id; analytics compare them."""

    def test_split(self, triton) -> None:  # type: ignore[no-untyped-def]
        """Each result's audio version is the one its id hashes to; GetAnalytics lists both side by side."""
        from laughter_server.pipeline.model_split import bucket_of

        settings = make_settings(triton_url=triton.grpc_url, audio_model_split="1.4.0=50,1.1.0=50")
        server = ServerThread(settings).start()
        try:
            wait_serving(server.address)
            split_stub = Stub(grpc.insecure_channel(server.address))
            seen = set()
            for _ in range(6):
                result = analyze(split_stub, "erin", fresh=True, options=AUDIO_ONLY)
                version = [m.version for m in result.summary.models if m.name == "laughter-audio"]
                expected = "1.4.0" if bucket_of(result.summary.result_id) < 50 else "1.1.0"
                assert version == [expected]
                assert (
                    wait_stored(split_stub, result.summary.result_id, "erin").audio_model_version == expected
                )
                seen.add(expected)
            reply = split_stub.GetAnalytics(results_pb2.GetAnalyticsRequest(client_id="erin"), timeout=30)
            assert sorted(v.audio_model_version for v in reply.model_versions) == sorted(seen)
            assert sum(v.result_count for v in reply.model_versions) == 6
        finally:
            server.stop()


class TestSdk:
    """The SDK reads, lists, aggregates and deletes stored results."""

    def test_sdk_round_trip(self, own_server: ServerThread, tmp_path) -> None:  # type: ignore[no-untyped-def]
        """analyze_file's result_id reads back; analytics count it; the CLI lists, shows and plots it;
        delete_results removes it."""
        import io

        import laughter
        from laughter._cli import main

        with laughter.LaughterClient(own_server.address) as client:
            result = client.analyze_file(SAMPLE, options=laughter.AnalysisOptions(disable_video=True))
            assert result.result_id
            end = time.monotonic() + STORE_WAIT_S
            while True:
                try:
                    stored = client.get_result(result.result_id)
                    break
                except laughter.LaughterError:
                    if time.monotonic() > end:
                        raise
                    time.sleep(0.05)
            assert stored.kind == "whole_file"
            assert stored.result.events == result.events
            assert result.result_id in [r.result_id for r in client.list_results().results]
            figures = client.analytics()
            assert figures.result_count >= 1
            assert sum(v.result_count for v in figures.model_versions) == figures.result_count
            address = ["--address", own_server.address, "--plain"]
            for argv, expected in (
                (["results", "list", *address], result.result_id),
                (["results", "show", result.result_id, *address], "Laughter events"),
                (
                    ["stats", "--since", "1h", "--plot", str(tmp_path / "stats.png"), *address],
                    "Audio model versions",
                ),
            ):
                out = io.StringIO()
                assert main(argv, stdout=out) == 0, argv
                assert expected in out.getvalue()
            assert (tmp_path / "stats.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert client.delete_results([result.result_id]) == 1
            with pytest.raises(laughter.LaughterError):
                client.get_result(result.result_id)


class TestShadow:
    """--audio-model-shadow scores the audio with a candidate too, stored apart, the reply untouched."""

    def test_shadow(self, triton) -> None:  # type: ignore[no-untyped-def]
        """The reply uses the main model; a shadow result of the candidate names it and is listed only on
        request."""
        server = ServerThread(make_settings(triton_url=triton.grpc_url, audio_model_shadow="1.1.0")).start()
        try:
            wait_serving(server.address)
            shadow_stub = Stub(grpc.insecure_channel(server.address))
            result = analyze(shadow_stub, "frank", options=AUDIO_ONLY)
            assert [m.version for m in result.summary.models if m.name == "laughter-audio"] == ["1.4.0"]
            shadows = results_pb2.ResultFilter(kind=results_pb2.RESULT_KIND_SHADOW)
            end = time.monotonic() + STORE_WAIT_S
            found: list[results_pb2.StoredResult] = []
            while not found and time.monotonic() < end:
                request = results_pb2.ListResultsRequest(client_id="frank", filter=shadows)
                found = list(shadow_stub.ListResults(request, timeout=10).results)
                time.sleep(0.05)
            assert len(found) == 1
            assert found[0].shadow_of == result.summary.result_id
            assert found[0].audio_model_version == "1.1.0"
            listed = shadow_stub.ListResults(results_pb2.ListResultsRequest(client_id="frank"), timeout=10)
            assert [r.result_id for r in listed.results] == [result.summary.result_id]
        finally:
            server.stop()
