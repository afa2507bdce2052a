"""The asyncio client: the same methods as :class:`~laughter.LaughterClient`, awaitable."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pathlib
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Sequence,
)
from types import TracebackType
from typing import Any, TypeVar

import grpc
import grpc.aio
from google.protobuf import message as protobuf_message
from grpc_health.v1 import health_pb2

from laughter._base import (
    ANALYZE_MEDIA_METHOD,
    ANALYZE_MEDIA_UPLOAD_METHOD,
    HEALTH_CHECK_METHOD,
    LIST_MODELS_METHOD,
    STREAMING_ANALYZE_METHOD,
    BaseClient,
    ClientState,
    StoreTags,
    health_from_proto,
    health_request,
    read_media_file,
    session_options_for,
    stat_media_file,
)
from laughter._batch import FileResult, PathLike, check_concurrency, iterate_tasks
from laughter._config import AnalysisOptions, ClientOptions, SessionOptions
from laughter._convert import model_from_proto, result_from_proto
from laughter._exceptions import LaughterError, TransportError, map_rpc_error
from laughter._live import LiveSession, run_session
from laughter._results import AsyncResultsMixin
from laughter._retry import RetryState
from laughter._session_convert import config_request
from laughter._session_types import MediaChunk, SessionUpdate
from laughter._types import AnalysisResult, HealthStatus, ModelInfo
from laughter.v1 import laughter_service_pb2

__all__ = ["AsyncLaughterClient"]

ResponseT = TypeVar("ResponseT", bound=protobuf_message.Message)


class AsyncLaughterClient(AsyncResultsMixin, BaseClient):
    """An asyncio client of the laughter.v1 service; use it with ``async with`` or await :meth:`close`.

    >>> async with AsyncLaughterClient("127.0.0.1:50051") as client:  # doctest: +SKIP
    ...     result = await client.analyze_file("clip.mp4")

    The channel opens on first use, inside the running event loop, and belongs to that loop.
    """

    def __init__(
        self, address: str | Sequence[str] | None = None, *, options: ClientOptions | None = None
    ) -> None:
        super().__init__(address, options=options)
        self._channel: grpc.aio.Channel | None = None

    async def __aenter__(self) -> AsyncLaughterClient:
        self._check_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the channel; calling it again does nothing."""
        if self._state is ClientState.CLOSED:
            return
        self._state = ClientState.CLOSED
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    def _get_channel(self) -> grpc.aio.Channel:
        self._check_open()
        if self._channel is None:
            if self._credentials is None:
                self._channel = grpc.aio.insecure_channel(
                    self._target.target, options=self._channel_options()
                )
            else:
                self._channel = grpc.aio.secure_channel(
                    self._target.target, self._credentials, options=self._channel_options()
                )
        return self._channel

    async def _retrying(
        self, method: str, attempt: Callable[[float | None], Awaitable[ResponseT]], timeout_s: float | None
    ) -> ResponseT:
        """Await ``attempt(timeout)`` until it succeeds or the retry policy gives up."""
        state = RetryState(self._options.retry, method, self._deadline_s(timeout_s))
        while True:
            attempt_timeout_s = state.begin()
            try:
                return await attempt(attempt_timeout_s)
            except LaughterError as error:
                delay_s = state.wait_s(error)
                if delay_s is None:
                    raise
            await asyncio.sleep(delay_s)

    async def _call(
        self,
        method: str,
        request: protobuf_message.Message,
        deserialize: Callable[[bytes], ResponseT],
        timeout_s: float | None,
    ) -> ResponseT:
        rpc: Callable[..., Any] = self._get_channel().unary_unary(
            method, request_serializer=_serialize, response_deserializer=deserialize
        )

        async def attempt(attempt_timeout_s: float | None) -> ResponseT:
            try:
                response: ResponseT = await rpc(
                    request, timeout=attempt_timeout_s, metadata=self._call_metadata()
                )
            except grpc.RpcError as exc:
                raise map_rpc_error(exc) from None
            return response

        return await self._retrying(method, attempt, timeout_s)

    async def _upload(
        self,
        path: pathlib.Path,
        size_bytes: int,
        options: AnalysisOptions | None,
        timeout_s: float | None,
        tags: StoreTags,
    ) -> AnalysisResult:
        rpc: Callable[..., Any] = self._get_channel().stream_unary(
            ANALYZE_MEDIA_UPLOAD_METHOD,
            request_serializer=_serialize,
            response_deserializer=laughter_service_pb2.AnalyzeMediaUploadResponse.FromString,
        )

        async def attempt(
            attempt_timeout_s: float | None,
        ) -> laughter_service_pb2.AnalyzeMediaUploadResponse:
            feed = self._upload_feed(path, size_bytes, options, tags)
            try:
                response: laughter_service_pb2.AnalyzeMediaUploadResponse = await rpc(
                    feed.arequests(), timeout=attempt_timeout_s, metadata=self._call_metadata()
                )
            except grpc.RpcError as exc:
                if feed.failure is not None:
                    raise feed.failure from None
                raise map_rpc_error(exc) from None
            if feed.failure is not None:
                raise feed.failure
            return response

        response = await self._retrying(ANALYZE_MEDIA_UPLOAD_METHOD, attempt, timeout_s)
        return result_from_proto(response.result)

    async def analyze_bytes(
        self,
        data: bytes,
        *,
        filename: str = "",
        options: AnalysisOptions | None = None,
        timeout_s: float | None = None,
        client_id: str = "",
        fresh: bool = False,
    ) -> AnalysisResult:
        """Analyse media held in memory; ``filename`` (for example "clip.mp4") is a hint for the decoder.
        ``client_id`` owns the stored result when the server checks no tokens; ``fresh=True`` analyses
        again instead of answering from the server's cache of the same bytes, options and models."""
        request = self._prepare_bytes(data, filename, options, StoreTags(client_id, fresh))
        response = await self._call(
            ANALYZE_MEDIA_METHOD, request, laughter_service_pb2.AnalyzeMediaResponse.FromString, timeout_s
        )
        return result_from_proto(response.result)

    async def analyze_file(
        self,
        path: str | os.PathLike[str],
        *,
        options: AnalysisOptions | None = None,
        timeout_s: float | None = None,
        client_id: str = "",
        fresh: bool = False,
    ) -> AnalysisResult:
        """Analyse a media file (read in a worker thread); a missing or unreadable file raises a
        :class:`~laughter.MediaFileError` before any call is made. Files above
        ``options.upload_threshold_bytes`` are sent in pieces (``AnalyzeMediaUpload``)."""
        self._check_open()
        file_path, size_bytes = await asyncio.to_thread(stat_media_file, path)
        if self._should_upload(size_bytes):
            return await self._upload(file_path, size_bytes, options, timeout_s, StoreTags(client_id, fresh))
        data, filename = await asyncio.to_thread(read_media_file, file_path)
        return await self.analyze_bytes(
            data, filename=filename, options=options, timeout_s=timeout_s, client_id=client_id, fresh=fresh
        )

    def analyze_files(
        self,
        paths: Iterable[PathLike],
        *,
        concurrency: int = 8,
        options: AnalysisOptions | None = None,
        timeout_s: float | None = None,
        client_id: str = "",
        fresh: bool = False,
    ) -> AsyncIterator[FileResult]:
        """Analyse many files, at most ``concurrency`` at a time (one task each), and yield a
        :class:`~laughter.FileResult` for each as it finishes; the same contract as
        :meth:`LaughterClient.analyze_files <laughter.LaughterClient.analyze_files>`. Leaving the loop
        early cancels the calls in flight.

        >>> async for item in client.analyze_files(paths, concurrency=8):  # doctest: +SKIP
        ...     print(item.path, item.is_ok)
        """
        self._check_open()
        check_concurrency(concurrency)

        async def analyze(path: PathLike) -> AnalysisResult:
            return await self.analyze_file(
                path, options=options, timeout_s=timeout_s, client_id=client_id, fresh=fresh
            )

        return iterate_tasks(analyze, paths, concurrency)

    async def list_models(self, *, timeout_s: float | None = None) -> tuple[ModelInfo, ...]:
        """The models the server uses, with versions and readiness."""
        response = await self._call(
            LIST_MODELS_METHOD,
            laughter_service_pb2.ListModelsRequest(),
            laughter_service_pb2.ListModelsResponse.FromString,
            timeout_s,
        )
        return tuple(model_from_proto(item) for item in response.models)

    async def health(self, *, service: str = "", timeout_s: float | None = None) -> HealthStatus:
        """The server's serving status from ``grpc.health.v1`` (``service=""``: the server as a whole)."""
        response = await self._call(
            HEALTH_CHECK_METHOD, health_request(service), health_pb2.HealthCheckResponse.FromString, timeout_s
        )
        return health_from_proto(response)

    async def is_serving(self, *, timeout_s: float | None = None) -> bool:
        """True when the server reports SERVING; False when it is unreachable or not serving."""
        try:
            return await self.health(timeout_s=timeout_s) is HealthStatus.SERVING
        except TransportError:
            return False

    async def open_session(
        self, config: SessionOptions | None = None, *, timeout_s: float | None = None
    ) -> LiveSession:
        """Open a live session and send its configuration (``None``: JPEG frames and 16 kHz mono PCM16
        audio). A configuration the server rejects raises from the first read of
        :meth:`LiveSession.updates`. Live sessions have no deadline unless ``timeout_s`` is given; the
        server then ends the session with its summary shortly before the deadline."""
        rpc: Callable[..., Any] = self._get_channel().stream_stream(
            STREAMING_ANALYZE_METHOD,
            request_serializer=_serialize,
            response_deserializer=laughter_service_pb2.StreamingAnalyzeResponse.FromString,
        )
        session = LiveSession(rpc(timeout=timeout_s, metadata=self._call_metadata()))
        await session._write(config_request(config or SessionOptions()))
        return session

    async def stream(
        self,
        source: Iterable[MediaChunk] | AsyncIterable[MediaChunk],
        *,
        config: SessionOptions | None = None,
        timeout_s: float | None = None,
    ) -> AsyncGenerator[SessionUpdate, None]:
        """Stream the frames and audio chunks of ``source`` to a live session and yield its updates, the
        :class:`~laughter.AnalysisSummary` last. The session half-closes when the source is exhausted.

        ``source`` is a sync or async iterable of :class:`~laughter.Frame` and :class:`~laughter.AudioChunk`
        values (sync ones are advanced in a worker thread); ``config`` defaults to the source's own
        ``options`` (see :mod:`laughter.sources`), else to :class:`SessionOptions`. Stopping the iteration
        (``break``, cancelling the task) cancels the call; an exception raised by the source is re-raised
        here after the call is cancelled.

        >>> async for update in client.stream(file_source("clip.mp4")):   # doctest: +SKIP
        ...     print(update.kind)
        """
        session = await self.open_session(session_options_for(source, config), timeout_s=timeout_s)
        async with contextlib.aclosing(run_session(session, source)) as updates:
            async for update in updates:
                yield update


def _serialize(message: protobuf_message.Message) -> bytes:
    return message.SerializeToString()
