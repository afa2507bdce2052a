"""Background loops stop when their task is cancelled, even as the event they wait for is set."""

from __future__ import annotations

import asyncio
import types

import numpy as np
import numpy.typing as npt
import pytest
from grpc_health.v1 import health
from laughter_server.aio import wait_set
from laughter_server.app import HealthState, _watch_health
from laughter_server.inference.batcher import MicroBatcher


async def test_wait_set_times_out_and_sees_the_event() -> None:
    event = asyncio.Event()
    assert await wait_set(event, 0.01) is False
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_set(event, 5.0) is True


async def test_cancel_as_the_event_is_set_is_not_lost() -> None:
    """The event is set and the waiting task cancelled in the same loop step: the task ends cancelled."""
    event = asyncio.Event()

    async def loop_until_cancelled() -> None:
        while True:
            await wait_set(event, 10.0)
            event.clear()

    task = asyncio.create_task(loop_until_cancelled())
    await asyncio.sleep(0.01)  # waiting inside wait_set
    event.set()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2.0)
    assert task in done, "the cancellation was lost: the loop kept running"
    assert task.cancelled()


class _ReadyModels:
    def __init__(self) -> None:
        self.polls = 0

    async def is_ready(self) -> bool:
        self.polls += 1
        return True


async def test_health_watcher_stops_when_a_model_failure_races_the_stop() -> None:
    """A model call fails (waking the watcher) in the step the server cancels the watcher, as when Triton
    goes away while the server is told to stop: the watcher still ends, so the stop can finish."""
    state = HealthState(health.aio.HealthServicer())
    models = _ReadyModels()
    services = types.SimpleNamespace(triton=None, face_models=models)
    watcher = asyncio.create_task(_watch_health(services, state))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert models.polls >= 1
    assert state.serving is True
    state.model_failed.set()
    watcher.cancel()
    done, _ = await asyncio.wait({watcher}, timeout=3.0)
    assert watcher in done, "the health watcher did not stop"
    assert watcher.cancelled()


async def test_batcher_closes_while_a_request_arrives() -> None:
    """close() cancels the worker in the step a new request wakes it: the worker still ends."""
    calls: list[int] = []

    async def run(items: npt.NDArray[np.uint8]) -> list[int]:
        calls.append(len(items))
        return list(range(len(items)))

    batcher: MicroBatcher[list[int]] = MicroBatcher(
        run, lambda result, start, stop: result[start:stop], max_items=64, max_delay_s=10.0
    )
    first = asyncio.create_task(batcher.submit(np.zeros((1, 2), np.uint8)))
    await asyncio.sleep(0.05)  # the worker gathers more rows for up to 10 s
    batcher._wakeup.set()  # as a second submit does
    await asyncio.wait_for(batcher.close(), 3.0)
    assert first.cancelled() or first.done()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert calls == []
