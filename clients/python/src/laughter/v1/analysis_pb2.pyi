import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Emotion(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EMOTION_UNSPECIFIED: _ClassVar[Emotion]
    EMOTION_ANGRY: _ClassVar[Emotion]
    EMOTION_DISGUST: _ClassVar[Emotion]
    EMOTION_FEAR: _ClassVar[Emotion]
    EMOTION_HAPPY: _ClassVar[Emotion]
    EMOTION_SAD: _ClassVar[Emotion]
    EMOTION_SURPRISE: _ClassVar[Emotion]
    EMOTION_NEUTRAL: _ClassVar[Emotion]

class LaughterType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LAUGHTER_TYPE_UNSPECIFIED: _ClassVar[LaughterType]
    LAUGHTER_TYPE_JOYFUL: _ClassVar[LaughterType]
    LAUGHTER_TYPE_SURPRISED: _ClassVar[LaughterType]
    LAUGHTER_TYPE_NERVOUS: _ClassVar[LaughterType]
    LAUGHTER_TYPE_POLITE: _ClassVar[LaughterType]
    LAUGHTER_TYPE_SOFT_CHUCKLE: _ClassVar[LaughterType]
    LAUGHTER_TYPE_MILD_AMUSEMENT: _ClassVar[LaughterType]
    LAUGHTER_TYPE_NONE: _ClassVar[LaughterType]

class EvidenceSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVIDENCE_SOURCE_UNSPECIFIED: _ClassVar[EvidenceSource]
    EVIDENCE_SOURCE_AUDIO: _ClassVar[EvidenceSource]
    EVIDENCE_SOURCE_FACE: _ClassVar[EvidenceSource]
    EVIDENCE_SOURCE_AUDIO_AND_FACE: _ClassVar[EvidenceSource]
EMOTION_UNSPECIFIED: Emotion
EMOTION_ANGRY: Emotion
EMOTION_DISGUST: Emotion
EMOTION_FEAR: Emotion
EMOTION_HAPPY: Emotion
EMOTION_SAD: Emotion
EMOTION_SURPRISE: Emotion
EMOTION_NEUTRAL: Emotion
LAUGHTER_TYPE_UNSPECIFIED: LaughterType
LAUGHTER_TYPE_JOYFUL: LaughterType
LAUGHTER_TYPE_SURPRISED: LaughterType
LAUGHTER_TYPE_NERVOUS: LaughterType
LAUGHTER_TYPE_POLITE: LaughterType
LAUGHTER_TYPE_SOFT_CHUCKLE: LaughterType
LAUGHTER_TYPE_MILD_AMUSEMENT: LaughterType
LAUGHTER_TYPE_NONE: LaughterType
EVIDENCE_SOURCE_UNSPECIFIED: EvidenceSource
EVIDENCE_SOURCE_AUDIO: EvidenceSource
EVIDENCE_SOURCE_FACE: EvidenceSource
EVIDENCE_SOURCE_AUDIO_AND_FACE: EvidenceSource

class AnalysisOptions(_message.Message):
    __slots__ = ("analysis_frame_rate_hertz", "disable_video", "disable_audio", "laughter_threshold", "min_event_duration", "max_faces", "include_face_samples")
    ANALYSIS_FRAME_RATE_HERTZ_FIELD_NUMBER: _ClassVar[int]
    DISABLE_VIDEO_FIELD_NUMBER: _ClassVar[int]
    DISABLE_AUDIO_FIELD_NUMBER: _ClassVar[int]
    LAUGHTER_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    MIN_EVENT_DURATION_FIELD_NUMBER: _ClassVar[int]
    MAX_FACES_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_FACE_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    analysis_frame_rate_hertz: float
    disable_video: bool
    disable_audio: bool
    laughter_threshold: float
    min_event_duration: _duration_pb2.Duration
    max_faces: int
    include_face_samples: bool
    def __init__(self, analysis_frame_rate_hertz: _Optional[float] = ..., disable_video: _Optional[bool] = ..., disable_audio: _Optional[bool] = ..., laughter_threshold: _Optional[float] = ..., min_event_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_faces: _Optional[int] = ..., include_face_samples: _Optional[bool] = ...) -> None: ...

class EmotionScore(_message.Message):
    __slots__ = ("emotion", "score")
    EMOTION_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    emotion: Emotion
    score: float
    def __init__(self, emotion: _Optional[_Union[Emotion, str]] = ..., score: _Optional[float] = ...) -> None: ...

class NormalizedBoundingBox(_message.Message):
    __slots__ = ("left", "top", "right", "bottom")
    LEFT_FIELD_NUMBER: _ClassVar[int]
    TOP_FIELD_NUMBER: _ClassVar[int]
    RIGHT_FIELD_NUMBER: _ClassVar[int]
    BOTTOM_FIELD_NUMBER: _ClassVar[int]
    left: float
    top: float
    right: float
    bottom: float
    def __init__(self, left: _Optional[float] = ..., top: _Optional[float] = ..., right: _Optional[float] = ..., bottom: _Optional[float] = ...) -> None: ...

class FaceEmotionSample(_message.Message):
    __slots__ = ("offset", "face_id", "box", "detection_confidence", "scores", "dominant_emotion", "smiling", "mouth_open")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    FACE_ID_FIELD_NUMBER: _ClassVar[int]
    BOX_FIELD_NUMBER: _ClassVar[int]
    DETECTION_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    DOMINANT_EMOTION_FIELD_NUMBER: _ClassVar[int]
    SMILING_FIELD_NUMBER: _ClassVar[int]
    MOUTH_OPEN_FIELD_NUMBER: _ClassVar[int]
    offset: _duration_pb2.Duration
    face_id: int
    box: NormalizedBoundingBox
    detection_confidence: float
    scores: _containers.RepeatedCompositeFieldContainer[EmotionScore]
    dominant_emotion: Emotion
    smiling: float
    mouth_open: float
    def __init__(self, offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., face_id: _Optional[int] = ..., box: _Optional[_Union[NormalizedBoundingBox, _Mapping]] = ..., detection_confidence: _Optional[float] = ..., scores: _Optional[_Iterable[_Union[EmotionScore, _Mapping]]] = ..., dominant_emotion: _Optional[_Union[Emotion, str]] = ..., smiling: _Optional[float] = ..., mouth_open: _Optional[float] = ...) -> None: ...

class EventEvidence(_message.Message):
    __slots__ = ("source", "audio_probability", "face_happy", "face_surprise", "face_fear", "face_neutral", "audio_loudness_dbfs", "burst_rate_hertz", "face_coverage", "relative_loudness_db")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    AUDIO_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    FACE_HAPPY_FIELD_NUMBER: _ClassVar[int]
    FACE_SURPRISE_FIELD_NUMBER: _ClassVar[int]
    FACE_FEAR_FIELD_NUMBER: _ClassVar[int]
    FACE_NEUTRAL_FIELD_NUMBER: _ClassVar[int]
    AUDIO_LOUDNESS_DBFS_FIELD_NUMBER: _ClassVar[int]
    BURST_RATE_HERTZ_FIELD_NUMBER: _ClassVar[int]
    FACE_COVERAGE_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_LOUDNESS_DB_FIELD_NUMBER: _ClassVar[int]
    source: EvidenceSource
    audio_probability: float
    face_happy: float
    face_surprise: float
    face_fear: float
    face_neutral: float
    audio_loudness_dbfs: float
    burst_rate_hertz: float
    face_coverage: float
    relative_loudness_db: float
    def __init__(self, source: _Optional[_Union[EvidenceSource, str]] = ..., audio_probability: _Optional[float] = ..., face_happy: _Optional[float] = ..., face_surprise: _Optional[float] = ..., face_fear: _Optional[float] = ..., face_neutral: _Optional[float] = ..., audio_loudness_dbfs: _Optional[float] = ..., burst_rate_hertz: _Optional[float] = ..., face_coverage: _Optional[float] = ..., relative_loudness_db: _Optional[float] = ...) -> None: ...

class LaughterEvent(_message.Message):
    __slots__ = ("event_id", "start_offset", "end_offset", "peak_offset", "confidence", "laughter_type", "face_id", "evidence")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    START_OFFSET_FIELD_NUMBER: _ClassVar[int]
    END_OFFSET_FIELD_NUMBER: _ClassVar[int]
    PEAK_OFFSET_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    LAUGHTER_TYPE_FIELD_NUMBER: _ClassVar[int]
    FACE_ID_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    start_offset: _duration_pb2.Duration
    end_offset: _duration_pb2.Duration
    peak_offset: _duration_pb2.Duration
    confidence: float
    laughter_type: LaughterType
    face_id: int
    evidence: EventEvidence
    def __init__(self, event_id: _Optional[str] = ..., start_offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., end_offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., peak_offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., confidence: _Optional[float] = ..., laughter_type: _Optional[_Union[LaughterType, str]] = ..., face_id: _Optional[int] = ..., evidence: _Optional[_Union[EventEvidence, _Mapping]] = ...) -> None: ...
