"""The SDK's exceptions. Every error the SDK raises is a :class:`LaughterError`; no ``grpc.RpcError`` escapes.

The tree::

    LaughterError                       base of every SDK error
    ├── ClientClosedError               the client was used after close()
    ├── ConfigurationError              unusable client options: an unreadable certificate (also a ValueError)
    ├── SessionClosedError              media sent to a live session after close() or after it ended
    ├── MissingDependencyError          an optional extra is not installed (also an ImportError)
    ├── MediaSourceError                a local media source failed: no camera, an undecodable file
    ├── MediaFileError                  a local file problem, raised before any RPC
    │   ├── MediaFileNotFoundError      also a FileNotFoundError
    │   ├── MediaIsADirectoryError      also an IsADirectoryError
    │   └── MediaFileUnreadableError    also a PermissionError (or other OSError) while reading
    └── ApiError                        the call failed with a gRPC status (.code, .reason, .message, ...)
        ├── TransportError              the call did not complete
        │   ├── ServiceUnavailableError     UNAVAILABLE: no connection, server down or a model not serving
        │   └── DeadlineExceededError       DEADLINE_EXCEEDED
        ├── InvalidArgumentError        INVALID_ARGUMENT (.field_violations from google.rpc.BadRequest)
        │   └── InvalidMediaError           reasons MEDIA_EMPTY, MEDIA_UNDECODABLE, MEDIA_NO_STREAMS,
        │                                   MEDIA_IS_STILL_IMAGE
        ├── ResourceExhaustedError      RESOURCE_EXHAUSTED (.retry_after_s from google.rpc.RetryInfo)
        │   └── MediaTooLargeError          reason MEDIA_TOO_LARGE
        ├── NotFoundError               NOT_FOUND
        ├── AlreadyExistsError          ALREADY_EXISTS
        ├── FailedPreconditionError     FAILED_PRECONDITION
        ├── PermissionDeniedError       PERMISSION_DENIED
        │   └── UnauthenticatedError        UNAUTHENTICATED: a missing or wrong auth token
        ├── CancelledError              CANCELLED
        └── ServerError                 INTERNAL, UNKNOWN and every other code

:func:`map_rpc_error` is the one place where a ``grpc.RpcError`` becomes one of these.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

__all__ = [
    "AlreadyExistsError",
    "ApiError",
    "CancelledError",
    "ClientClosedError",
    "ConfigurationError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "FieldViolation",
    "InvalidArgumentError",
    "InvalidMediaError",
    "LaughterError",
    "MediaFileError",
    "MediaFileNotFoundError",
    "MediaFileUnreadableError",
    "MediaIsADirectoryError",
    "MediaSourceError",
    "MediaTooLargeError",
    "MissingDependencyError",
    "NotFoundError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "ServerError",
    "ServiceUnavailableError",
    "SessionClosedError",
    "TransportError",
    "UnauthenticatedError",
    "map_rpc_error",
]

ERROR_DOMAIN = "laughter.v1"
MEDIA_REASONS = frozenset({"MEDIA_EMPTY", "MEDIA_UNDECODABLE", "MEDIA_NO_STREAMS", "MEDIA_IS_STILL_IMAGE"})


class LaughterError(Exception):
    """Base class of every error the SDK raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ClientClosedError(LaughterError):
    """The client was used after it was closed; clients cannot be reopened."""


class ConfigurationError(LaughterError, ValueError):
    """The client's options cannot be used, for example a certificate file that cannot be read; raised when
    the client is created."""


class SessionClosedError(LaughterError):
    """Media was sent to a live session after :meth:`~laughter.LiveSession.close` or after it ended."""


class MissingDependencyError(LaughterError, ImportError):
    """A feature needs an optional extra that is not installed; the message names the pip command."""


class MediaSourceError(LaughterError):
    """A local media source cannot deliver media: no camera at that index, or a file that cannot be
    decoded. Raised on the client, before or while streaming."""


class MediaFileError(LaughterError):
    """A local media file cannot be read; raised before any RPC is made."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class MediaFileNotFoundError(MediaFileError, FileNotFoundError):
    """The media file does not exist."""


class MediaIsADirectoryError(MediaFileError, IsADirectoryError):
    """The media path names a directory."""


class MediaFileUnreadableError(MediaFileError, PermissionError):
    """The media file exists but cannot be read (permissions or another OS error)."""


@dataclasses.dataclass(frozen=True)
class FieldViolation:
    """One invalid request field, from ``google.rpc.BadRequest``."""

    field: str
    """Path of the field in the request, for example ``"options.analysis_frame_rate_hertz"``."""
    description: str


class ApiError(LaughterError):
    """A call failed with a gRPC status.

    ``code`` is the status code's name (``"INVALID_ARGUMENT"``), ``reason`` the ``ErrorInfo`` reason
    (``"MEDIA_UNDECODABLE"``; empty when the server sent none), ``metadata`` the ``ErrorInfo`` metadata,
    ``field_violations`` the ``BadRequest`` entries and ``retry_after_s`` the ``RetryInfo`` delay (``None``
    when the server gave none).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        reason: str = "",
        metadata: Mapping[str, str] | None = None,
        field_violations: tuple[FieldViolation, ...] = (),
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})
        self.field_violations = field_violations
        self.retry_after_s = retry_after_s

    @property
    def is_retryable(self) -> bool:
        """True when repeating the same call later can succeed."""
        return self.retry_after_s is not None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, reason={self.reason!r}, message={self.message!r})"


class TransportError(ApiError):
    """The call did not complete: no connection, or no answer in time."""


class ServiceUnavailableError(TransportError):
    """UNAVAILABLE: the server cannot be reached, is shutting down, or a model it needs is not serving."""

    @property
    def is_retryable(self) -> bool:
        """Always true: the service may come back."""
        return True


class DeadlineExceededError(TransportError):
    """DEADLINE_EXCEEDED: the call did not finish within its deadline."""


class InvalidArgumentError(ApiError):
    """INVALID_ARGUMENT: the server rejected the request; see ``reason`` and ``field_violations``."""


class InvalidMediaError(InvalidArgumentError):
    """The media is empty, cannot be decoded, or has no stream that can be analysed."""


class ResourceExhaustedError(ApiError):
    """RESOURCE_EXHAUSTED: a size or capacity limit was hit; ``retry_after_s`` says when to retry."""


class MediaTooLargeError(ResourceExhaustedError):
    """The media is larger or longer than the server accepts (``metadata`` holds the limit)."""


class NotFoundError(ApiError):
    """NOT_FOUND: a session or model the call named does not exist."""


class AlreadyExistsError(ApiError):
    """ALREADY_EXISTS: the session id is already in use."""


class FailedPreconditionError(ApiError):
    """FAILED_PRECONDITION: not possible in the current state (a closed session, a failed load)."""


class PermissionDeniedError(ApiError):
    """PERMISSION_DENIED or UNAUTHENTICATED: the credentials do not allow the call."""


class UnauthenticatedError(PermissionDeniedError):
    """UNAUTHENTICATED: the call carried no auth token, or a wrong one (see ``ClientOptions.auth_token``)."""


LOCAL_CANCELLATION_DETAILS = frozenset(
    {"Locally cancelled by application!", "Channel closed!", "Cancelled upon garbage collection!"}
)
"""grpc's details for a call this process ended itself: cancelled, its channel closed, or collected."""


class CancelledError(ApiError):
    """CANCELLED: the call was cancelled before it finished.

    A call this client cancelled is final; one the server or the connection ended (a stopping server cancels
    the calls it had received but not started) may succeed when repeated, so it is retryable.
    """

    @property
    def is_retryable(self) -> bool:
        """True unless this process cancelled the call itself."""
        return self.message not in LOCAL_CANCELLATION_DETAILS


class ServerError(ApiError):
    """INTERNAL, UNKNOWN or another code: a fault on the server; quote ``metadata["request_id"]``."""


_BY_CODE: dict[grpc.StatusCode, type[ApiError]] = {
    grpc.StatusCode.UNAVAILABLE: ServiceUnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgumentError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExistsError,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPreconditionError,
    grpc.StatusCode.ABORTED: FailedPreconditionError,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDeniedError,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedError,
    grpc.StatusCode.CANCELLED: CancelledError,
}
_BY_REASON: dict[str, type[ApiError]] = {
    **dict.fromkeys(MEDIA_REASONS, InvalidMediaError),
    "MEDIA_TOO_LARGE": MediaTooLargeError,
}


def _rich_status(error: grpc.RpcError) -> status_pb2.Status | None:
    """The google.rpc.Status carried in the trailers, or None (also for errors that are not calls)."""
    if not callable(getattr(error, "trailing_metadata", None)):
        return None
    try:
        # grpc.aio.AioRpcError has the Call methods from_call reads, without being a grpc.Call.
        return rpc_status.from_call(typing.cast(grpc.Call, error))
    except (AttributeError, TypeError, ValueError):
        # Trailers in an unexpected shape, or a status whose code disagrees with the call's.
        return None


def _status_code(error: grpc.RpcError) -> grpc.StatusCode:
    code = getattr(error, "code", None)
    value = code() if callable(code) else None
    return value if isinstance(value, grpc.StatusCode) else grpc.StatusCode.UNKNOWN


def _message(error: grpc.RpcError, status: status_pb2.Status | None) -> str:
    if status is not None and status.message:
        return str(status.message)
    details = getattr(error, "details", None)
    text: object = details() if callable(details) else None
    return str(text) if text else "the call failed without a message"


def map_rpc_error(error: grpc.RpcError) -> LaughterError:
    """The SDK error for a failed call: class from the status code and ``ErrorInfo.reason``, with the
    server's message and its ``ErrorInfo``, ``BadRequest`` and ``RetryInfo`` details."""
    code = _status_code(error)
    status = _rich_status(error)
    reason = ""
    metadata: dict[str, str] = {}
    violations: list[FieldViolation] = []
    retry_after_s: float | None = None
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = info.reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            violations.extend(
                FieldViolation(item.field, item.description) for item in bad_request.field_violations
            )
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            retry_after_s = retry.retry_delay.seconds + retry.retry_delay.nanos / 1e9
    kind = _BY_CODE.get(code, ServerError)
    refined = _BY_REASON.get(reason)
    if refined is not None and issubclass(refined, kind):
        kind = refined
    return kind(
        _message(error, status),
        code=code.name,
        reason=reason,
        metadata=metadata,
        field_violations=tuple(violations),
        retry_after_s=retry_after_s,
    )
