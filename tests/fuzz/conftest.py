"""Fixtures of the fuzz tests: a stub on the session's server, and the check that it stays SERVING; loads
the Hypothesis profile (tests/fuzz/profiles.py)."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from laughter.v1 import laughter_service_pb2_grpc

from tests.conftest import ServerThread
from tests.fuzz import profiles

profiles.load()


@pytest.fixture(scope="module")
def stub(server: ServerThread) -> Iterator[laughter_service_pb2_grpc.LaughterAnalysisServiceStub]:
    """A stub on the session's server, one channel per module."""
    with grpc.insecure_channel(server.address) as channel:
        yield laughter_service_pb2_grpc.LaughterAnalysisServiceStub(channel)


@pytest.fixture
def stays_serving(server: ServerThread) -> Iterator[None]:
    """After the test's batch of cases, grpc.health.v1 still answers SERVING."""
    yield
    with grpc.insecure_channel(server.address) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=10
        )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
