"""Everything the sync and async clients share that is not I/O: requests, channel settings, call metadata,
deadlines, local file checks and the client's lifecycle."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import os
import pathlib
from collections.abc import AsyncIterator, Iterator, Sequence

import grpc
from grpc_health.v1 import health_pb2

from laughter._config import AnalysisOptions, ClientOptions, PemSource, SessionOptions
from laughter._convert import duration_from_seconds
from laughter._exceptions import (
    ClientClosedError,
    ConfigurationError,
    MediaFileError,
    MediaFileNotFoundError,
    MediaFileUnreadableError,
    MediaIsADirectoryError,
)
from laughter._targets import ChannelTarget, channel_target
from laughter._types import HealthStatus
from laughter.v1 import analysis_pb2, laughter_service_pb2

SERVICE_NAME = "laughter.v1.LaughterAnalysisService"
ANALYZE_MEDIA_METHOD = "/" + SERVICE_NAME + "/AnalyzeMedia"
ANALYZE_MEDIA_UPLOAD_METHOD = "/" + SERVICE_NAME + "/AnalyzeMediaUpload"
LIST_MODELS_METHOD = "/" + SERVICE_NAME + "/ListModels"
STREAMING_ANALYZE_METHOD = "/" + SERVICE_NAME + "/StreamingAnalyze"
HEALTH_CHECK_METHOD = "/grpc.health.v1.Health/Check"
USER_AGENT = "laughter-python/0.1.0"
REQUEST_OVERHEAD_BYTES = 64 * 1024
"""Room left in a message for the request's fields besides the media bytes."""

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


@dataclasses.dataclass(frozen=True)
class StoreTags:
    """What a whole-file request tells the results store: ``client_id`` owns the stored result when the
    server checks no tokens (with tokens the token's tenant does); ``fresh`` analyses again even when the
    same bytes, options and models were analysed before (no cached result)."""

    client_id: str = ""
    fresh: bool = False


def build_analyze_request(
    data: bytes, *, filename: str = "", options: AnalysisOptions | None = None, tags: StoreTags = StoreTags()
) -> laughter_service_pb2.AnalyzeMediaRequest:
    """An AnalyzeMedia request for the media bytes."""
    return laughter_service_pb2.AnalyzeMediaRequest(
        content=bytes(data),
        filename=filename,
        options=analysis_options_to_proto(options),
        client_id=tags.client_id,
        fresh=tags.fresh,
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


def stat_media_file(path: str | os.PathLike[str]) -> tuple[pathlib.Path, int]:
    """The file's path and size in bytes; a missing path or a directory raises a :class:`MediaFileError`
    subclass."""
    file_path = pathlib.Path(path)
    name = str(file_path)
    try:
        info = file_path.stat()
    except FileNotFoundError:
        raise MediaFileNotFoundError(f"media file not found: {name}", path=name) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise MediaFileUnreadableError(f"cannot read media file {name}: {reason}", path=name) from None
    if file_path.is_dir():
        raise MediaIsADirectoryError(f"media path is a directory, not a file: {name}", path=name)
    return file_path, info.st_size


class UploadFeed:
    """The requests of one ``AnalyzeMediaUpload`` attempt: the header, then the file's bytes in pieces read
    from disk one at a time. A read failure ends the requests early and is kept in :attr:`failure`, to be
    raised instead of the call's error."""

    def __init__(
        self,
        path: pathlib.Path,
        size_bytes: int,
        options: AnalysisOptions | None,
        chunk_bytes: int,
        tags: StoreTags = StoreTags(),
    ) -> None:
        self._path = path
        self._size_bytes = size_bytes
        self._options = options
        self._chunk_bytes = chunk_bytes
        self._tags = tags
        self.failure: MediaFileError | None = None

    def header(self) -> laughter_service_pb2.AnalyzeMediaUploadRequest:
        """The first request: file name, announced size and options."""
        header = laughter_service_pb2.AnalyzeMediaUploadHeader(
            filename=self._path.name,
            size_bytes=self._size_bytes,
            options=analysis_options_to_proto(self._options),
            client_id=self._tags.client_id,
            fresh=self._tags.fresh,
        )
        return laughter_service_pb2.AnalyzeMediaUploadRequest(header=header)

    def _fail(self, exc: OSError) -> None:
        reason = exc.strerror or type(exc).__name__
        self.failure = MediaFileUnreadableError(
            f"cannot read media file {self._path}: {reason}", path=str(self._path)
        )

    def requests(self) -> Iterator[laughter_service_pb2.AnalyzeMediaUploadRequest]:
        """The requests, reading the file as they are consumed (a gRPC thread of the sync client)."""
        yield self.header()
        try:
            with self._path.open("rb") as file:
                while piece := file.read(self._chunk_bytes):
                    yield laughter_service_pb2.AnalyzeMediaUploadRequest(content_chunk=piece)
        except OSError as exc:
            self._fail(exc)

    async def arequests(self) -> AsyncIterator[laughter_service_pb2.AnalyzeMediaUploadRequest]:
        """The requests, each piece read in a worker thread so the event loop never waits on the disk."""
        yield self.header()
        try:
            file = await asyncio.to_thread(self._path.open, "rb")
            try:
                while piece := await asyncio.to_thread(file.read, self._chunk_bytes):
                    yield laughter_service_pb2.AnalyzeMediaUploadRequest(content_chunk=piece)
            finally:
                file.close()
        except OSError as exc:
            self._fail(exc)


def read_pem(source: PemSource, what: str) -> bytes:
    """PEM bytes as given, or read from the file ``source`` names; an unreadable file raises
    :class:`ConfigurationError` naming ``what``."""
    if isinstance(source, bytes):
        return source
    try:
        return pathlib.Path(source).read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigurationError(f"cannot read {what} {os.fspath(source)}: {reason}") from None


def channel_credentials(options: ClientOptions) -> grpc.ChannelCredentials | None:
    """TLS credentials for the options, or ``None`` for a plaintext channel."""
    if not options.is_secure:
        return None
    return grpc.ssl_channel_credentials(
        root_certificates=None
        if options.root_certificates is None
        else read_pem(options.root_certificates, "root certificates"),
        private_key=None if options.private_key is None else read_pem(options.private_key, "private key"),
        certificate_chain=None
        if options.certificate_chain is None
        else read_pem(options.certificate_chain, "certificate chain"),
    )


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

    ``address``, when given, overrides ``options.address``: ``host:port``, several servers as a list or a
    comma-separated string (``["host1:50051", "host2:50051"]``), or ``"dns:///name:50051"``; several servers
    are balanced by gRPC (``round_robin`` over the healthy ones, see :mod:`laughter._targets`). Certificate
    files named in the options are read here, and a list's host names resolved; a file that cannot be read,
    or a list none of whose names resolves, raises :class:`~laughter.ConfigurationError`.
    """

    def __init__(
        self, address: str | Sequence[str] | None = None, *, options: ClientOptions | None = None
    ) -> None:
        base = options or ClientOptions()
        if address is not None and not isinstance(address, str):
            address = ",".join(address)
        self._options = base if address is None else dataclasses.replace(base, address=address)
        self._credentials = channel_credentials(self._options)
        self._target: ChannelTarget = channel_target(self._options.address)
        self._state = ClientState.OPEN

    @property
    def options(self) -> ClientOptions:
        """The client's options."""
        return self._options

    @property
    def address(self) -> str:
        """The server address as given: ``host:port``, a comma-separated list or a ``dns:///`` target."""
        return self._options.address

    @property
    def is_balanced(self) -> bool:
        """True when calls are spread over several servers (a list or a ``dns:///`` name)."""
        return self._target.balanced

    @property
    def is_closed(self) -> bool:
        """True once the client was closed."""
        return self._state is ClientState.CLOSED

    def _check_open(self) -> None:
        if self._state is ClientState.CLOSED:
            raise ClientClosedError("Cannot use a client instance once it has been closed.")

    def _channel_options(self) -> list[tuple[str, str | int]]:
        options = self._options
        limit = options.max_message_bytes
        values: list[tuple[str, str | int]] = [
            ("grpc.max_send_message_length", limit),
            ("grpc.max_receive_message_length", limit),
            ("grpc.primary_user_agent", USER_AGENT),
            ("grpc.keepalive_timeout_ms", round(options.keepalive_timeout_s * 1000)),
            ("grpc.keepalive_permit_without_calls", int(options.keepalive_permit_without_calls)),
        ]
        if options.keepalive_time_s is not None:
            values.append(("grpc.keepalive_time_ms", round(options.keepalive_time_s * 1000)))
        if options.server_name_override:
            values.append(("grpc.ssl_target_name_override", options.server_name_override))
        values.extend(self._target.channel_options())
        return values

    def _should_upload(self, size_bytes: int) -> bool:
        """True when a file of ``size_bytes`` goes through AnalyzeMediaUpload rather than one message."""
        one_message_bytes = self._options.max_message_bytes - REQUEST_OVERHEAD_BYTES
        return size_bytes > self._options.upload_threshold_bytes or size_bytes > one_message_bytes

    def _upload_feed(
        self, path: pathlib.Path, size_bytes: int, options: AnalysisOptions | None, tags: StoreTags
    ) -> UploadFeed:
        chunk_bytes = min(self._options.upload_chunk_bytes, max(1, self._options.max_message_bytes // 2))
        return UploadFeed(path, size_bytes, options, chunk_bytes, tags)

    def _call_metadata(self) -> tuple[tuple[str, str], ...]:
        metadata = list(self._options.metadata)
        if self._options.auth_token:
            metadata.append(("authorization", "Bearer " + self._options.auth_token))
        return tuple(metadata)

    def _deadline_s(self, timeout_s: float | None) -> float | None:
        return timeout_s if timeout_s is not None else self._options.timeout_s

    def _prepare_bytes(
        self, data: bytes, filename: str, options: AnalysisOptions | None, tags: StoreTags
    ) -> laughter_service_pb2.AnalyzeMediaRequest:
        self._check_open()
        check_media_size(data, filename, self._options.max_message_bytes)
        return build_analyze_request(data, filename=filename, options=options, tags=tags)


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
