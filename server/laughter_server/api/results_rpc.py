"""The stored-results RPCs (GetResult, ListResults, DeleteResults, GetAnalytics, GetPerformanceStats) and
the stamping of every reply with its ``result_id``: a mixin of the servicer, calling ``store/``."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from laughter.v1 import results_pb2, summary_pb2

from laughter_server.api.interceptors import current_tenant
from laughter_server.errors import InvalidOptionError, StoreUnavailableError
from laughter_server.store import ResultsService, new_result_id, owner_of

MAX_CLIENT_ID = 128
MAX_IDS = 1000
DEFAULT_BUCKET_MS = 3_600_000
MIN_BUCKET_MS = 60_000


def caller(client_id: str) -> str:
    """The owner of what this call stores or reads: the token's tenant, else the client_id."""
    if len(client_id) > MAX_CLIENT_ID:
        raise InvalidOptionError("client_id", f"client_id must be at most {MAX_CLIENT_ID} characters")
    return owner_of(current_tenant.get(), client_id)


def stamp(
    results: ResultsService | None,
    message: summary_pb2.AnalysisResult,
    *,
    result_id: str = "",
    owner: str,
    client_id: str,
    kind: int,
    cache_key: str | None = None,
    event_count: int | None = None,
    shadow_of: str = "",
) -> None:
    """Give ``message`` a result id and queue it for storing; a notice on it when that cannot be done now."""
    if results is None:
        return
    message.summary.result_id = result_id or new_result_id()
    stored = results_pb2.StoredResult(
        result_id=message.summary.result_id,
        client_id=client_id,
        kind=kind,  # type: ignore[arg-type]
    )
    stored.create_time.GetCurrentTime()
    stored.result.CopyFrom(message)
    del stored.result.face_samples[:]
    total = message.summary.durations.event_count if event_count is None else event_count
    stored.event_count = total
    stored.events_complete = len(message.events) >= total
    stored.shadow_of = shadow_of
    notice = results.submit(owner, cache_key, stored)
    if notice is not None:
        message.summary.notices.append(notice)


class ResultsRpcs:
    """GetResult, ListResults, DeleteResults, GetAnalytics and GetPerformanceStats."""

    results: ResultsService | None
    _rpc: Callable[[str, Any], contextlib.AbstractAsyncContextManager[str]]  # the servicer's RPC wrapper

    def _store(self) -> ResultsService:
        if self.results is None:
            raise StoreUnavailableError("this server runs without a results store")
        return self.results

    async def GetResult(
        self, request: results_pb2.GetResultRequest, context: Any
    ) -> results_pb2.GetResultResponse:
        """One stored result of the caller; NOT_FOUND for unknown ids and for others' ids alike."""
        async with self._rpc("GetResult", context):
            owner = caller(request.client_id)
            if not request.result_id:
                raise InvalidOptionError("result_id", "result_id is required")
            found = await self._store().get(owner, request.result_id)
            return results_pb2.GetResultResponse(result=found)
        raise AssertionError("unreachable: translate_errors aborts the call")

    async def ListResults(
        self, request: results_pb2.ListResultsRequest, context: Any
    ) -> results_pb2.ListResultsResponse:
        """A page of the caller's results, newest first."""
        async with self._rpc("ListResults", context):
            owner = caller(request.client_id)
            page, token = await self._store().list(
                owner, request.filter, request.page_size, request.page_token
            )
            return results_pb2.ListResultsResponse(results=page, next_page_token=token)
        raise AssertionError("unreachable: translate_errors aborts the call")

    async def DeleteResults(
        self, request: results_pb2.DeleteResultsRequest, context: Any
    ) -> results_pb2.DeleteResultsResponse:
        """Delete the caller's results by id, or all of them."""
        async with self._rpc("DeleteResults", context):
            owner = caller(request.client_id)
            if request.all == bool(request.result_ids):
                raise InvalidOptionError(
                    "result_ids", "give either result_ids or all=true, not both or neither"
                )
            if len(request.result_ids) > MAX_IDS:
                raise InvalidOptionError("result_ids", f"at most {MAX_IDS} ids per call")
            deleted = await self._store().delete(owner, list(request.result_ids), request.all)
            return results_pb2.DeleteResultsResponse(deleted_count=deleted)
        raise AssertionError("unreachable: translate_errors aborts the call")

    async def GetAnalytics(
        self, request: results_pb2.GetAnalyticsRequest, context: Any
    ) -> results_pb2.GetAnalyticsResponse:
        """Aggregates over the caller's results, computed by the database."""
        async with self._rpc("GetAnalytics", context):
            owner = caller(request.client_id)
            bucket_ms = DEFAULT_BUCKET_MS
            if request.HasField("bucket_width"):
                bucket_ms = request.bucket_width.ToMilliseconds()
                if bucket_ms < MIN_BUCKET_MS:
                    raise InvalidOptionError("bucket_width", "bucket_width must be at least 1 minute")
            return await self._store().analytics(owner, request.filter, bucket_ms)
        raise AssertionError("unreachable: translate_errors aborts the call")

    async def GetPerformanceStats(
        self, request: results_pb2.GetPerformanceStatsRequest, context: Any
    ) -> results_pb2.GetPerformanceStatsResponse:
        """Processing speed over the last hours."""
        async with self._rpc("GetPerformanceStats", context):
            owner = caller(request.client_id)
            hours = request.hours or 24
            if not 1 <= hours <= 8760:
                raise InvalidOptionError("hours", "hours must be in [1, 8760] (0 means 24)")
            return await self._store().performance(owner, hours)
        raise AssertionError("unreachable: translate_errors aborts the call")
