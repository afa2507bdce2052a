"""The synchronous client."""

from __future__ import annotations

import os
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

import grpc
from google.protobuf import message as protobuf_message
from grpc_health.v1 import health_pb2

from laughter._base import (
    ANALYZE_MEDIA_METHOD,
    HEALTH_CHECK_METHOD,
    LIST_MODELS_METHOD,
    BaseClient,
    ClientState,
    health_from_proto,
    health_request,
    read_media_file,
)
from laughter._config import AnalysisOptions, ClientOptions
from laughter._convert import model_from_proto, result_from_proto
from laughter._exceptions import TransportError, map_rpc_error
from laughter._types import AnalysisResult, HealthStatus, ModelInfo
from laughter.v1 import laughter_service_pb2

__all__ = ["LaughterClient"]

ResponseT = TypeVar("ResponseT", bound=protobuf_message.Message)


class LaughterClient(BaseClient):
    """A blocking client of the laughter.v1 service; use it as a context manager or call :meth:`close`.

    >>> with LaughterClient("127.0.0.1:50051") as client:          # doctest: +SKIP
    ...     result = client.analyze_file("clip.mp4")
    ...     print(result.summary.dominant_laughter_type)

    A client holds one gRPC channel and is safe to share between threads.
    """

    def __init__(self, address: str | None = None, *, options: ClientOptions | None = None) -> None:
        super().__init__(address, options=options)
        self._channel: grpc.Channel = grpc.insecure_channel(self.address, options=self._channel_options())

    def __enter__(self) -> LaughterClient:
        self._check_open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the channel; calling it again does nothing."""
        if self._state is not ClientState.CLOSED:
            self._state = ClientState.CLOSED
            self._channel.close()

    def _call(
        self,
        method: str,
        request: protobuf_message.Message,
        deserialize: Callable[[bytes], ResponseT],
        timeout_s: float | None,
    ) -> ResponseT:
        self._check_open()
        rpc: Callable[..., Any] = self._channel.unary_unary(
            method, request_serializer=_serialize, response_deserializer=deserialize
        )
        try:
            response: ResponseT = rpc(
                request, timeout=self._deadline_s(timeout_s), metadata=self._call_metadata()
            )
        except grpc.RpcError as exc:
            raise map_rpc_error(exc) from None
        return response

    def analyze_bytes(
        self,
        data: bytes,
        *,
        filename: str = "",
        options: AnalysisOptions | None = None,
        timeout_s: float | None = None,
    ) -> AnalysisResult:
        """Analyse media held in memory; ``filename`` (for example "clip.mp4") is a hint for the decoder."""
        request = self._prepare_bytes(data, filename, options)
        response = self._call(
            ANALYZE_MEDIA_METHOD, request, laughter_service_pb2.AnalyzeMediaResponse.FromString, timeout_s
        )
        return result_from_proto(response.result)

    def analyze_file(
        self,
        path: str | os.PathLike[str],
        *,
        options: AnalysisOptions | None = None,
        timeout_s: float | None = None,
    ) -> AnalysisResult:
        """Analyse a media file (any container FFmpeg reads); a missing or unreadable file raises a
        :class:`~laughter.MediaFileError` before any call is made."""
        self._check_open()
        data, filename = read_media_file(path)
        return self.analyze_bytes(data, filename=filename, options=options, timeout_s=timeout_s)

    def list_models(self, *, timeout_s: float | None = None) -> tuple[ModelInfo, ...]:
        """The models the server uses, with versions and readiness."""
        response = self._call(
            LIST_MODELS_METHOD,
            laughter_service_pb2.ListModelsRequest(),
            laughter_service_pb2.ListModelsResponse.FromString,
            timeout_s,
        )
        return tuple(model_from_proto(item) for item in response.models)

    def health(self, *, service: str = "", timeout_s: float | None = None) -> HealthStatus:
        """The server's serving status from ``grpc.health.v1`` (``service=""``: the server as a whole)."""
        response = self._call(
            HEALTH_CHECK_METHOD, health_request(service), health_pb2.HealthCheckResponse.FromString, timeout_s
        )
        return health_from_proto(response)

    def is_serving(self, *, timeout_s: float | None = None) -> bool:
        """True when the server reports SERVING; False when it is unreachable or not serving."""
        try:
            return self.health(timeout_s=timeout_s) is HealthStatus.SERVING
        except TransportError:
            return False


def _serialize(message: protobuf_message.Message) -> bytes:
    return message.SerializeToString()
