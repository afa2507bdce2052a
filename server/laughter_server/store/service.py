"""What the servicer calls: owners, cache keys, background storing with a notice when it cannot be done now,
and the reads (each run in a thread, a store failure answered UNAVAILABLE with a retry hint)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import pathlib
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
import structlog
from laughter.v1 import results_pb2, summary_pb2

from laughter_server.errors import ResultNotFoundError, StoreUnavailableError
from laughter_server.store import analytics
from laughter_server.store.database import ResultStore
from laughter_server.store.records import Record, audio_version
from laughter_server.store.writer import StoreWriter

log = structlog.get_logger(__name__)
T = TypeVar("T")

LOOKUP_TIMEOUT_S = 1.0
RETENTION_SWEEP_S = 3600.0
DAY_MS = 86_400_000


def owner_of(tenant: str, client_id: str) -> str:
    """Who a result belongs to: the token's tenant, or the request's client_id when the server checks no
    tokens (prefixes keep the two apart)."""
    return f"tenant:{tenant}" if tenant else f"client:{client_id}"


def cache_key(content_sha256: str, options: bytes, models: Iterable[tuple[str, str, str]]) -> str:
    """The cache key: media bytes, effective options and every model's name, version and checksum."""
    digest = hashlib.sha256(content_sha256.encode())
    digest.update(options)
    for name, version, sha256 in sorted(models):
        digest.update(f"\0{name}\0{version}\0{sha256}".encode())
    return digest.hexdigest()


def new_result_id() -> str:
    return uuid.uuid4().hex


class ResultsService:
    """The results store as the servicer sees it."""

    def __init__(
        self, store: ResultStore, *, data_dir: pathlib.Path, max_queued: int, retention_days: float
    ) -> None:
        self.store = store
        self.writer = StoreWriter(store, max_queued=max_queued, spill_dir=data_dir / "pending")
        self.retention_days = retention_days
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Apply the migrations (the server starts even when the store is down: writes wait in the queue)."""
        try:
            await asyncio.to_thread(self.store.migrate)
        except sa.exc.OperationalError:
            log.warning("store.unreachable_at_start", dialect=self.store.dialect)
            self.writer.healthy = False
        self.writer.start()
        if self.retention_days > 0:
            self._sweeper = asyncio.create_task(self._sweep(), name="store-retention")
        log.info("store.started", dialect=self.store.dialect, retention_days=self.retention_days)

    async def close(self, timeout_s: float) -> None:
        """Write what is queued (the rest is kept for the next start), then release the connections."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.writer.close(timeout_s)
        await asyncio.to_thread(self.store.close)

    async def _sweep(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                await self.expire_now()
            await asyncio.sleep(min(RETENTION_SWEEP_S, self.retention_days * 86_400.0))

    async def expire_now(self) -> int:
        """Delete the results older than the retention period; returns how many."""
        before_ms = int(time.time() * 1000) - round(self.retention_days * DAY_MS)
        deleted = await asyncio.to_thread(self.store.expire, before_ms)
        if deleted:
            log.info("store.expired", deleted=deleted, retention_days=self.retention_days)
        return deleted

    # writes ------------------------------------------------------------------------------------------
    def submit(
        self,
        owner: str,
        cache: str | None,
        stored: results_pb2.StoredResult,
    ) -> summary_pb2.Notice | None:
        """Queue ``stored`` for writing; a notice for the reply when it cannot be stored now."""
        stored.audio_model_version = audio_version(stored)
        if not self.writer.offer(Record(owner, cache, stored)):
            log.error("store.queue_full", result_id=stored.result_id)
            return summary_pb2.Notice(
                code=summary_pb2.NOTICE_CODE_RESULT_NOT_STORED,
                message="the results store's write queue is full: this result was not stored",
            )
        if not self.writer.healthy:
            return summary_pb2.Notice(
                code=summary_pb2.NOTICE_CODE_RESULT_NOT_STORED,
                message="the results store is unreachable: the result is queued and stored when it is back",
            )
        return None

    # reads -------------------------------------------------------------------------------------------
    async def _read(self, function: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.to_thread(function, *args)
        except sa.exc.OperationalError:
            self.writer.healthy = False
            raise StoreUnavailableError("the results store is unreachable; retry shortly") from None

    async def cached(self, owner: str, key: str) -> results_pb2.StoredResult | None:
        """The stored result for this cache key, or None (also when the store does not answer quickly)."""
        try:
            async with asyncio.timeout(LOOKUP_TIMEOUT_S):
                return await asyncio.to_thread(self.store.cached, owner, key)
        except (TimeoutError, sa.exc.OperationalError):
            self.writer.healthy = False
            return None

    async def get(self, owner: str, result_id: str) -> results_pb2.StoredResult:
        found = await self._read(self.store.get, owner, result_id)
        if found is None:
            raise ResultNotFoundError(f"no stored result {result_id!r} for this caller")
        return found

    async def list(
        self, owner: str, message: results_pb2.ResultFilter, page_size: int, page_token: str
    ) -> tuple[list[results_pb2.StoredResult], str]:
        where = analytics.filters(owner, message)[1:]
        return await self._read(self.store.list, owner, where, page_size, page_token)

    async def delete(self, owner: str, ids: Sequence[str], everything: bool) -> int:
        return await self._read(self.store.delete, owner, ids, everything)

    def _aggregate(self, scope: analytics.Scope, bucket_ms: int) -> results_pb2.GetAnalyticsResponse:
        with self.store.engine.connect() as connection:
            return analytics.analytics(connection, scope, bucket_ms)

    def _performance(self, scope: analytics.Scope) -> results_pb2.GetPerformanceStatsResponse:
        r = analytics.R
        with self.store.engine.connect() as connection:
            count, media_s, processing_s = connection.execute(
                sa.select(sa.func.count(), sa.func.sum(r.media_s), sa.func.sum(r.processing_s)).where(
                    *scope.on()
                )
            ).one()
            reply = results_pb2.GetPerformanceStatsResponse(result_count=int(count))
            reply.media_duration.FromMilliseconds(round(float(media_s or 0.0) * 1000))
            reply.processing_duration.FromMilliseconds(round(float(processing_s or 0.0) * 1000))
            reply.model_versions.extend(analytics.model_versions(connection, scope))
        return reply

    async def analytics(
        self, owner: str, message: results_pb2.ResultFilter, bucket_ms: int
    ) -> results_pb2.GetAnalyticsResponse:
        return await self._read(self._aggregate, analytics.Scope(owner, message), bucket_ms)

    async def performance(self, owner: str, hours: int) -> results_pb2.GetPerformanceStatsResponse:
        start_ms = int(time.time() * 1000) - hours * 3_600_000
        reply = await self._read(self._performance, analytics.Scope(owner, since_ms=start_ms))
        reply.start_time.FromMilliseconds(start_ms)
        return reply
