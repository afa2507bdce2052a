import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ModelRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_ROLE_UNSPECIFIED: _ClassVar[ModelRole]
    MODEL_ROLE_FACE_DETECTOR: _ClassVar[ModelRole]
    MODEL_ROLE_FACE_EMOTION: _ClassVar[ModelRole]
    MODEL_ROLE_AUDIO_LAUGHTER: _ClassVar[ModelRole]
    MODEL_ROLE_FACE_LANDMARKS: _ClassVar[ModelRole]
MODEL_ROLE_UNSPECIFIED: ModelRole
MODEL_ROLE_FACE_DETECTOR: ModelRole
MODEL_ROLE_FACE_EMOTION: ModelRole
MODEL_ROLE_AUDIO_LAUGHTER: ModelRole
MODEL_ROLE_FACE_LANDMARKS: ModelRole

class ModelInfo(_message.Message):
    __slots__ = ("name", "version", "role", "backend", "sha256", "ready", "load_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    LOAD_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    role: ModelRole
    backend: str
    sha256: str
    ready: bool
    load_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., role: _Optional[_Union[ModelRole, str]] = ..., backend: _Optional[str] = ..., sha256: _Optional[str] = ..., ready: _Optional[bool] = ..., load_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
