from laughter.v1 import analysis_pb2 as _analysis_pb2
from laughter.v1 import media_pb2 as _media_pb2
from laughter.v1 import model_pb2 as _model_pb2
from laughter.v1 import results_pb2 as _results_pb2
from laughter.v1 import session_pb2 as _session_pb2
from laughter.v1 import summary_pb2 as _summary_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AnalyzeMediaRequest(_message.Message):
    __slots__ = ("content", "filename", "options", "client_id", "fresh")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    FRESH_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    filename: str
    options: _analysis_pb2.AnalysisOptions
    client_id: str
    fresh: bool
    def __init__(self, content: _Optional[bytes] = ..., filename: _Optional[str] = ..., options: _Optional[_Union[_analysis_pb2.AnalysisOptions, _Mapping]] = ..., client_id: _Optional[str] = ..., fresh: _Optional[bool] = ...) -> None: ...

class AnalyzeMediaResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _summary_pb2.AnalysisResult
    def __init__(self, result: _Optional[_Union[_summary_pb2.AnalysisResult, _Mapping]] = ...) -> None: ...

class AnalyzeMediaUploadHeader(_message.Message):
    __slots__ = ("filename", "size_bytes", "options", "client_id", "fresh")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    FRESH_FIELD_NUMBER: _ClassVar[int]
    filename: str
    size_bytes: int
    options: _analysis_pb2.AnalysisOptions
    client_id: str
    fresh: bool
    def __init__(self, filename: _Optional[str] = ..., size_bytes: _Optional[int] = ..., options: _Optional[_Union[_analysis_pb2.AnalysisOptions, _Mapping]] = ..., client_id: _Optional[str] = ..., fresh: _Optional[bool] = ...) -> None: ...

class AnalyzeMediaUploadRequest(_message.Message):
    __slots__ = ("header", "content_chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CONTENT_CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: AnalyzeMediaUploadHeader
    content_chunk: bytes
    def __init__(self, header: _Optional[_Union[AnalyzeMediaUploadHeader, _Mapping]] = ..., content_chunk: _Optional[bytes] = ...) -> None: ...

class AnalyzeMediaUploadResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _summary_pb2.AnalysisResult
    def __init__(self, result: _Optional[_Union[_summary_pb2.AnalysisResult, _Mapping]] = ...) -> None: ...

class StreamingAnalyzeRequest(_message.Message):
    __slots__ = ("config", "chunk")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    config: _session_pb2.SessionConfig
    chunk: _media_pb2.MediaChunk
    def __init__(self, config: _Optional[_Union[_session_pb2.SessionConfig, _Mapping]] = ..., chunk: _Optional[_Union[_media_pb2.MediaChunk, _Mapping]] = ...) -> None: ...

class StreamingAnalyzeResponse(_message.Message):
    __slots__ = ("update",)
    UPDATE_FIELD_NUMBER: _ClassVar[int]
    update: _session_pb2.SessionUpdate
    def __init__(self, update: _Optional[_Union[_session_pb2.SessionUpdate, _Mapping]] = ...) -> None: ...

class CreateSessionRequest(_message.Message):
    __slots__ = ("config",)
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    config: _session_pb2.SessionConfig
    def __init__(self, config: _Optional[_Union[_session_pb2.SessionConfig, _Mapping]] = ...) -> None: ...

class CreateSessionResponse(_message.Message):
    __slots__ = ("session_id", "started")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    started: _session_pb2.SessionStarted
    def __init__(self, session_id: _Optional[str] = ..., started: _Optional[_Union[_session_pb2.SessionStarted, _Mapping]] = ...) -> None: ...

class AppendSessionMediaRequest(_message.Message):
    __slots__ = ("session_id", "chunks")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    chunks: _containers.RepeatedCompositeFieldContainer[_media_pb2.MediaChunk]
    def __init__(self, session_id: _Optional[str] = ..., chunks: _Optional[_Iterable[_Union[_media_pb2.MediaChunk, _Mapping]]] = ...) -> None: ...

class AppendSessionMediaResponse(_message.Message):
    __slots__ = ("progress",)
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    progress: _session_pb2.Progress
    def __init__(self, progress: _Optional[_Union[_session_pb2.Progress, _Mapping]] = ...) -> None: ...

class WatchSessionRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class WatchSessionResponse(_message.Message):
    __slots__ = ("update",)
    UPDATE_FIELD_NUMBER: _ClassVar[int]
    update: _session_pb2.SessionUpdate
    def __init__(self, update: _Optional[_Union[_session_pb2.SessionUpdate, _Mapping]] = ...) -> None: ...

class EndSessionRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class EndSessionResponse(_message.Message):
    __slots__ = ("summary", "events")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    summary: _summary_pb2.AnalysisSummary
    events: _containers.RepeatedCompositeFieldContainer[_analysis_pb2.LaughterEvent]
    def __init__(self, summary: _Optional[_Union[_summary_pb2.AnalysisSummary, _Mapping]] = ..., events: _Optional[_Iterable[_Union[_analysis_pb2.LaughterEvent, _Mapping]]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models", "audio_model_split")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    AUDIO_MODEL_SPLIT_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[_model_pb2.ModelInfo]
    audio_model_split: _containers.RepeatedCompositeFieldContainer[AudioModelShare]
    def __init__(self, models: _Optional[_Iterable[_Union[_model_pb2.ModelInfo, _Mapping]]] = ..., audio_model_split: _Optional[_Iterable[_Union[AudioModelShare, _Mapping]]] = ...) -> None: ...

class ReloadModelRequest(_message.Message):
    __slots__ = ("model_name", "version", "replace_version")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    REPLACE_VERSION_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    version: str
    replace_version: str
    def __init__(self, model_name: _Optional[str] = ..., version: _Optional[str] = ..., replace_version: _Optional[str] = ...) -> None: ...

class ReloadModelResponse(_message.Message):
    __slots__ = ("model", "audio_model_split")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    AUDIO_MODEL_SPLIT_FIELD_NUMBER: _ClassVar[int]
    model: _model_pb2.ModelInfo
    audio_model_split: _containers.RepeatedCompositeFieldContainer[AudioModelShare]
    def __init__(self, model: _Optional[_Union[_model_pb2.ModelInfo, _Mapping]] = ..., audio_model_split: _Optional[_Iterable[_Union[AudioModelShare, _Mapping]]] = ...) -> None: ...

class AudioModelShare(_message.Message):
    __slots__ = ("model", "percent")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    model: _model_pb2.ModelInfo
    percent: int
    def __init__(self, model: _Optional[_Union[_model_pb2.ModelInfo, _Mapping]] = ..., percent: _Optional[int] = ...) -> None: ...

class SetAudioModelSplitRequest(_message.Message):
    __slots__ = ("split",)
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    split: str
    def __init__(self, split: _Optional[str] = ...) -> None: ...

class SetAudioModelSplitResponse(_message.Message):
    __slots__ = ("shares",)
    SHARES_FIELD_NUMBER: _ClassVar[int]
    shares: _containers.RepeatedCompositeFieldContainer[AudioModelShare]
    def __init__(self, shares: _Optional[_Iterable[_Union[AudioModelShare, _Mapping]]] = ...) -> None: ...
