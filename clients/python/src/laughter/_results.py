"""Stored results and analytics: the values the SDK returns, and the calls (a mixin of the client)."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from google.protobuf import message as protobuf_message

from laughter._convert import result_from_proto
from laughter._types import AnalysisResult, _Value
from laughter.v1 import analysis_pb2, results_pb2

__all__ = [
    "Analytics",
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
KINDS = {results_pb2.RESULT_KIND_WHOLE_FILE: "whole_file", results_pb2.RESULT_KIND_SESSION: "session"}
ResponseT = TypeVar("ResponseT", bound=protobuf_message.Message)


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
        model_versions=tuple(
            VersionStats(
                v.audio_model_version,
                v.result_count,
                v.detection_rate,
                v.mean_confidence,
                v.events_per_minute,
                v.processing_per_media_second_p50,
                v.processing_per_media_second_p95,
                tuple((st.stage, st.mean_seconds) for st in v.stages),
            )
            for v in message.model_versions
        ),
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
    since: datetime.datetime | None, until: datetime.datetime | None, client: str, laughter: bool | None
) -> results_pb2.ResultFilter:
    """A ResultFilter message from the keyword arguments."""
    message = results_pb2.ResultFilter(filter_client_id=client)
    if since is not None:
        message.start_time.FromDatetime(since)
    if until is not None:
        message.end_time.FromDatetime(until)
    if laughter is not None:
        message.laughter = (
            results_pb2.LAUGHTER_FILTER_DETECTED if laughter else results_pb2.LAUGHTER_FILTER_NOT_DETECTED
        )
    return message


class ResultsMixin:
    """``get_result``, ``list_results``, ``delete_results`` and ``analytics`` of the blocking client."""

    if TYPE_CHECKING:  # provided by the client class this is mixed into

        def _call(
            self,
            method: str,
            request: protobuf_message.Message,
            deserialize: Callable[[bytes], ResponseT],
            timeout_s: float | None,
        ) -> ResponseT: ...

    def get_result(
        self, result_id: str, *, client_id: str = "", timeout_s: float | None = None
    ) -> StoredResult:
        """One stored result (``NotFoundError`` for an unknown id and for someone else's alike)."""
        request = results_pb2.GetResultRequest(result_id=result_id, client_id=client_id)
        response = self._call(GET_RESULT_METHOD, request, results_pb2.GetResultResponse.FromString, timeout_s)
        return stored_from_proto(response.result)

    def list_results(
        self,
        *,
        client_id: str = "",
        since: datetime.datetime | None = None,
        until: datetime.datetime | None = None,
        client: str = "",
        laughter: bool | None = None,
        page_size: int = 50,
        page_token: str = "",
        timeout_s: float | None = None,
    ) -> ResultPage:
        """A page of the caller's results, newest first, filtered by time, client and laughter."""
        request = results_pb2.ListResultsRequest(
            client_id=client_id,
            filter=result_filter(since, until, client, laughter),
            page_size=page_size,
            page_token=page_token,
        )
        response = self._call(
            LIST_RESULTS_METHOD, request, results_pb2.ListResultsResponse.FromString, timeout_s
        )
        return ResultPage(tuple(stored_from_proto(r) for r in response.results), response.next_page_token)

    def delete_results(
        self,
        result_ids: Sequence[str] = (),
        *,
        all_results: bool = False,
        client_id: str = "",
        timeout_s: float | None = None,
    ) -> int:
        """Delete the caller's results by id (or all of them); returns how many were deleted."""
        request = results_pb2.DeleteResultsRequest(
            client_id=client_id, result_ids=list(result_ids), all=all_results
        )
        response = self._call(
            DELETE_RESULTS_METHOD, request, results_pb2.DeleteResultsResponse.FromString, timeout_s
        )
        return int(response.deleted_count)

    def analytics(
        self,
        *,
        client_id: str = "",
        since: datetime.datetime | None = None,
        until: datetime.datetime | None = None,
        client: str = "",
        bucket: datetime.timedelta = datetime.timedelta(hours=1),
        timeout_s: float | None = None,
    ) -> Analytics:
        """Aggregates over the caller's results: emotions, laughter types, laughs per minute over time,
        events by hour, and model performance per audio model version."""
        request = results_pb2.GetAnalyticsRequest(
            client_id=client_id, filter=result_filter(since, until, client, None)
        )
        request.bucket_width.FromTimedelta(bucket)
        response = self._call(
            GET_ANALYTICS_METHOD, request, results_pb2.GetAnalyticsResponse.FromString, timeout_s
        )
        return analytics_from_proto(response)
