"""The service's exception tree. No gRPC here: ``api/status.py`` maps each type to a status code.

::

    LaughterError
    ├── InvalidMediaError          (INVALID_ARGUMENT)
    │   ├── EmptyMediaError
    │   ├── UndecodableMediaError
    │   ├── NoMediaStreamsError
    │   ├── StillImageError
    │   └── FrameTooLargeError
    ├── InvalidOptionError         (INVALID_ARGUMENT, with the offending field)
    │   └── UploadInvalidError     (an AnalyzeMediaUpload stream broke its protocol)
    ├── MediaTooLargeError         (RESOURCE_EXHAUSTED)
    ├── CapacityExceededError      (RESOURCE_EXHAUSTED, with a retry hint)
    ├── ModelUnavailableError      (UNAVAILABLE, with a retry hint)
    ├── ModelLoadError             (FAILED_PRECONDITION at start-up / reload)
    ├── AnalysisTimeoutError       (DEADLINE_EXCEEDED)
    ├── SessionConfigError         (INVALID_ARGUMENT, with the offending field)
    ├── SessionNotFoundError       (NOT_FOUND)
    ├── SessionExistsError         (ALREADY_EXISTS)
    ├── SessionClosedError         (FAILED_PRECONDITION)
    ├── ShuttingDownError          (UNAVAILABLE)
    ├── ResultNotFoundError        (NOT_FOUND)
    └── StoreUnavailableError      (UNAVAILABLE, with a retry hint)
"""

from __future__ import annotations


class LaughterError(Exception):
    """Base of every error the service raises on purpose; its message is safe to show to a client."""

    reason = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidMediaError(LaughterError):
    """The media bytes cannot be analysed as sent."""

    reason = "MEDIA_UNDECODABLE"


class EmptyMediaError(InvalidMediaError):
    """No bytes were sent."""

    reason = "MEDIA_EMPTY"


class UndecodableMediaError(InvalidMediaError):
    """The bytes are not a container/codec that can be decoded, or the file is truncated."""

    reason = "MEDIA_UNDECODABLE"


class NoMediaStreamsError(InvalidMediaError):
    """The container holds neither a usable video nor an audio stream."""

    reason = "MEDIA_NO_STREAMS"


class StillImageError(InvalidMediaError):
    """The media is a single picture, which cannot show laughter over time."""

    reason = "MEDIA_IS_STILL_IMAGE"


class FrameTooLargeError(InvalidMediaError):
    """The video frame size is beyond what the service accepts."""

    reason = "FRAME_TOO_LARGE"


class InvalidOptionError(LaughterError):
    """A request option is out of range; ``field`` is its path in the request."""

    reason = "OPTION_OUT_OF_RANGE"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UploadInvalidError(InvalidOptionError):
    """An AnalyzeMediaUpload stream broke its protocol (header order, announced size)."""

    reason = "UPLOAD_INVALID"


class MediaTooLargeError(LaughterError):
    """The media is longer or bigger than the configured limit."""

    reason = "MEDIA_TOO_LARGE"


class CapacityExceededError(LaughterError):
    """The server is at its configured capacity; the client may retry later."""

    reason = "CAPACITY_EXCEEDED"

    def __init__(self, message: str, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ModelUnavailableError(LaughterError):
    """The inference server cannot be reached or is not ready."""

    reason = "MODEL_UNAVAILABLE"

    def __init__(self, message: str, retry_after_s: float = 2.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ModelLoadError(LaughterError):
    """A model artifact is missing, corrupt or does not match its recorded checksum."""

    reason = "MODEL_LOAD_FAILED"


class AnalysisTimeoutError(LaughterError):
    """The analysis did not finish within the request's deadline."""

    reason = "DEADLINE_EXCEEDED"


class SessionConfigError(InvalidOptionError):
    """The session's configuration is missing or invalid."""

    reason = "SESSION_CONFIG_INVALID"

    def __init__(self, field: str, message: str, reason: str = "SESSION_CONFIG_INVALID") -> None:
        super().__init__(field, message)
        self.reason = reason


class SessionNotFoundError(LaughterError):
    """No open session has this id."""

    reason = "SESSION_NOT_FOUND"


class SessionExistsError(LaughterError):
    """A session with this id is already open."""

    reason = "SESSION_ALREADY_EXISTS"


class SessionClosedError(LaughterError):
    """The session no longer takes media."""

    reason = "SESSION_CLOSED"


class ShuttingDownError(LaughterError):
    """The server is draining and takes no new sessions."""

    reason = "SHUTTING_DOWN"

    def __init__(self, message: str, retry_after_s: float = 5.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ResultNotFoundError(LaughterError):
    """No stored result of the caller has this id (another owner's id answers the same)."""

    reason = "RESULT_NOT_FOUND"


class StoreUnavailableError(LaughterError):
    """The results store cannot be reached."""

    reason = "STORE_UNAVAILABLE"

    def __init__(self, message: str, retry_after_s: float = 2.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
