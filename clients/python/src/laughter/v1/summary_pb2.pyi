import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from laughter.v1 import analysis_pb2 as _analysis_pb2
from laughter.v1 import model_pb2 as _model_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TrendDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TREND_DIRECTION_UNSPECIFIED: _ClassVar[TrendDirection]
    TREND_DIRECTION_INCREASING: _ClassVar[TrendDirection]
    TREND_DIRECTION_DECREASING: _ClassVar[TrendDirection]
    TREND_DIRECTION_STABLE: _ClassVar[TrendDirection]
    TREND_DIRECTION_INSUFFICIENT_DATA: _ClassVar[TrendDirection]

class NoticeCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTICE_CODE_UNSPECIFIED: _ClassVar[NoticeCode]
    NOTICE_CODE_NO_FACES_FOUND: _ClassVar[NoticeCode]
    NOTICE_CODE_NO_AUDIO_STREAM: _ClassVar[NoticeCode]
    NOTICE_CODE_NO_VIDEO_STREAM: _ClassVar[NoticeCode]
    NOTICE_CODE_SILENT_AUDIO: _ClassVar[NoticeCode]
    NOTICE_CODE_VIDEO_DISABLED: _ClassVar[NoticeCode]
    NOTICE_CODE_AUDIO_DISABLED: _ClassVar[NoticeCode]
    NOTICE_CODE_FACE_MODEL_UNAVAILABLE: _ClassVar[NoticeCode]
    NOTICE_CODE_AUDIO_MODEL_UNAVAILABLE: _ClassVar[NoticeCode]
    NOTICE_CODE_MEDIA_DROPPED: _ClassVar[NoticeCode]
    NOTICE_CODE_MEDIA_TRUNCATED: _ClassVar[NoticeCode]
    NOTICE_CODE_NO_MODALITY: _ClassVar[NoticeCode]
    NOTICE_CODE_EVENT_SPLIT: _ClassVar[NoticeCode]
    NOTICE_CODE_RESULT_NOT_STORED: _ClassVar[NoticeCode]
    NOTICE_CODE_SECOND_AUDIO_MODEL_UNAVAILABLE: _ClassVar[NoticeCode]
TREND_DIRECTION_UNSPECIFIED: TrendDirection
TREND_DIRECTION_INCREASING: TrendDirection
TREND_DIRECTION_DECREASING: TrendDirection
TREND_DIRECTION_STABLE: TrendDirection
TREND_DIRECTION_INSUFFICIENT_DATA: TrendDirection
NOTICE_CODE_UNSPECIFIED: NoticeCode
NOTICE_CODE_NO_FACES_FOUND: NoticeCode
NOTICE_CODE_NO_AUDIO_STREAM: NoticeCode
NOTICE_CODE_NO_VIDEO_STREAM: NoticeCode
NOTICE_CODE_SILENT_AUDIO: NoticeCode
NOTICE_CODE_VIDEO_DISABLED: NoticeCode
NOTICE_CODE_AUDIO_DISABLED: NoticeCode
NOTICE_CODE_FACE_MODEL_UNAVAILABLE: NoticeCode
NOTICE_CODE_AUDIO_MODEL_UNAVAILABLE: NoticeCode
NOTICE_CODE_MEDIA_DROPPED: NoticeCode
NOTICE_CODE_MEDIA_TRUNCATED: NoticeCode
NOTICE_CODE_NO_MODALITY: NoticeCode
NOTICE_CODE_EVENT_SPLIT: NoticeCode
NOTICE_CODE_RESULT_NOT_STORED: NoticeCode
NOTICE_CODE_SECOND_AUDIO_MODEL_UNAVAILABLE: NoticeCode

class Notice(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: NoticeCode
    message: str
    def __init__(self, code: _Optional[_Union[NoticeCode, str]] = ..., message: _Optional[str] = ...) -> None: ...

class ConfidenceInterval(_message.Message):
    __slots__ = ("lower", "upper", "level", "method")
    LOWER_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    lower: float
    upper: float
    level: float
    method: str
    def __init__(self, lower: _Optional[float] = ..., upper: _Optional[float] = ..., level: _Optional[float] = ..., method: _Optional[str] = ...) -> None: ...

class DurationAnalysis(_message.Message):
    __slots__ = ("event_count", "total_laughter_duration", "mean_event_duration", "longest_event_duration", "laughs_per_minute", "laughter_fraction", "laughs_per_minute_ci", "laughter_fraction_ci")
    EVENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_LAUGHTER_DURATION_FIELD_NUMBER: _ClassVar[int]
    MEAN_EVENT_DURATION_FIELD_NUMBER: _ClassVar[int]
    LONGEST_EVENT_DURATION_FIELD_NUMBER: _ClassVar[int]
    LAUGHS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    LAUGHTER_FRACTION_FIELD_NUMBER: _ClassVar[int]
    LAUGHS_PER_MINUTE_CI_FIELD_NUMBER: _ClassVar[int]
    LAUGHTER_FRACTION_CI_FIELD_NUMBER: _ClassVar[int]
    event_count: int
    total_laughter_duration: _duration_pb2.Duration
    mean_event_duration: _duration_pb2.Duration
    longest_event_duration: _duration_pb2.Duration
    laughs_per_minute: float
    laughter_fraction: float
    laughs_per_minute_ci: ConfidenceInterval
    laughter_fraction_ci: ConfidenceInterval
    def __init__(self, event_count: _Optional[int] = ..., total_laughter_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., mean_event_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., longest_event_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., laughs_per_minute: _Optional[float] = ..., laughter_fraction: _Optional[float] = ..., laughs_per_minute_ci: _Optional[_Union[ConfidenceInterval, _Mapping]] = ..., laughter_fraction_ci: _Optional[_Union[ConfidenceInterval, _Mapping]] = ...) -> None: ...

class TrendBin(_message.Message):
    __slots__ = ("start_offset", "end_offset", "event_count", "laughter_duration", "mean_happy")
    START_OFFSET_FIELD_NUMBER: _ClassVar[int]
    END_OFFSET_FIELD_NUMBER: _ClassVar[int]
    EVENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAUGHTER_DURATION_FIELD_NUMBER: _ClassVar[int]
    MEAN_HAPPY_FIELD_NUMBER: _ClassVar[int]
    start_offset: _duration_pb2.Duration
    end_offset: _duration_pb2.Duration
    event_count: int
    laughter_duration: _duration_pb2.Duration
    mean_happy: float
    def __init__(self, start_offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., end_offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., event_count: _Optional[int] = ..., laughter_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., mean_happy: _Optional[float] = ...) -> None: ...

class Trend(_message.Message):
    __slots__ = ("direction", "slope_per_minute", "bins")
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    SLOPE_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    BINS_FIELD_NUMBER: _ClassVar[int]
    direction: TrendDirection
    slope_per_minute: float
    bins: _containers.RepeatedCompositeFieldContainer[TrendBin]
    def __init__(self, direction: _Optional[_Union[TrendDirection, str]] = ..., slope_per_minute: _Optional[float] = ..., bins: _Optional[_Iterable[_Union[TrendBin, _Mapping]]] = ...) -> None: ...

class LaughterTypeCount(_message.Message):
    __slots__ = ("laughter_type", "event_count", "total_duration")
    LAUGHTER_TYPE_FIELD_NUMBER: _ClassVar[int]
    EVENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DURATION_FIELD_NUMBER: _ClassVar[int]
    laughter_type: _analysis_pb2.LaughterType
    event_count: int
    total_duration: _duration_pb2.Duration
    def __init__(self, laughter_type: _Optional[_Union[_analysis_pb2.LaughterType, str]] = ..., event_count: _Optional[int] = ..., total_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class FaceSummary(_message.Message):
    __slots__ = ("face_id", "frames_seen", "first_seen_offset", "last_seen_offset", "emotion_breakdown", "dominant_emotion", "event_count", "dominant_laughter_type", "smiling", "mouth_open")
    FACE_ID_FIELD_NUMBER: _ClassVar[int]
    FRAMES_SEEN_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_OFFSET_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_OFFSET_FIELD_NUMBER: _ClassVar[int]
    EMOTION_BREAKDOWN_FIELD_NUMBER: _ClassVar[int]
    DOMINANT_EMOTION_FIELD_NUMBER: _ClassVar[int]
    EVENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    DOMINANT_LAUGHTER_TYPE_FIELD_NUMBER: _ClassVar[int]
    SMILING_FIELD_NUMBER: _ClassVar[int]
    MOUTH_OPEN_FIELD_NUMBER: _ClassVar[int]
    face_id: int
    frames_seen: int
    first_seen_offset: _duration_pb2.Duration
    last_seen_offset: _duration_pb2.Duration
    emotion_breakdown: _containers.RepeatedCompositeFieldContainer[_analysis_pb2.EmotionScore]
    dominant_emotion: _analysis_pb2.Emotion
    event_count: int
    dominant_laughter_type: _analysis_pb2.LaughterType
    smiling: float
    mouth_open: float
    def __init__(self, face_id: _Optional[int] = ..., frames_seen: _Optional[int] = ..., first_seen_offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., last_seen_offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., emotion_breakdown: _Optional[_Iterable[_Union[_analysis_pb2.EmotionScore, _Mapping]]] = ..., dominant_emotion: _Optional[_Union[_analysis_pb2.Emotion, str]] = ..., event_count: _Optional[int] = ..., dominant_laughter_type: _Optional[_Union[_analysis_pb2.LaughterType, str]] = ..., smiling: _Optional[float] = ..., mouth_open: _Optional[float] = ...) -> None: ...

class MediaSummary(_message.Message):
    __slots__ = ("media_duration", "has_video", "has_audio", "frames_analyzed", "frames_with_faces", "faces_detected", "analysis_frame_rate_hertz", "container", "video_codec", "audio_codec", "video_width", "video_height", "video_frame_rate_hertz", "audio_sample_rate_hertz", "audio_channel_count")
    MEDIA_DURATION_FIELD_NUMBER: _ClassVar[int]
    HAS_VIDEO_FIELD_NUMBER: _ClassVar[int]
    HAS_AUDIO_FIELD_NUMBER: _ClassVar[int]
    FRAMES_ANALYZED_FIELD_NUMBER: _ClassVar[int]
    FRAMES_WITH_FACES_FIELD_NUMBER: _ClassVar[int]
    FACES_DETECTED_FIELD_NUMBER: _ClassVar[int]
    ANALYSIS_FRAME_RATE_HERTZ_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_FIELD_NUMBER: _ClassVar[int]
    VIDEO_CODEC_FIELD_NUMBER: _ClassVar[int]
    AUDIO_CODEC_FIELD_NUMBER: _ClassVar[int]
    VIDEO_WIDTH_FIELD_NUMBER: _ClassVar[int]
    VIDEO_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    VIDEO_FRAME_RATE_HERTZ_FIELD_NUMBER: _ClassVar[int]
    AUDIO_SAMPLE_RATE_HERTZ_FIELD_NUMBER: _ClassVar[int]
    AUDIO_CHANNEL_COUNT_FIELD_NUMBER: _ClassVar[int]
    media_duration: _duration_pb2.Duration
    has_video: bool
    has_audio: bool
    frames_analyzed: int
    frames_with_faces: int
    faces_detected: int
    analysis_frame_rate_hertz: float
    container: str
    video_codec: str
    audio_codec: str
    video_width: int
    video_height: int
    video_frame_rate_hertz: float
    audio_sample_rate_hertz: int
    audio_channel_count: int
    def __init__(self, media_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., has_video: _Optional[bool] = ..., has_audio: _Optional[bool] = ..., frames_analyzed: _Optional[int] = ..., frames_with_faces: _Optional[int] = ..., faces_detected: _Optional[int] = ..., analysis_frame_rate_hertz: _Optional[float] = ..., container: _Optional[str] = ..., video_codec: _Optional[str] = ..., audio_codec: _Optional[str] = ..., video_width: _Optional[int] = ..., video_height: _Optional[int] = ..., video_frame_rate_hertz: _Optional[float] = ..., audio_sample_rate_hertz: _Optional[int] = ..., audio_channel_count: _Optional[int] = ...) -> None: ...

class StageTiming(_message.Message):
    __slots__ = ("stage", "duration")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    stage: str
    duration: _duration_pb2.Duration
    def __init__(self, stage: _Optional[str] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class AnalysisSummary(_message.Message):
    __slots__ = ("laughter_detected", "dominant_laughter_type", "overall_confidence", "dominant_emotion", "emotion_breakdown", "durations", "trend", "type_counts", "faces", "media", "notices", "processing_duration", "stage_timings", "models", "result_id")
    LAUGHTER_DETECTED_FIELD_NUMBER: _ClassVar[int]
    DOMINANT_LAUGHTER_TYPE_FIELD_NUMBER: _ClassVar[int]
    OVERALL_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    DOMINANT_EMOTION_FIELD_NUMBER: _ClassVar[int]
    EMOTION_BREAKDOWN_FIELD_NUMBER: _ClassVar[int]
    DURATIONS_FIELD_NUMBER: _ClassVar[int]
    TREND_FIELD_NUMBER: _ClassVar[int]
    TYPE_COUNTS_FIELD_NUMBER: _ClassVar[int]
    FACES_FIELD_NUMBER: _ClassVar[int]
    MEDIA_FIELD_NUMBER: _ClassVar[int]
    NOTICES_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_DURATION_FIELD_NUMBER: _ClassVar[int]
    STAGE_TIMINGS_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    RESULT_ID_FIELD_NUMBER: _ClassVar[int]
    laughter_detected: bool
    dominant_laughter_type: _analysis_pb2.LaughterType
    overall_confidence: float
    dominant_emotion: _analysis_pb2.Emotion
    emotion_breakdown: _containers.RepeatedCompositeFieldContainer[_analysis_pb2.EmotionScore]
    durations: DurationAnalysis
    trend: Trend
    type_counts: _containers.RepeatedCompositeFieldContainer[LaughterTypeCount]
    faces: _containers.RepeatedCompositeFieldContainer[FaceSummary]
    media: MediaSummary
    notices: _containers.RepeatedCompositeFieldContainer[Notice]
    processing_duration: _duration_pb2.Duration
    stage_timings: _containers.RepeatedCompositeFieldContainer[StageTiming]
    models: _containers.RepeatedCompositeFieldContainer[_model_pb2.ModelInfo]
    result_id: str
    def __init__(self, laughter_detected: _Optional[bool] = ..., dominant_laughter_type: _Optional[_Union[_analysis_pb2.LaughterType, str]] = ..., overall_confidence: _Optional[float] = ..., dominant_emotion: _Optional[_Union[_analysis_pb2.Emotion, str]] = ..., emotion_breakdown: _Optional[_Iterable[_Union[_analysis_pb2.EmotionScore, _Mapping]]] = ..., durations: _Optional[_Union[DurationAnalysis, _Mapping]] = ..., trend: _Optional[_Union[Trend, _Mapping]] = ..., type_counts: _Optional[_Iterable[_Union[LaughterTypeCount, _Mapping]]] = ..., faces: _Optional[_Iterable[_Union[FaceSummary, _Mapping]]] = ..., media: _Optional[_Union[MediaSummary, _Mapping]] = ..., notices: _Optional[_Iterable[_Union[Notice, _Mapping]]] = ..., processing_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., stage_timings: _Optional[_Iterable[_Union[StageTiming, _Mapping]]] = ..., models: _Optional[_Iterable[_Union[_model_pb2.ModelInfo, _Mapping]]] = ..., result_id: _Optional[str] = ...) -> None: ...

class AnalysisResult(_message.Message):
    __slots__ = ("events", "summary", "face_samples", "request_id", "cached")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    FACE_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CACHED_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_analysis_pb2.LaughterEvent]
    summary: AnalysisSummary
    face_samples: _containers.RepeatedCompositeFieldContainer[_analysis_pb2.FaceEmotionSample]
    request_id: str
    cached: bool
    def __init__(self, events: _Optional[_Iterable[_Union[_analysis_pb2.LaughterEvent, _Mapping]]] = ..., summary: _Optional[_Union[AnalysisSummary, _Mapping]] = ..., face_samples: _Optional[_Iterable[_Union[_analysis_pb2.FaceEmotionSample, _Mapping]]] = ..., request_id: _Optional[str] = ..., cached: _Optional[bool] = ...) -> None: ...
