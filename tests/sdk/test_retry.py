"""Retries: the backoff schedule, which errors and methods are repeated, and both clients over a transport
whose server fails on purpose."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import laughter
import pytest
from google.protobuf import duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from laughter import AsyncLaughterClient, ClientOptions, LaughterClient, RetryPolicy
from laughter._retry import IDEMPOTENT_METHODS, RetryState, is_retryable
from laughter.sources import wav_source
from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc

from tests.sdk.conftest import build_result_proto, rich_status

ANALYZE = "/laughter.v1.LaughterAnalysisService/AnalyzeMedia"
STREAM = "/laughter.v1.LaughterAnalysisService/StreamingAnalyze"
MP4_HEADER = b"\0\0\0\x20ftypisom" + b"\0" * 64


def unavailable(retry_after_s: float | None = None) -> laughter.ServiceUnavailableError:
    return laughter.ServiceUnavailableError("down", code="UNAVAILABLE", retry_after_s=retry_after_s)


def exhausted(
    retry_after_s: float | None, reason: str = "CAPACITY_EXCEEDED"
) -> laughter.ResourceExhaustedError:
    kind = laughter.MediaTooLargeError if reason == "MEDIA_TOO_LARGE" else laughter.ResourceExhaustedError
    return kind("full", code="RESOURCE_EXHAUSTED", reason=reason, retry_after_s=retry_after_s)


class TestRetryPolicy:
    """The schedule: full jitter under an exponential ceiling, the server's delay, and the limits."""

    def test_ceiling_grows_and_caps(self) -> None:
        """The ceiling doubles from 0.2 s and stops at max_backoff_s."""
        policy = RetryPolicy()
        assert [policy.backoff_ceiling_s(n) for n in range(1, 8)] == pytest.approx(
            [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]
        )

    def test_jitter_within_bounds(self) -> None:
        """Every jittered wait lies in [0, ceiling], and they spread over the range."""
        policy = RetryPolicy(initial_backoff_s=0.5, multiplier=3.0, max_backoff_s=4.0)
        rng = random.Random(7)
        for attempt in (1, 2, 3):
            waits = [policy.backoff_s(attempt, rng) for _ in range(500)]
            ceiling = policy.backoff_ceiling_s(attempt)
            assert all(0.0 <= wait <= ceiling for wait in waits)
            assert min(waits) < 0.1 * ceiling
            assert max(waits) > 0.9 * ceiling

    def test_retry_info_is_honoured(self) -> None:
        """A RetryInfo delay is used as given, even above max_backoff_s."""
        policy = RetryPolicy(max_backoff_s=1.0)
        assert policy.delay_s(ANALYZE, unavailable(retry_after_s=2.5), 1) == 2.5
        assert policy.delay_s(ANALYZE, exhausted(0.75), 2) == 0.75

    def test_retryable_errors(self) -> None:
        """UNAVAILABLE always; RESOURCE_EXHAUSTED only with RetryInfo and not for media too large."""
        assert is_retryable(unavailable())
        assert is_retryable(exhausted(1.0))
        assert not is_retryable(exhausted(None))
        assert not is_retryable(exhausted(1.0, reason="MEDIA_TOO_LARGE"))
        assert not is_retryable(laughter.InvalidMediaError("bad", code="INVALID_ARGUMENT"))
        assert not is_retryable(laughter.UnauthenticatedError("no", code="UNAUTHENTICATED"))
        assert not is_retryable(laughter.DeadlineExceededError("late", code="DEADLINE_EXCEEDED"))
        assert is_retryable(laughter.CancelledError("CANCELLED", code="CANCELLED"))
        assert not is_retryable(
            laughter.CancelledError("Locally cancelled by application!", code="CANCELLED")
        )
        assert not is_retryable(laughter.CancelledError("Channel closed!", code="CANCELLED"))
        assert not is_retryable(
            laughter.CancelledError("Cancelled upon garbage collection!", code="CANCELLED")
        )

    def test_streams_are_not_idempotent(self) -> None:
        """Only the read-only unary calls and the upload are repeated; the live stream never is."""
        assert STREAM not in IDEMPOTENT_METHODS
        assert ANALYZE in IDEMPOTENT_METHODS
        assert RetryPolicy().delay_s(STREAM, unavailable(), 1) is None

    def test_attempts_are_limited(self) -> None:
        """No wait after the last attempt; max_attempts=1 never waits."""
        policy = RetryPolicy(max_attempts=3)
        assert policy.delay_s(ANALYZE, unavailable(), 2) is not None
        assert policy.delay_s(ANALYZE, unavailable(), 3) is None
        assert RetryPolicy.disabled().delay_s(ANALYZE, unavailable(), 1) is None

    def test_deadline_stops_waiting(self) -> None:
        """A wait that would end after the deadline gives up instead."""
        assert RetryPolicy().delay_s(ANALYZE, unavailable(retry_after_s=3.0), 1, remaining_s=2.0) is None
        state = RetryState(RetryPolicy(), ANALYZE, timeout_s=0.5)
        state.begin()
        assert state.wait_s(unavailable(retry_after_s=1.0)) is None

    def test_bad_values_refused(self) -> None:
        """Zero attempts and a shrinking multiplier are refused."""
        with pytest.raises(ValueError, match="max_attempts"):
            RetryPolicy(max_attempts=0)
        with pytest.raises(ValueError, match="multiplier"):
            RetryPolicy(multiplier=0.5)


def _retry_info(seconds: float) -> error_details_pb2.RetryInfo:
    delay = duration_pb2.Duration()
    delay.FromNanoseconds(round(seconds * 1e9))
    return error_details_pb2.RetryInfo(retry_delay=delay)


class FlakyServicer(laughter_service_pb2_grpc.LaughterAnalysisServiceServicer):
    """Fails AnalyzeMedia with the queued statuses, then answers; the live stream always fails."""

    def __init__(self) -> None:
        self.failures: list[grpc.Status] = []
        self.calls: Counter[str] = Counter()

    def AnalyzeMedia(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.calls["AnalyzeMedia"] += 1
        if self.failures:
            context.abort_with_status(self.failures.pop(0))
        return laughter_service_pb2.AnalyzeMediaResponse(result=build_result_proto())

    def StreamingAnalyze(self, request_iterator: Any, context: grpc.ServicerContext) -> Any:
        self.calls["StreamingAnalyze"] += 1
        context.abort_with_status(
            rich_status(code_pb2.UNAVAILABLE, "models not serving", "MODEL_UNAVAILABLE", _retry_info(0.01))
        )


@pytest.fixture(name="flaky")
def fixture_flaky() -> Iterator[tuple[str, FlakyServicer]]:
    """An in-process server with a fresh FlakyServicer; yields (address, servicer)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = FlakyServicer()
    laughter_service_pb2_grpc.add_LaughterAnalysisServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", servicer
    server.stop(grace=None)


def _fast(address: str, **policy: Any) -> ClientOptions:
    return ClientOptions(
        address=address, retry=RetryPolicy(initial_backoff_s=0.01, max_backoff_s=0.05, **policy)
    )


class TestClientsRetry:
    """Both clients repeat idempotent calls after retryable failures, and only those."""

    def test_sync_recovers_from_unavailable(self, flaky: tuple[str, FlakyServicer]) -> None:
        """Two UNAVAILABLE answers, then a result: three calls, no error."""
        address, servicer = flaky
        servicer.failures = [rich_status(code_pb2.UNAVAILABLE, "down", "MODEL_UNAVAILABLE")] * 2
        with LaughterClient(options=_fast(address)) as client:
            result = client.analyze_bytes(MP4_HEADER)
        assert len(result.events) == 2
        assert servicer.calls["AnalyzeMedia"] == 3

    def test_sync_recovers_from_a_cancel_by_the_server(self, flaky: tuple[str, FlakyServicer]) -> None:
        """A call the server's side cancels (a stopping server does so with calls it had not started) is
        repeated: two CANCELLED answers, then a result."""
        address, servicer = flaky
        servicer.failures = [
            rpc_status.to_status(status_pb2.Status(code=code_pb2.CANCELLED, message="CANCELLED"))
        ] * 2
        with LaughterClient(options=_fast(address)) as client:
            result = client.analyze_bytes(MP4_HEADER)
        assert len(result.events) == 2
        assert servicer.calls["AnalyzeMedia"] == 3

    async def test_async_honours_retry_info(self, flaky: tuple[str, FlakyServicer]) -> None:
        """A full queue with RetryInfo is retried after the server's delay."""
        address, servicer = flaky
        servicer.failures = [
            rich_status(code_pb2.RESOURCE_EXHAUSTED, "queue full", "CAPACITY_EXCEEDED", _retry_info(0.3))
        ]
        started = time.monotonic()
        async with AsyncLaughterClient(options=_fast(address)) as client:
            result = await client.analyze_bytes(MP4_HEADER)
        assert result.events
        assert servicer.calls["AnalyzeMedia"] == 2
        assert time.monotonic() - started >= 0.3

    def test_gives_up_after_max_attempts(self, flaky: tuple[str, FlakyServicer]) -> None:
        """A server that stays down gives ServiceUnavailableError after max_attempts calls."""
        address, servicer = flaky
        servicer.failures = [rich_status(code_pb2.UNAVAILABLE, "down", "MODEL_UNAVAILABLE")] * 5
        client = LaughterClient(options=_fast(address, max_attempts=3))
        with client, pytest.raises(laughter.ServiceUnavailableError) as caught:
            client.analyze_bytes(MP4_HEADER)
        assert caught.value.reason == "MODEL_UNAVAILABLE"
        assert servicer.calls["AnalyzeMedia"] == 3

    def test_rejections_are_not_retried(self, flaky: tuple[str, FlakyServicer]) -> None:
        """INVALID_ARGUMENT and RESOURCE_EXHAUSTED without RetryInfo fail at once."""
        address, servicer = flaky
        servicer.failures = [
            rich_status(code_pb2.INVALID_ARGUMENT, "bad", "MEDIA_UNDECODABLE"),
            rich_status(code_pb2.RESOURCE_EXHAUSTED, "too big", "MEDIA_TOO_LARGE", _retry_info(0.01)),
        ]
        with LaughterClient(options=_fast(address)) as client:
            with pytest.raises(laughter.InvalidMediaError):
                client.analyze_bytes(MP4_HEADER)
            with pytest.raises(laughter.MediaTooLargeError):
                client.analyze_bytes(MP4_HEADER)
        assert servicer.calls["AnalyzeMedia"] == 2

    def test_stream_is_not_retried(self, flaky: tuple[str, FlakyServicer], test_data: Any) -> None:
        """A live stream that fails with UNAVAILABLE is called once and raises."""
        address, servicer = flaky
        with (
            LaughterClient(options=_fast(address)) as client,
            pytest.raises(laughter.ServiceUnavailableError),
        ):
            for _ in client.stream(wav_source(test_data / "silence.wav")):
                pass
        assert servicer.calls["StreamingAnalyze"] == 1

    def test_closed_port_is_retried_within_deadline(self, closed_address: str) -> None:
        """Connection refused is UNAVAILABLE: retried, and the deadline bounds the whole call."""
        options = ClientOptions(
            address=closed_address, timeout_s=1.0, retry=RetryPolicy(max_attempts=50, initial_backoff_s=0.05)
        )
        started = time.monotonic()
        with LaughterClient(options=options) as client, pytest.raises(laughter.TransportError):
            client.list_models()
        assert time.monotonic() - started < 3.0
