"""Stored results and analytics: the values the SDK returns, and the calls (a mixin of the client)."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

from google.protobuf import message as protobuf_message

from laughter._convert import LAUGHTER_TYPES, result_from_proto
from laughter._enums import LaughterType
from laughter._types import AnalysisResult, _Value
from laughter.v1 import analysis_pb2, results_pb2

__all__ = [
    "Analytics",
    "AsyncResultsMixin",
    "PerformanceStats",
    "ResultPage",
    "ResultsMixin",
    "StoredResult",
    "TimeBucket",
    "TypeStats",
    "VersionStats",
]

_SERVICE = "/laughter.v1.LaughterAnalysisService/"
GET_RESULT_METHOD = _SERVICE + "GetResult"
LIST_RESULTS_METHOD = _SERVICE + "ListResults"
DELETE_RESULTS_METHOD = _SERVICE + "DeleteResults"
GET_ANALYTICS_METHOD = _SERVICE + "GetAnalytics"
GET_PERFORMANCE_STATS_METHOD = _SERVICE + "GetPerformanceStats"
KINDS = {results_pb2.RESULT_KIND_WHOLE_FILE: "whole_file", results_pb2.RESULT_KIND_SESSION: "session"}
ResponseT = TypeVar("ResponseT", bound=protobuf_message.Message)
ValueT = TypeVar("ValueT")
LAUGHTER_TYPE_VALUES = {kind: value for value, kind in LAUGHTER_TYPES.items()}


@dataclasses.dataclass(frozen=True)
class StoredResult(_Value):
    """One stored result of the caller."""

    result_id: str
    created: datetime.datetime
    """When it was stored (UTC)."""
    client_id: str
    kind: str
    """``whole_file`` or ``session``."""
    result: AnalysisResult
    """Events (empty in ``list_results`` pages) and summary."""
    event_count: int
    events_complete: bool
    audio_model_version: str


@dataclasses.dataclass(frozen=True)
class ResultPage(_Value):
    """A page of ``list_results``, newest first."""

    results: tuple[StoredResult, ...]
    next_page_token: str
    """Pass it to the next call; empty on the last page."""


@dataclasses.dataclass(frozen=True)
class TypeStats(_Value):
    """Events of one laughter type."""

    laughter_type: str
    event_count: int
    total_s: float
    mean_s: float


@dataclasses.dataclass(frozen=True)
class TimeBucket(_Value):
    """The results stored in one time bucket."""

    start: datetime.datetime
    result_count: int
    event_count: int
    laughs_per_minute: float
    mean_confidence: float
    laughter_types: tuple[TypeStats, ...] = ()
    """The bucket's events per laughter type, most events first."""


@dataclasses.dataclass(frozen=True)
class VersionStats(_Value):
    """How one audio model version did."""

    audio_model_version: str
    result_count: int
    detection_rate: float
    mean_confidence: float
    events_per_minute: float
    processing_per_media_second_p50: float
    processing_per_media_second_p95: float
    stage_means_s: tuple[tuple[str, float], ...]


@dataclasses.dataclass(frozen=True)
class Analytics(_Value):
    """Aggregates over stored results (``LaughterClient.analytics``)."""

    result_count: int
    event_count: int
    media_duration_s: float
    emotions: tuple[tuple[str, float], ...]
    """(emotion, mean score) over the results with faces."""
    laughter_types: tuple[TypeStats, ...]
    buckets: tuple[TimeBucket, ...]
    hours: tuple[tuple[int, int], ...]
    """(hour of day UTC, events)."""
    model_versions: tuple[VersionStats, ...]


@dataclasses.dataclass(frozen=True)
class PerformanceStats(_Value):
    """Processing speed over the last hours (``LaughterClient.performance_stats``)."""

    start: datetime.datetime
    """Start of the window (UTC)."""
    result_count: int
    media_duration_s: float
    processing_duration_s: float
    model_versions: tuple[VersionStats, ...]


def _type_name(value: int) -> str:
    return analysis_pb2.LaughterType.Name(value).removeprefix("LAUGHTER_TYPE_").lower()


def _type_stats(messages: Sequence[results_pb2.LaughterTypeStats]) -> tuple[TypeStats, ...]:
    return tuple(
        TypeStats(
            _type_name(t.laughter_type),
            t.event_count,
            t.total_duration.ToMilliseconds() / 1000.0,
            t.mean_duration.ToMilliseconds() / 1000.0,
        )
        for t in messages
    )


def analytics_from_proto(message: results_pb2.GetAnalyticsResponse) -> Analytics:
    """Analytics from the response message."""
    return Analytics(
        result_count=message.result_count,
        event_count=message.event_count,
        media_duration_s=message.media_duration.ToMilliseconds() / 1000.0,
        emotions=tuple(
            (analysis_pb2.Emotion.Name(e.emotion).removeprefix("EMOTION_").lower(), e.mean_score)
            for e in message.emotions
        ),
        laughter_types=_type_stats(message.laughter_types),
        buckets=tuple(
            TimeBucket(
                b.start_time.ToDatetime(tzinfo=datetime.UTC),
                b.result_count,
                b.event_count,
                b.laughs_per_minute,
                b.mean_confidence,
                _type_stats(b.laughter_types),
            )
            for b in message.buckets
        ),
        hours=tuple((h.hour, h.event_count) for h in message.hours),
        model_versions=tuple(version_from_proto(v) for v in message.model_versions),
    )


def version_from_proto(v: results_pb2.ModelVersionStats) -> VersionStats:
    """One audio model version's figures."""
    return VersionStats(
        v.audio_model_version,
        v.result_count,
        v.detection_rate,
        v.mean_confidence,
        v.events_per_minute,
        v.processing_per_media_second_p50,
        v.processing_per_media_second_p95,
        tuple((st.stage, st.mean_seconds) for st in v.stages),
    )


def performance_from_proto(message: results_pb2.GetPerformanceStatsResponse) -> PerformanceStats:
    """PerformanceStats from the response message."""
    return PerformanceStats(
        start=message.start_time.ToDatetime(tzinfo=datetime.UTC),
        result_count=int(message.result_count),
        media_duration_s=message.media_duration.ToMilliseconds() / 1000.0,
        processing_duration_s=message.processing_duration.ToMilliseconds() / 1000.0,
        model_versions=tuple(version_from_proto(v) for v in message.model_versions),
    )


def stored_from_proto(message: results_pb2.StoredResult) -> StoredResult:
    """A StoredResult from its message."""
    return StoredResult(
        result_id=message.result_id,
        created=message.create_time.ToDatetime(tzinfo=datetime.UTC),
        client_id=message.client_id,
        kind=KINDS.get(message.kind, "unspecified"),
        result=result_from_proto(message.result),
        event_count=message.event_count,
        events_complete=message.events_complete,
        audio_model_version=message.audio_model_version,
    )


def result_filter(
    since: datetime.datetime | None,
    until: datetime.datetime | None,
    client: str,
    laughter: bool | None,
    laughter_type: LaughterType | None = None,
) -> results_pb2.ResultFilter:
    """A ResultFilter message from the keyword arguments."""
    message = results_pb2.ResultFilter(filter_client_id=client)
    if laughter_type is not None:
        message.laughter_type = LAUGHTER_TYPE_VALUES[laughter_type]  # type: ignore[assignment]
    if since is not None:
        message.start_time.FromDatetime(since)
    if until is not None:
        message.end_time.FromDatetime(until)
    if laughter is not None:
        message.laughter = (
            results_pb2.LAUGHTER_FILTER_DETECTED if laughter else results_pb2.LAUGHTER_FILTER_NOT_DETECTED
        )
    return message


@dataclasses.dataclass(frozen=True)
class ResultsCall(Generic[ResponseT, ValueT]):
    """One results RPC as both clients make it: the method, the request, how to read the response and
    how to turn it into the SDK's value."""

    method: str
    request: protobuf_message.Message
    deserialize: Callable[[bytes], ResponseT]
    convert: Callable[[ResponseT], ValueT]


def get_result_call(
    result_id: str, client_id: str
) -> ResultsCall[results_pb2.GetResultResponse, StoredResult]:
    return ResultsCall(
        GET_RESULT_METHOD,
        results_pb2.GetResultRequest(result_id=result_id, client_id=client_id),
        results_pb2.GetResultResponse.FromString,
        lambda response: stored_from_proto(response.result),
    )


def list_results_call(
    client_id: str, query: results_pb2.ResultFilter, page_size: int, page_token: str
) -> ResultsCall[results_pb2.ListResultsResponse, ResultPage]:
    return ResultsCall(
        LIST_RESULTS_METHOD,
        results_pb2.ListResultsRequest(
            client_id=client_id, filter=query, page_size=page_size, page_token=page_token
        ),
        results_pb2.ListResultsResponse.FromString,
        lambda response: ResultPage(
            tuple(stored_from_proto(r) for r in response.results), response.next_page_token
        ),
    )


def delete_results_call(
    result_ids: Sequence[str], all_results: bool, client_id: str
) -> ResultsCall[results_pb2.DeleteResultsResponse, int]:
    return ResultsCall(
        DELETE_RESULTS_METHOD,
        results_pb2.DeleteResultsRequest(client_id=client_id, result_ids=list(result_ids), all=all_results),
        results_pb2.DeleteResultsResponse.FromString,
        lambda response: int(response.deleted_count),
    )


def analytics_call(
    client_id: str, query: results_pb2.ResultFilter, bucket: datetime.timedelta
) -> ResultsCall[results_pb2.GetAnalyticsResponse, Analytics]:
    request = results_pb2.GetAnalyticsRequest(client_id=client_id, filter=query)
    request.bucket_width.FromTimedelta(bucket)
    return ResultsCall(
        GET_ANALYTICS_METHOD, request, results_pb2.GetAnalyticsResponse.FromString, analytics_from_proto
    )


def performance_call(
    hours: int, client_id: str
) -> ResultsCall[results_pb2.GetPerformanceStatsResponse, PerformanceStats]:
    return ResultsCall(
        GET_PERFORMANCE_STATS_METHOD,
        results_pb2.GetPerformanceStatsRequest(client_id=client_id, hours=hours),
        results_pb2.GetPerformanceStatsResponse.FromString,
        performance_from_proto,
    )


class ResultsMixin:
    """``get_result``, ``list_results``, ``delete_results``, ``analytics`` and ``performance_stats`` of
    the blocking client."""

    if TYPE_CHECKING:  # provided by the client class this is mixed into

        def _call(
            self,
            method: str,
            request: protobuf_message.Message,
            deserialize: Callable[[bytes], ResponseT],
            timeout_s: float | None,
        ) -> ResponseT: ...

    def _results(self, call: ResultsCall[ResponseT, ValueT], timeout_s: float | None) -> ValueT:
        return call.convert(self._call(call.method, call.request, call.deserialize, timeout_s))

    def get_result(
        self, result_id: str, *, client_id: str = "", timeout_s: float | None = None
    ) -> StoredResult:
        """One stored result (``NotFoundError`` for an unknown id and for someone else's alike)."""
        return self._results(get_result_call(result_id, client_id), timeout_s)

    def list_results(
        self,
        *,
        client_id: str = "",
        since: datetime.datetime | None = None,
        until: datetime.datetime | None = None,
        client: str = "",
        laughter: bool | None = None,
        laughter_type: LaughterType | None = None,
        page_size: int = 50,
        page_token: str = "",
        timeout_s: float | None = None,
    ) -> ResultPage:
        """A page of the caller's results, newest first, filtered by time, client, laughter and laughter type
        (results with at least one event of that type)."""
        query = result_filter(since, until, client, laughter, laughter_type)
        return self._results(list_results_call(client_id, query, page_size, page_token), timeout_s)

    def delete_results(
        self,
        result_ids: Sequence[str] = (),
        *,
        all_results: bool = False,
        client_id: str = "",
        timeout_s: float | None = None,
    ) -> int:
        """Delete the caller's results by id (or all of them); returns how many were deleted."""
        return self._results(delete_results_call(result_ids, all_results, client_id), timeout_s)

    def analytics(
        self,
        *,
        client_id: str = "",
        since: datetime.datetime | None = None,
        until: datetime.datetime | None = None,
        client: str = "",
        laughter_type: LaughterType | None = None,
        bucket: datetime.timedelta = datetime.timedelta(hours=1),
        timeout_s: float | None = None,
    ) -> Analytics:
        """Aggregates over the caller's results: emotions, laughter types, laughs per minute over time,
        events by hour, and model performance per audio model version."""
        query = result_filter(since, until, client, None, laughter_type)
        return self._results(analytics_call(client_id, query, bucket), timeout_s)

    def performance_stats(
        self, *, hours: int = 24, client_id: str = "", timeout_s: float | None = None
    ) -> PerformanceStats:
        """Processing speed over the last ``hours`` (1 to 8760), per audio model version."""
        return self._results(performance_call(hours, client_id), timeout_s)


class AsyncResultsMixin:
    """The same calls as :class:`ResultsMixin`, awaitable, for the asyncio client; requests and values are
    built by the same functions."""

    if TYPE_CHECKING:  # provided by the client class this is mixed into

        async def _call(
            self,
            method: str,
            request: protobuf_message.Message,
            deserialize: Callable[[bytes], ResponseT],
            timeout_s: float | None,
        ) -> ResponseT: ...

    async def _results(self, call: ResultsCall[ResponseT, ValueT], timeout_s: float | None) -> ValueT:
        return call.convert(await self._call(call.method, call.request, call.deserialize, timeout_s))

    async def get_result(
        self, result_id: str, *, client_id: str = "", timeout_s: float | None = None
    ) -> StoredResult:
        """As :meth:`LaughterClient.get_result <laughter.LaughterClient.get_result>`."""
        return await self._results(get_result_call(result_id, client_id), timeout_s)

    async def list_results(
        self,
        *,
        client_id: str = "",
        since: datetime.datetime | None = None,
        until: datetime.datetime | None = None,
        client: str = "",
        laughter: bool | None = None,
        laughter_type: LaughterType | None = None,
        page_size: int = 50,
        page_token: str = "",
        timeout_s: float | None = None,
    ) -> ResultPage:
        """As :meth:`LaughterClient.list_results <laughter.LaughterClient.list_results>`."""
        query = result_filter(since, until, client, laughter, laughter_type)
        return await self._results(list_results_call(client_id, query, page_size, page_token), timeout_s)

    async def delete_results(
        self,
        result_ids: Sequence[str] = (),
        *,
        all_results: bool = False,
        client_id: str = "",
        timeout_s: float | None = None,
    ) -> int:
        """As :meth:`LaughterClient.delete_results <laughter.LaughterClient.delete_results>`."""
        return await self._results(delete_results_call(result_ids, all_results, client_id), timeout_s)

    async def analytics(
        self,
        *,
        client_id: str = "",
        since: datetime.datetime | None = None,
        until: datetime.datetime | None = None,
        client: str = "",
        laughter_type: LaughterType | None = None,
        bucket: datetime.timedelta = datetime.timedelta(hours=1),
        timeout_s: float | None = None,
    ) -> Analytics:
        """As :meth:`LaughterClient.analytics <laughter.LaughterClient.analytics>`."""
        query = result_filter(since, until, client, None, laughter_type)
        return await self._results(analytics_call(client_id, query, bucket), timeout_s)

    async def performance_stats(
        self, *, hours: int = 24, client_id: str = "", timeout_s: float | None = None
    ) -> PerformanceStats:
        """As :meth:`LaughterClient.performance_stats <laughter.LaughterClient.performance_stats>`."""
        return await self._results(performance_call(hours, client_id), timeout_s)
