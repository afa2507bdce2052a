"""Detect-then-track keeps the sample's events and face breakdowns within tolerance of detection on every
frame, against a real Triton (the comparison of tools/compare_tracking.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from typing import Any

import grpc
import pytest
from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc
from laughter_server.app import build_services
from laughter_server.inference.supervisor import TritonProcess
from laughter_server.pipeline.options import AnalysisOptions
from laughter_server.pipeline.result import AnalysisResult

from tests.conftest import SAMPLE, ServerThread, make_settings, wait_serving
from tests.integration.test_results import wait_stored
from tests.scripts import load_script

pytestmark = pytest.mark.integration


def load_tool() -> Any:
    return load_script("tools/compare_tracking.py")


async def analyse(url: str, content: bytes, intervals: tuple[int, ...]) -> list[AnalysisResult]:
    services = await build_services(make_settings(triton_url=url))
    try:
        return [
            await services.analyzer.analyze(content, dataclasses.replace(AnalysisOptions(), detect_every=n))
            for n in intervals
        ]
    finally:
        await services.close()


def test_tracking_keeps_sample_events(triton: TritonProcess) -> None:
    tool = load_tool()
    reference, tracked = asyncio.run(analyse(triton.grpc_url, SAMPLE.read_bytes(), (1, 3)))
    assert reference.events, "the sample has laughter events"
    deviation = tool.compare(reference, tracked)  # type: ignore[attr-defined]
    assert deviation.within(), deviation
    # the boxes were carried, not detected: crops (and so the scores) differ slightly
    assert deviation.max_breakdown > 0.0
    assert tracked.frames_analyzed == reference.frames_analyzed


def test_comparison_catches_a_missing_event(triton: TritonProcess) -> None:
    tool = load_tool()
    (reference,) = asyncio.run(analyse(triton.grpc_url, SAMPLE.read_bytes(), (1,)))
    fewer = dataclasses.replace(reference, events=reference.events[1:])
    assert not tool.compare(reference, fewer).within()  # type: ignore[attr-defined]
    moved = dataclasses.replace(
        reference,
        events=(
            dataclasses.replace(reference.events[0], end_s=reference.events[0].end_s + 0.3),
            *reference.events[1:],
        ),
    )
    assert tool.compare(reference, moved).max_boundary_s == pytest.approx(0.3)  # type: ignore[attr-defined]


def test_results_cache_tells_detector_intervals_apart(triton: TritonProcess) -> None:
    """Two servers on one results store, one detecting on every frame and one every 3: a result stored by
    the one is not the other's cache hit, while a repeat on the same server is."""
    data_dir = tempfile.mkdtemp(prefix="laughter-tracking-")
    request = laughter_service_pb2.AnalyzeMediaRequest(content=SAMPLE.read_bytes(), client_id="tracking")
    for every, expect_cached in ((1, False), (3, False), (3, True)):
        server = ServerThread(
            make_settings(triton_url=triton.grpc_url, data_dir=data_dir, detect_every=every)
        ).start()
        try:
            wait_serving(server.address)
            stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(
                grpc.insecure_channel(server.address)
            )
            result = stub.AnalyzeMedia(request, timeout=300).result
            assert result.cached is expect_cached, every
            wait_stored(stub, result.summary.result_id, "tracking")
        finally:
            server.stop()
