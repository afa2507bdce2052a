"""Everything the sync and async clients share that is not I/O: requests, channel settings, call metadata,
deadlines, local file checks and the client's lifecycle."""

from __future__ import annotations

import dataclasses
import enum
import os
import pathlib

from grpc_health.v1 import health_pb2

from laughter._config import AnalysisOptions, ClientOptions, SessionOptions
from laughter._convert import duration_from_seconds
from laughter._exceptions import (
    ClientClosedError,
    MediaFileError,
    MediaFileNotFoundError,
    MediaFileUnreadableError,
    MediaIsADirectoryError,
)
from laughter._types import HealthStatus
from laughter.v1 import analysis_pb2, laughter_service_pb2

SERVICE_NAME = "laughter.v1.LaughterAnalysisService"
ANALYZE_MEDIA_METHOD = "/" + SERVICE_NAME + "/AnalyzeMedia"
LIST_MODELS_METHOD = "/" + SERVICE_NAME + "/ListModels"
STREAMING_ANALYZE_METHOD = "/" + SERVICE_NAME + "/StreamingAnalyze"
HEALTH_CHECK_METHOD = "/grpc.health.v1.Health/Check"
USER_AGENT = "laughter-python/0.1.0"

HEALTH_STATUSES = {
    health_pb2.HealthCheckResponse.UNKNOWN: HealthStatus.UNKNOWN,
    health_pb2.HealthCheckResponse.SERVING: HealthStatus.SERVING,
    health_pb2.HealthCheckResponse.NOT_SERVING: HealthStatus.NOT_SERVING,
    health_pb2.HealthCheckResponse.SERVICE_UNKNOWN: HealthStatus.SERVICE_UNKNOWN,
}


class ClientState(enum.Enum):
    """Lifecycle of a client: usable while OPEN; once CLOSED it cannot be reopened."""

    OPEN = "open"
    CLOSED = "closed"


def analysis_options_to_proto(options: AnalysisOptions | None) -> analysis_pb2.AnalysisOptions:
    """The request's options; unset values stay zero so the server applies its defaults."""
    message = analysis_pb2.AnalysisOptions()
    if options is None:
        return message
    if options.analysis_frame_rate_hertz is not None:
        message.analysis_frame_rate_hertz = options.analysis_frame_rate_hertz
    message.disable_video = options.disable_video
    message.disable_audio = options.disable_audio
    if options.laughter_threshold is not None:
        message.laughter_threshold = options.laughter_threshold
    if options.min_event_duration_s is not None:
        message.min_event_duration.CopyFrom(duration_from_seconds(options.min_event_duration_s))
    if options.max_faces is not None:
        message.max_faces = options.max_faces
    message.include_face_samples = options.include_face_samples
    return message


def build_analyze_request(
    data: bytes, *, filename: str = "", options: AnalysisOptions | None = None
) -> laughter_service_pb2.AnalyzeMediaRequest:
    """An AnalyzeMedia request for the media bytes."""
    return laughter_service_pb2.AnalyzeMediaRequest(
        content=bytes(data), filename=filename, options=analysis_options_to_proto(options)
    )


def read_media_file(path: str | os.PathLike[str]) -> tuple[bytes, str]:
    """The file's bytes and base name; local problems raise :class:`MediaFileError` subclasses."""
    file_path = pathlib.Path(path)
    name = str(file_path)
    try:
        return file_path.read_bytes(), file_path.name
    except FileNotFoundError:
        raise MediaFileNotFoundError(f"media file not found: {name}", path=name) from None
    except IsADirectoryError:
        raise MediaIsADirectoryError(f"media path is a directory, not a file: {name}", path=name) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise MediaFileUnreadableError(f"cannot read media file {name}: {reason}", path=name) from None


def check_media_size(data: bytes, filename: str, max_message_bytes: int) -> None:
    """Refuse media that cannot fit one request before sending it (the server would reject it anyway)."""
    if len(data) > max_message_bytes:
        raise MediaFileError(
            f"media is {len(data)} bytes, above the client's max_message_bytes ({max_message_bytes});"
            " raise ClientOptions.max_message_bytes if the server accepts more",
            path=filename,
        )


class BaseClient:
    """Options, channel settings, call metadata, deadlines and the lifecycle; the subclasses add the I/O.

    ``address`` (``host:port``), when given, overrides ``options.address``.
    """

    def __init__(self, address: str | None = None, *, options: ClientOptions | None = None) -> None:
        base = options or ClientOptions()
        self._options = base if address is None else dataclasses.replace(base, address=address)
        self._state = ClientState.OPEN

    @property
    def options(self) -> ClientOptions:
        """The client's options."""
        return self._options

    @property
    def address(self) -> str:
        """``host:port`` of the server."""
        return self._options.address

    @property
    def is_closed(self) -> bool:
        """True once the client was closed."""
        return self._state is ClientState.CLOSED

    def _check_open(self) -> None:
        if self._state is ClientState.CLOSED:
            raise ClientClosedError("Cannot use a client instance once it has been closed.")

    def _channel_options(self) -> list[tuple[str, str | int]]:
        limit = self._options.max_message_bytes
        return [
            ("grpc.max_send_message_length", limit),
            ("grpc.max_receive_message_length", limit),
            ("grpc.primary_user_agent", USER_AGENT),
        ]

    def _call_metadata(self) -> tuple[tuple[str, str], ...]:
        metadata = list(self._options.metadata)
        if self._options.auth_token:
            metadata.append(("authorization", "Bearer " + self._options.auth_token))
        return tuple(metadata)

    def _deadline_s(self, timeout_s: float | None) -> float | None:
        return timeout_s if timeout_s is not None else self._options.timeout_s

    def _prepare_bytes(
        self, data: bytes, filename: str, options: AnalysisOptions | None
    ) -> laughter_service_pb2.AnalyzeMediaRequest:
        self._check_open()
        check_media_size(data, filename, self._options.max_message_bytes)
        return build_analyze_request(data, filename=filename, options=options)


def session_options_for(source: object, config: SessionOptions | None) -> SessionOptions:
    """The options of a streamed session: ``config`` when given, else the source's own ``options`` (the
    sources of :mod:`laughter.sources` describe what they send), else the defaults."""
    if config is not None:
        return config
    own = getattr(source, "options", None)
    return own if isinstance(own, SessionOptions) else SessionOptions()


def health_request(service: str) -> health_pb2.HealthCheckRequest:
    """A health check for ``service`` ("" is the server as a whole)."""
    return health_pb2.HealthCheckRequest(service=service)


def health_from_proto(message: health_pb2.HealthCheckResponse) -> HealthStatus:
    """The SDK's health status."""
    return HEALTH_STATUSES.get(message.status, HealthStatus.UNKNOWN)
