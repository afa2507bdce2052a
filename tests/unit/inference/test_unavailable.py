"""Triton going away is reported to listeners before the caller sees the error; health follows at once."""

from __future__ import annotations

import numpy as np
import pytest
from grpc_health.v1 import health, health_pb2
from laughter_server.app import HealthState
from laughter_server.errors import ModelUnavailableError
from laughter_server.inference.supervisor import find_free_ports
from laughter_server.inference.triton import TritonFaceModels


async def test_failed_call_and_readiness_notify_listeners() -> None:
    """Against a port nobody serves: is_ready and detect both call the listener before returning/raising."""
    (port,) = find_free_ports(1)
    models = TritonFaceModels(f"127.0.0.1:{port}", timeout_s=2.0)
    heard: list[str] = []

    async def listener() -> None:
        heard.append("unavailable")

    models.on_unavailable(listener)
    try:
        assert not await models.is_ready()
        assert heard == ["unavailable"]
        with pytest.raises(ModelUnavailableError):
            await models.detect(np.zeros((1, 32, 32, 3), dtype=np.uint8))
        assert heard == ["unavailable", "unavailable"]
    finally:
        await models.close()


async def test_health_state_flips_once() -> None:
    """mark_unavailable sets NOT_SERVING and wakes the watcher once; repeated failures change nothing."""
    servicer = health.aio.HealthServicer()
    state = HealthState(servicer)
    await state.set(True)
    await state.mark_unavailable()
    reply = await servicer.Check(health_pb2.HealthCheckRequest(service=""), None)
    assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
    assert state.model_failed.is_set()
    state.model_failed.clear()
    await state.mark_unavailable()
    assert not state.model_failed.is_set()
