"""The typed vocabulary of live sessions, tied one to one to the laughter.v1 enums (``api/convert.py`` maps
them, and a test checks that every value on either side has its counterpart)."""

from __future__ import annotations

import enum


class BacklogPolicy(enum.Enum):
    """What happens to frames that find the backlog full (``laughter.v1.BacklogPolicy``)."""

    DROP_OLDEST = "drop_oldest"  # the oldest waiting frame is dropped: live cameras
    BLOCK = "block"  # the reader waits for room: recorded media sent as fast as possible


class DropReason(enum.Enum):
    """Why media of a live session was not analysed (``laughter.v1.DropReason``)."""

    BACKLOG = "backlog"
    UNDECODABLE = "undecodable"
    NOT_MONOTONIC = "not_monotonic"
    TOO_LARGE = "too_large"
    MODEL_UNAVAILABLE = "model_unavailable"


class ErrorReason(enum.Enum):
    """Why a call failed or a chunk was refused (``laughter.v1.ErrorReason``, without its prefix)."""

    MEDIA_EMPTY = "MEDIA_EMPTY"
    MEDIA_UNDECODABLE = "MEDIA_UNDECODABLE"
    MEDIA_NO_STREAMS = "MEDIA_NO_STREAMS"
    MEDIA_TOO_LARGE = "MEDIA_TOO_LARGE"
    FRAME_TOO_LARGE = "FRAME_TOO_LARGE"
    OPTION_OUT_OF_RANGE = "OPTION_OUT_OF_RANGE"
    MODEL_UNAVAILABLE = "MODEL_UNAVAILABLE"
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    SESSION_CONFIG_MISSING = "SESSION_CONFIG_MISSING"
    SESSION_LIMIT_REACHED = "SESSION_LIMIT_REACHED"
    CHUNK_INVALID = "CHUNK_INVALID"
    TIMESTAMP_NOT_MONOTONIC = "TIMESTAMP_NOT_MONOTONIC"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    INTERNAL = "INTERNAL"
    SESSION_CONFIG_INVALID = "SESSION_CONFIG_INVALID"
    SESSION_ALREADY_EXISTS = "SESSION_ALREADY_EXISTS"
    SESSION_CLOSED = "SESSION_CLOSED"
    MODEL_NOT_FOUND = "MODEL_NOT_FOUND"
    MODEL_LOAD_FAILED = "MODEL_LOAD_FAILED"
    SHUTTING_DOWN = "SHUTTING_DOWN"
    CAPACITY_EXCEEDED = "CAPACITY_EXCEEDED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    MEDIA_IS_STILL_IMAGE = "MEDIA_IS_STILL_IMAGE"
    UPLOAD_INVALID = "UPLOAD_INVALID"
    RESULT_NOT_FOUND = "RESULT_NOT_FOUND"
    STORE_UNAVAILABLE = "STORE_UNAVAILABLE"
