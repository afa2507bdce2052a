"""Admission control for whole-file analyses: a bounded number run, a bounded number wait, the rest are
refused at once; the drain refuses new ones (UNAVAILABLE, retryable) while running ones finish."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from laughter_server.errors import CapacityExceededError, ShuttingDownError
from laughter_server.observability.metrics import Metrics

QUEUE_FACTOR = 4
"""Whole-file requests beyond max_concurrent * QUEUE_FACTOR waiting are refused at once."""
DRAIN_POLL_S = 0.05


class Admission:
    """Slots for whole-file analyses."""

    def __init__(self, max_concurrent: int, metrics: Metrics) -> None:
        self.max_concurrent = max_concurrent
        self.metrics = metrics
        self._slots = asyncio.Semaphore(max_concurrent)
        self._waiting = 0
        self._running = 0
        self.is_draining = False

    def refuse_when_draining(self) -> None:
        """Raise ShuttingDownError once the drain has begun."""
        if self.is_draining:
            raise ShuttingDownError(
                "the server is shutting down; retry in a few seconds or on another replica"
            )

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one analysis slot, waiting for it when the queue has room."""
        self.refuse_when_draining()
        if self._slots.locked() and self._waiting >= self.max_concurrent * QUEUE_FACTOR:
            raise CapacityExceededError(
                f"the server is already analysing {self.max_concurrent} files with "
                f"{self._waiting} more waiting; retry later or lower your concurrency",
                retry_after_s=5.0,
            )
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        self.metrics.analyses_in_flight.inc()
        self._running += 1
        try:
            yield
        finally:
            self._running -= 1
            self.metrics.analyses_in_flight.dec()
            self._slots.release()

    async def drain(self, timeout_s: float) -> None:
        """Refuse new analyses and wait up to ``timeout_s`` for the running and waiting ones."""
        self.is_draining = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while (self._running or self._waiting) and loop.time() < deadline:  # noqa: ASYNC110 - a short poll at shutdown only
            await asyncio.sleep(DRAIN_POLL_S)
