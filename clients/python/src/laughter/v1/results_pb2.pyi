import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from laughter.v1 import analysis_pb2 as _analysis_pb2
from laughter.v1 import summary_pb2 as _summary_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ResultKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESULT_KIND_UNSPECIFIED: _ClassVar[ResultKind]
    RESULT_KIND_WHOLE_FILE: _ClassVar[ResultKind]
    RESULT_KIND_SESSION: _ClassVar[ResultKind]
    RESULT_KIND_SHADOW: _ClassVar[ResultKind]

class LaughterFilter(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LAUGHTER_FILTER_UNSPECIFIED: _ClassVar[LaughterFilter]
    LAUGHTER_FILTER_DETECTED: _ClassVar[LaughterFilter]
    LAUGHTER_FILTER_NOT_DETECTED: _ClassVar[LaughterFilter]
RESULT_KIND_UNSPECIFIED: ResultKind
RESULT_KIND_WHOLE_FILE: ResultKind
RESULT_KIND_SESSION: ResultKind
RESULT_KIND_SHADOW: ResultKind
LAUGHTER_FILTER_UNSPECIFIED: LaughterFilter
LAUGHTER_FILTER_DETECTED: LaughterFilter
LAUGHTER_FILTER_NOT_DETECTED: LaughterFilter

class StoredResult(_message.Message):
    __slots__ = ("result_id", "create_time", "client_id", "kind", "result", "event_count", "events_complete", "audio_model_version", "shadow_of")
    RESULT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    EVENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    AUDIO_MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SHADOW_OF_FIELD_NUMBER: _ClassVar[int]
    result_id: str
    create_time: _timestamp_pb2.Timestamp
    client_id: str
    kind: ResultKind
    result: _summary_pb2.AnalysisResult
    event_count: int
    events_complete: bool
    audio_model_version: str
    shadow_of: str
    def __init__(self, result_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., client_id: _Optional[str] = ..., kind: _Optional[_Union[ResultKind, str]] = ..., result: _Optional[_Union[_summary_pb2.AnalysisResult, _Mapping]] = ..., event_count: _Optional[int] = ..., events_complete: _Optional[bool] = ..., audio_model_version: _Optional[str] = ..., shadow_of: _Optional[str] = ...) -> None: ...

class ResultFilter(_message.Message):
    __slots__ = ("start_time", "end_time", "kind", "laughter", "filter_client_id", "audio_model_version", "laughter_type")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LAUGHTER_FIELD_NUMBER: _ClassVar[int]
    FILTER_CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    AUDIO_MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    LAUGHTER_TYPE_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    kind: ResultKind
    laughter: LaughterFilter
    filter_client_id: str
    audio_model_version: str
    laughter_type: _analysis_pb2.LaughterType
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[_Union[ResultKind, str]] = ..., laughter: _Optional[_Union[LaughterFilter, str]] = ..., filter_client_id: _Optional[str] = ..., audio_model_version: _Optional[str] = ..., laughter_type: _Optional[_Union[_analysis_pb2.LaughterType, str]] = ...) -> None: ...

class GetResultRequest(_message.Message):
    __slots__ = ("result_id", "client_id")
    RESULT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    result_id: str
    client_id: str
    def __init__(self, result_id: _Optional[str] = ..., client_id: _Optional[str] = ...) -> None: ...

class GetResultResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: StoredResult
    def __init__(self, result: _Optional[_Union[StoredResult, _Mapping]] = ...) -> None: ...

class ListResultsRequest(_message.Message):
    __slots__ = ("client_id", "filter", "page_size", "page_token")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    filter: ResultFilter
    page_size: int
    page_token: str
    def __init__(self, client_id: _Optional[str] = ..., filter: _Optional[_Union[ResultFilter, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListResultsResponse(_message.Message):
    __slots__ = ("results", "next_page_token")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[StoredResult]
    next_page_token: str
    def __init__(self, results: _Optional[_Iterable[_Union[StoredResult, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteResultsRequest(_message.Message):
    __slots__ = ("client_id", "result_ids", "all")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_IDS_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    result_ids: _containers.RepeatedScalarFieldContainer[str]
    all: bool
    def __init__(self, client_id: _Optional[str] = ..., result_ids: _Optional[_Iterable[str]] = ..., all: _Optional[bool] = ...) -> None: ...

class DeleteResultsResponse(_message.Message):
    __slots__ = ("deleted_count",)
    DELETED_COUNT_FIELD_NUMBER: _ClassVar[int]
    deleted_count: int
    def __init__(self, deleted_count: _Optional[int] = ...) -> None: ...

class GetAnalyticsRequest(_message.Message):
    __slots__ = ("client_id", "filter", "bucket_width")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    BUCKET_WIDTH_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    filter: ResultFilter
    bucket_width: _duration_pb2.Duration
    def __init__(self, client_id: _Optional[str] = ..., filter: _Optional[_Union[ResultFilter, _Mapping]] = ..., bucket_width: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class EmotionShare(_message.Message):
    __slots__ = ("emotion", "mean_score")
    EMOTION_FIELD_NUMBER: _ClassVar[int]
    MEAN_SCORE_FIELD_NUMBER: _ClassVar[int]
    emotion: _analysis_pb2.Emotion
    mean_score: float
    def __init__(self, emotion: _Optional[_Union[_analysis_pb2.Emotion, str]] = ..., mean_score: _Optional[float] = ...) -> None: ...

class LaughterTypeStats(_message.Message):
    __slots__ = ("laughter_type", "event_count", "total_duration", "mean_duration")
    LAUGHTER_TYPE_FIELD_NUMBER: _ClassVar[int]
    EVENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DURATION_FIELD_NUMBER: _ClassVar[int]
    MEAN_DURATION_FIELD_NUMBER: _ClassVar[int]
    laughter_type: _analysis_pb2.LaughterType
    event_count: int
    total_duration: _duration_pb2.Duration
    mean_duration: _duration_pb2.Duration
    def __init__(self, laughter_type: _Optional[_Union[_analysis_pb2.LaughterType, str]] = ..., event_count: _Optional[int] = ..., total_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., mean_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class TimeBucket(_message.Message):
    __slots__ = ("start_time", "result_count", "event_count", "laughs_per_minute", "mean_confidence", "laughter_types")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    RESULT_COUNT_FIELD_NUMBER: _ClassVar[int]
    EVENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAUGHS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    MEAN_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    LAUGHTER_TYPES_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    result_count: int
    event_count: int
    laughs_per_minute: float
    mean_confidence: float
    laughter_types: _containers.RepeatedCompositeFieldContainer[LaughterTypeStats]
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., result_count: _Optional[int] = ..., event_count: _Optional[int] = ..., laughs_per_minute: _Optional[float] = ..., mean_confidence: _Optional[float] = ..., laughter_types: _Optional[_Iterable[_Union[LaughterTypeStats, _Mapping]]] = ...) -> None: ...

class HourCount(_message.Message):
    __slots__ = ("hour", "event_count")
    HOUR_FIELD_NUMBER: _ClassVar[int]
    EVENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    hour: int
    event_count: int
    def __init__(self, hour: _Optional[int] = ..., event_count: _Optional[int] = ...) -> None: ...

class StageStats(_message.Message):
    __slots__ = ("stage", "mean_seconds")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    MEAN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    stage: str
    mean_seconds: float
    def __init__(self, stage: _Optional[str] = ..., mean_seconds: _Optional[float] = ...) -> None: ...

class ModelVersionStats(_message.Message):
    __slots__ = ("audio_model_version", "result_count", "detection_rate", "mean_confidence", "events_per_minute", "processing_per_media_second_p50", "processing_per_media_second_p95", "stages")
    AUDIO_MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RESULT_COUNT_FIELD_NUMBER: _ClassVar[int]
    DETECTION_RATE_FIELD_NUMBER: _ClassVar[int]
    MEAN_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    EVENTS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_PER_MEDIA_SECOND_P50_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_PER_MEDIA_SECOND_P95_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    audio_model_version: str
    result_count: int
    detection_rate: float
    mean_confidence: float
    events_per_minute: float
    processing_per_media_second_p50: float
    processing_per_media_second_p95: float
    stages: _containers.RepeatedCompositeFieldContainer[StageStats]
    def __init__(self, audio_model_version: _Optional[str] = ..., result_count: _Optional[int] = ..., detection_rate: _Optional[float] = ..., mean_confidence: _Optional[float] = ..., events_per_minute: _Optional[float] = ..., processing_per_media_second_p50: _Optional[float] = ..., processing_per_media_second_p95: _Optional[float] = ..., stages: _Optional[_Iterable[_Union[StageStats, _Mapping]]] = ...) -> None: ...

class GetAnalyticsResponse(_message.Message):
    __slots__ = ("result_count", "event_count", "media_duration", "emotions", "laughter_types", "buckets", "hours", "model_versions")
    RESULT_COUNT_FIELD_NUMBER: _ClassVar[int]
    EVENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    MEDIA_DURATION_FIELD_NUMBER: _ClassVar[int]
    EMOTIONS_FIELD_NUMBER: _ClassVar[int]
    LAUGHTER_TYPES_FIELD_NUMBER: _ClassVar[int]
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    result_count: int
    event_count: int
    media_duration: _duration_pb2.Duration
    emotions: _containers.RepeatedCompositeFieldContainer[EmotionShare]
    laughter_types: _containers.RepeatedCompositeFieldContainer[LaughterTypeStats]
    buckets: _containers.RepeatedCompositeFieldContainer[TimeBucket]
    hours: _containers.RepeatedCompositeFieldContainer[HourCount]
    model_versions: _containers.RepeatedCompositeFieldContainer[ModelVersionStats]
    def __init__(self, result_count: _Optional[int] = ..., event_count: _Optional[int] = ..., media_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., emotions: _Optional[_Iterable[_Union[EmotionShare, _Mapping]]] = ..., laughter_types: _Optional[_Iterable[_Union[LaughterTypeStats, _Mapping]]] = ..., buckets: _Optional[_Iterable[_Union[TimeBucket, _Mapping]]] = ..., hours: _Optional[_Iterable[_Union[HourCount, _Mapping]]] = ..., model_versions: _Optional[_Iterable[_Union[ModelVersionStats, _Mapping]]] = ...) -> None: ...

class GetPerformanceStatsRequest(_message.Message):
    __slots__ = ("client_id", "hours")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    hours: int
    def __init__(self, client_id: _Optional[str] = ..., hours: _Optional[int] = ...) -> None: ...

class GetPerformanceStatsResponse(_message.Message):
    __slots__ = ("start_time", "result_count", "media_duration", "processing_duration", "model_versions")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    RESULT_COUNT_FIELD_NUMBER: _ClassVar[int]
    MEDIA_DURATION_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_DURATION_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    result_count: int
    media_duration: _duration_pb2.Duration
    processing_duration: _duration_pb2.Duration
    model_versions: _containers.RepeatedCompositeFieldContainer[ModelVersionStats]
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., result_count: _Optional[int] = ..., media_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., processing_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., model_versions: _Optional[_Iterable[_Union[ModelVersionStats, _Mapping]]] = ...) -> None: ...
