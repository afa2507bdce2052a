import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from laughter.v1 import analysis_pb2 as _analysis_pb2
from laughter.v1 import media_pb2 as _media_pb2
from laughter.v1 import model_pb2 as _model_pb2
from laughter.v1 import summary_pb2 as _summary_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BacklogPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BACKLOG_POLICY_UNSPECIFIED: _ClassVar[BacklogPolicy]
    BACKLOG_POLICY_DROP_OLDEST: _ClassVar[BacklogPolicy]
    BACKLOG_POLICY_BLOCK: _ClassVar[BacklogPolicy]

class EventPhase(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_PHASE_UNSPECIFIED: _ClassVar[EventPhase]
    EVENT_PHASE_STARTED: _ClassVar[EventPhase]
    EVENT_PHASE_ONGOING: _ClassVar[EventPhase]
    EVENT_PHASE_ENDED: _ClassVar[EventPhase]

class DropReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DROP_REASON_UNSPECIFIED: _ClassVar[DropReason]
    DROP_REASON_BACKLOG: _ClassVar[DropReason]
    DROP_REASON_UNDECODABLE: _ClassVar[DropReason]
    DROP_REASON_NOT_MONOTONIC: _ClassVar[DropReason]
    DROP_REASON_TOO_LARGE: _ClassVar[DropReason]
    DROP_REASON_MODEL_UNAVAILABLE: _ClassVar[DropReason]
BACKLOG_POLICY_UNSPECIFIED: BacklogPolicy
BACKLOG_POLICY_DROP_OLDEST: BacklogPolicy
BACKLOG_POLICY_BLOCK: BacklogPolicy
EVENT_PHASE_UNSPECIFIED: EventPhase
EVENT_PHASE_STARTED: EventPhase
EVENT_PHASE_ONGOING: EventPhase
EVENT_PHASE_ENDED: EventPhase
DROP_REASON_UNSPECIFIED: DropReason
DROP_REASON_BACKLOG: DropReason
DROP_REASON_UNDECODABLE: DropReason
DROP_REASON_NOT_MONOTONIC: DropReason
DROP_REASON_TOO_LARGE: DropReason
DROP_REASON_MODEL_UNAVAILABLE: DropReason

class SessionConfig(_message.Message):
    __slots__ = ("client_id", "session_id", "video", "audio", "options", "progress_interval", "backlog_policy")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    BACKLOG_POLICY_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    session_id: str
    video: _media_pb2.VideoFormat
    audio: _media_pb2.AudioFormat
    options: _analysis_pb2.AnalysisOptions
    progress_interval: _duration_pb2.Duration
    backlog_policy: BacklogPolicy
    def __init__(self, client_id: _Optional[str] = ..., session_id: _Optional[str] = ..., video: _Optional[_Union[_media_pb2.VideoFormat, _Mapping]] = ..., audio: _Optional[_Union[_media_pb2.AudioFormat, _Mapping]] = ..., options: _Optional[_Union[_analysis_pb2.AnalysisOptions, _Mapping]] = ..., progress_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., backlog_policy: _Optional[_Union[BacklogPolicy, str]] = ...) -> None: ...

class SessionStarted(_message.Message):
    __slots__ = ("session_id", "effective_options", "idle_timeout", "start_time", "models", "result_id")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    RESULT_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    effective_options: _analysis_pb2.AnalysisOptions
    idle_timeout: _duration_pb2.Duration
    start_time: _timestamp_pb2.Timestamp
    models: _containers.RepeatedCompositeFieldContainer[_model_pb2.ModelInfo]
    result_id: str
    def __init__(self, session_id: _Optional[str] = ..., effective_options: _Optional[_Union[_analysis_pb2.AnalysisOptions, _Mapping]] = ..., idle_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., models: _Optional[_Iterable[_Union[_model_pb2.ModelInfo, _Mapping]]] = ..., result_id: _Optional[str] = ...) -> None: ...

class LaughterEventUpdate(_message.Message):
    __slots__ = ("phase", "event", "processed_offset")
    PHASE_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    PROCESSED_OFFSET_FIELD_NUMBER: _ClassVar[int]
    phase: EventPhase
    event: _analysis_pb2.LaughterEvent
    processed_offset: _duration_pb2.Duration
    def __init__(self, phase: _Optional[_Union[EventPhase, str]] = ..., event: _Optional[_Union[_analysis_pb2.LaughterEvent, _Mapping]] = ..., processed_offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class DropCount(_message.Message):
    __slots__ = ("reason", "frame_count", "audio_chunk_count")
    REASON_FIELD_NUMBER: _ClassVar[int]
    FRAME_COUNT_FIELD_NUMBER: _ClassVar[int]
    AUDIO_CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    reason: DropReason
    frame_count: int
    audio_chunk_count: int
    def __init__(self, reason: _Optional[_Union[DropReason, str]] = ..., frame_count: _Optional[int] = ..., audio_chunk_count: _Optional[int] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("processed_offset", "frames_received", "frames_analyzed", "frames_dropped", "drops", "audio_samples_received", "backlog", "events_ended")
    PROCESSED_OFFSET_FIELD_NUMBER: _ClassVar[int]
    FRAMES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    FRAMES_ANALYZED_FIELD_NUMBER: _ClassVar[int]
    FRAMES_DROPPED_FIELD_NUMBER: _ClassVar[int]
    DROPS_FIELD_NUMBER: _ClassVar[int]
    AUDIO_SAMPLES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    BACKLOG_FIELD_NUMBER: _ClassVar[int]
    EVENTS_ENDED_FIELD_NUMBER: _ClassVar[int]
    processed_offset: _duration_pb2.Duration
    frames_received: int
    frames_analyzed: int
    frames_dropped: int
    drops: _containers.RepeatedCompositeFieldContainer[DropCount]
    audio_samples_received: int
    backlog: _duration_pb2.Duration
    events_ended: int
    def __init__(self, processed_offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., frames_received: _Optional[int] = ..., frames_analyzed: _Optional[int] = ..., frames_dropped: _Optional[int] = ..., drops: _Optional[_Iterable[_Union[DropCount, _Mapping]]] = ..., audio_samples_received: _Optional[int] = ..., backlog: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., events_ended: _Optional[int] = ...) -> None: ...

class SessionUpdate(_message.Message):
    __slots__ = ("started", "event", "face_sample", "progress", "warning", "summary")
    STARTED_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    FACE_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    WARNING_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    started: SessionStarted
    event: LaughterEventUpdate
    face_sample: _analysis_pb2.FaceEmotionSample
    progress: Progress
    warning: _status_pb2.Status
    summary: _summary_pb2.AnalysisSummary
    def __init__(self, started: _Optional[_Union[SessionStarted, _Mapping]] = ..., event: _Optional[_Union[LaughterEventUpdate, _Mapping]] = ..., face_sample: _Optional[_Union[_analysis_pb2.FaceEmotionSample, _Mapping]] = ..., progress: _Optional[_Union[Progress, _Mapping]] = ..., warning: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., summary: _Optional[_Union[_summary_pb2.AnalysisSummary, _Mapping]] = ...) -> None: ...
