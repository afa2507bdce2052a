"""The synchronous client."""

from __future__ import annotations

import os
import pathlib
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, TypeVar

import grpc
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
from laughter._batch import FileResult, PathLike, check_concurrency, iterate_threaded
from laughter._config import AnalysisOptions, ClientOptions, SessionOptions
from laughter._convert import model_from_proto, result_from_proto
from laughter._exceptions import LaughterError, TransportError, map_rpc_error
from laughter._results import ResultsMixin
from laughter._retry import RetryState
from laughter._session_convert import chunk_request, config_request, update_from_proto
from laughter._session_types import MediaChunk, SessionUpdate
from laughter._types import AnalysisResult, HealthStatus, ModelInfo
from laughter.v1 import laughter_service_pb2

__all__ = ["LaughterClient"]

ResponseT = TypeVar("ResponseT", bound=protobuf_message.Message)


class LaughterClient(ResultsMixin, BaseClient):
    """A blocking client of the laughter.v1 service; use it as a context manager or call :meth:`close`.

    >>> with LaughterClient("127.0.0.1:50051") as client:          # doctest: +SKIP
    ...     result = client.analyze_file("clip.mp4")
    ...     print(result.summary.dominant_laughter_type)

    A client holds one gRPC channel and is safe to share between threads. Idempotent calls are retried
    as :class:`~laughter.RetryPolicy` (``options.retry``) says; streams never are.
    """

    def __init__(
        self, address: str | Sequence[str] | None = None, *, options: ClientOptions | None = None
    ) -> None:
        super().__init__(address, options=options)
        if self._credentials is None:
            self._channel: grpc.Channel = grpc.insecure_channel(
                self._target.target, options=self._channel_options()
            )
        else:
            self._channel = grpc.secure_channel(
                self._target.target, self._credentials, options=self._channel_options()
            )

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

    def _retrying(
        self, method: str, attempt: Callable[[float | None], ResponseT], timeout_s: float | None
    ) -> ResponseT:
        """Run ``attempt(timeout)`` until it succeeds or the retry policy gives up."""
        state = RetryState(self._options.retry, method, self._deadline_s(timeout_s))
        while True:
            attempt_timeout_s = state.begin()
            try:
                return attempt(attempt_timeout_s)
            except LaughterError as error:
                delay_s = state.wait_s(error)
                if delay_s is None:
                    raise
            time.sleep(delay_s)

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

        def attempt(attempt_timeout_s: float | None) -> ResponseT:
            try:
                response: ResponseT = rpc(request, timeout=attempt_timeout_s, metadata=self._call_metadata())
            except grpc.RpcError as exc:
                raise map_rpc_error(exc) from None
            return response

        return self._retrying(method, attempt, timeout_s)

    def _upload(
        self,
        path: pathlib.Path,
        size_bytes: int,
        options: AnalysisOptions | None,
        timeout_s: float | None,
        tags: StoreTags,
    ) -> AnalysisResult:
        rpc: Callable[..., Any] = self._channel.stream_unary(
            ANALYZE_MEDIA_UPLOAD_METHOD,
            request_serializer=_serialize,
            response_deserializer=laughter_service_pb2.AnalyzeMediaUploadResponse.FromString,
        )

        def attempt(attempt_timeout_s: float | None) -> laughter_service_pb2.AnalyzeMediaUploadResponse:
            feed = self._upload_feed(path, size_bytes, options, tags)
            try:
                response: laughter_service_pb2.AnalyzeMediaUploadResponse = rpc(
                    feed.requests(), timeout=attempt_timeout_s, metadata=self._call_metadata()
                )
            except grpc.RpcError as exc:
                if feed.failure is not None:
                    raise feed.failure from None
                raise map_rpc_error(exc) from None
            if feed.failure is not None:
                raise feed.failure
            return response

        return result_from_proto(self._retrying(ANALYZE_MEDIA_UPLOAD_METHOD, attempt, timeout_s).result)

    def analyze_bytes(
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
        client_id: str = "",
        fresh: bool = False,
    ) -> AnalysisResult:
        """Analyse a media file (any container FFmpeg reads); a missing or unreadable file raises a
        :class:`~laughter.MediaFileError` before any call is made. Files above
        ``options.upload_threshold_bytes`` are sent in pieces (``AnalyzeMediaUpload``), read from disk one
        at a time; smaller ones in one message."""
        self._check_open()
        file_path, size_bytes = stat_media_file(path)
        if self._should_upload(size_bytes):
            return self._upload(file_path, size_bytes, options, timeout_s, StoreTags(client_id, fresh))
        data, filename = read_media_file(file_path)
        return self.analyze_bytes(
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
    ) -> Iterator[FileResult]:
        """Analyse many files, at most ``concurrency`` at a time (worker threads), and yield a
        :class:`~laughter.FileResult` for each as it finishes, in order of completion.

        A file that fails (missing, a directory, rejected by the server, past its deadline, the server
        still down after the retries) gives a result with ``error`` set; the batch goes on. ``timeout_s``
        is each file's deadline. ``paths`` is read lazily. Leaving the loop early cancels the files not
        yet started.

        >>> for item in client.analyze_files(pathlib.Path("clips").glob("*.mp4"), concurrency=4):  # doctest: +SKIP
        ...     print(item.path, item.result.summary.durations.event_count if item.is_ok else item.error)
        """
        self._check_open()
        check_concurrency(concurrency)

        def analyze(path: PathLike) -> AnalysisResult:
            return self.analyze_file(
                path, options=options, timeout_s=timeout_s, client_id=client_id, fresh=fresh
            )

        return iterate_threaded(analyze, paths, concurrency)

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

    def stream(
        self,
        source: Iterable[MediaChunk],
        *,
        config: SessionOptions | None = None,
        timeout_s: float | None = None,
    ) -> Generator[SessionUpdate, None, None]:
        """Stream the frames and audio chunks of ``source`` to a live session and yield its updates, the
        :class:`~laughter.AnalysisSummary` last; the same contract as
        :meth:`AsyncLaughterClient.stream <laughter.AsyncLaughterClient.stream>`.

        ``source`` is iterated in a gRPC worker thread while this generator reads the updates. Closing the
        generator (``break``, an exception, Ctrl-C) cancels the call; an exception raised by the source
        is re-raised here. Live sessions have no deadline unless ``timeout_s`` is given.

        >>> for update in client.stream(file_source("clip.mp4")):   # doctest: +SKIP
        ...     print(update.kind)
        """
        self._check_open()
        options = session_options_for(source, config)
        feed = _RequestFeed(options, source)
        rpc: Callable[..., Any] = self._channel.stream_stream(
            STREAMING_ANALYZE_METHOD,
            request_serializer=_serialize,
            response_deserializer=laughter_service_pb2.StreamingAnalyzeResponse.FromString,
        )
        call = rpc(feed.requests(), timeout=timeout_s, metadata=self._call_metadata())
        feed.attach(call)
        try:
            for response in call:
                update = update_from_proto(response.update)
                if update is not None:
                    yield update
        except grpc.RpcError as exc:
            if feed.failure is not None:
                raise feed.failure from None
            raise map_rpc_error(exc) from None
        finally:
            call.cancel()


class _RequestFeed:
    """The request stream of a sync StreamingAnalyze call: the config, then the source's chunks. A failing
    source cancels the call and keeps its exception for the reader."""

    def __init__(self, options: SessionOptions, source: Iterable[MediaChunk]) -> None:
        self._options = options
        self._source = source
        self._call: grpc.Future[Any] | None = None
        self._attached = threading.Event()
        self.failure: BaseException | None = None

    def attach(self, call: grpc.Future[Any]) -> None:
        """Remember the call, so a failing source can cancel it."""
        self._call = call
        self._attached.set()

    def requests(self) -> Iterator[laughter_service_pb2.StreamingAnalyzeRequest]:
        """The requests; runs in a gRPC worker thread."""
        yield config_request(self._options)
        try:
            for chunk in self._source:
                yield chunk_request(chunk)
        except Exception as exc:  # the source failed: re-raised to the reader of the updates
            self.failure = exc
            self._attached.wait()
            if self._call is not None:
                self._call.cancel()


def _serialize(message: protobuf_message.Message) -> bytes:
    return message.SerializeToString()
