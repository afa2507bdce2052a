"""The laughter.v1 servicer: thin handlers that validate, call the pipeline, and convert.

Live sessions are served twice over the same ``LiveSession`` code: ``StreamingAnalyze`` (bidirectional, for
native clients) and ``CreateSession`` / ``AppendSessionMedia`` / ``WatchSession`` / ``EndSession`` (unary
pushes plus a server stream, for browsers), so both transports emit identical updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import structlog
from laughter.v1 import analysis_pb2, laughter_service_pb2, laughter_service_pb2_grpc, media_pb2, session_pb2

from laughter_server.api import convert, session_convert, validation
from laughter_server.api.status import translate_errors
from laughter_server.config import Settings
from laughter_server.errors import (
    AnalysisTimeoutError,
    CapacityExceededError,
    InvalidOptionError,
    MediaTooLargeError,
    ModelUnavailableError,
    SessionClosedError,
    SessionConfigError,
    SessionExistsError,
    ShuttingDownError,
    UploadInvalidError,
)
from laughter_server.inference.models import FaceModels
from laughter_server.observability.metrics import Metrics
from laughter_server.pipeline.audio_stage import AudioStage
from laughter_server.pipeline.registry import SessionRegistry
from laughter_server.pipeline.session import LiveSession, SessionSpec, SummaryUpdate, WarningUpdate
from laughter_server.pipeline.whole_file import AnalysisResult, WholeFileAnalyzer

log = structlog.get_logger(__name__)

Context = grpc.aio.ServicerContext[Any, Any]

DEADLINE_MARGIN_S = 0.2
"""Stop this long before the client's deadline so the client gets our DEADLINE_EXCEEDED, not a cut-off."""
QUEUE_FACTOR = 4
SESSION_DEADLINE_MARGIN_S = 1.0
"""A live session whose call deadline is this close ends itself, so the summary still reaches the client."""
"""Whole-file requests beyond max_concurrent_analyses * QUEUE_FACTOR waiting are refused at once."""


class LaughterServicer(laughter_service_pb2_grpc.LaughterAnalysisServiceServicer):
    """Serves AnalyzeMedia, ListModels and ReloadModel."""

    def __init__(
        self,
        settings: Settings,
        analyzer: WholeFileAnalyzer,
        face_models: FaceModels,
        audio: AudioStage,
        metrics: Metrics,
        registry: SessionRegistry,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.analyzer = analyzer
        self.face_models = face_models
        self.audio = audio
        self.metrics = metrics
        self._slots = asyncio.Semaphore(settings.max_concurrent_analyses)
        self._waiting = 0
        self._running = 0
        self.is_draining = False

    async def drain(self, timeout_s: float) -> None:
        """Refuse new analyses with UNAVAILABLE (retryable) and wait up to ``timeout_s`` for running ones."""
        self.is_draining = True
        deadline = asyncio.get_running_loop().time() + timeout_s
        while (self._running or self._waiting) and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110 - a short poll at shutdown only
            await asyncio.sleep(0.05)

    def _refuse_when_draining(self) -> None:
        if self.is_draining:
            raise ShuttingDownError(
                "the server is shutting down; retry in a few seconds or on another replica"
            )

    @contextlib.asynccontextmanager
    async def _rpc(self, method: str, context: Context) -> AsyncIterator[str]:
        request_id = uuid.uuid4().hex[:16]
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(
            rpc_method=method, request_id=request_id, peer=context.peer()
        ):
            try:
                async with translate_errors(context, request_id):
                    yield request_id
            finally:
                elapsed = time.perf_counter() - started
                self.metrics.rpc_seconds.labels(method=method).observe(elapsed)
                code = context.code()
                if code is not None and code != grpc.StatusCode.OK:
                    self.metrics.rpc_errors.labels(method=method, code=getattr(code, "name", str(code))).inc()
                log.info("rpc.finished", duration_s=round(elapsed, 3), code=getattr(code, "name", "OK"))

    @contextlib.asynccontextmanager
    async def _analysis_slot(self) -> AsyncIterator[None]:
        self._refuse_when_draining()
        if self._slots.locked() and self._waiting >= self.settings.max_concurrent_analyses * QUEUE_FACTOR:
            raise CapacityExceededError(
                f"the server is already analysing {self.settings.max_concurrent_analyses} files with "
                f"{self._waiting} more waiting; retry later or lower your concurrency",
                retry_after_s=5.0,
            )
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        self.metrics.analyses_in_flight.inc()
        self._running += 1
        try:
            yield
        finally:
            self._running -= 1
            self.metrics.analyses_in_flight.dec()
            self._slots.release()

    async def _analyze(
        self, content: bytes, options_message: analysis_pb2.AnalysisOptions, context: Context
    ) -> AnalysisResult:
        options = convert.options_from_proto(
            options_message,
            default_frame_rate_hertz=self.settings.default_frame_rate_hertz,
            max_frame_rate_hertz=self.settings.max_frame_rate_hertz,
        )
        if options.use_video and not await self.face_models.is_ready():
            raise ModelUnavailableError(
                "the face models are not ready (inference server down or starting); retry shortly, "
                "or set options.disable_video to analyse audio only"
            )
        remaining = context.time_remaining()
        budget_s = None if remaining is None else max(0.0, remaining - DEADLINE_MARGIN_S)
        async with self._analysis_slot():
            try:
                async with asyncio.timeout(budget_s):
                    result = await self.analyzer.analyze(content, options)
            except TimeoutError:
                raise AnalysisTimeoutError(
                    f"the analysis did not finish within the call's deadline ({remaining:.1f} s); allow "
                    "about a quarter of the media's duration, or lower options.analysis_frame_rate_hertz"
                ) from None
        self._record(result)
        return result

    async def AnalyzeMedia(
        self, request: laughter_service_pb2.AnalyzeMediaRequest, context: Context
    ) -> laughter_service_pb2.AnalyzeMediaResponse:
        """Whole-file analysis of the media bytes in the request."""
        async with self._rpc("AnalyzeMedia", context) as request_id:
            size = len(request.content)
            if size > self.settings.max_message_bytes:
                raise MediaTooLargeError(
                    f"the media is {size / 1e6:.1f} MB, above this server's limit of "
                    f"{self.settings.max_message_bytes / 1e6:.1f} MB for one message; send it in pieces with "
                    "AnalyzeMediaUpload, or raise --max-message-bytes on the server"
                )
            result = await self._analyze(request.content, request.options, context)
            return convert.analyze_response(result, request_id)
        raise AssertionError("unreachable: translate_errors aborts the call")

    async def AnalyzeMediaUpload(
        self,
        request_iterator: AsyncIterator[laughter_service_pb2.AnalyzeMediaUploadRequest],
        context: Context,
    ) -> laughter_service_pb2.AnalyzeMediaUploadResponse:
        """Whole-file analysis of a file sent in pieces: header first, then the bytes in order."""
        async with self._rpc("AnalyzeMediaUpload", context) as request_id:
            limit = self.settings.max_upload_bytes
            first = await anext(aiter(request_iterator), None)
            if first is None or first.WhichOneof("request") != "header":
                raise UploadInvalidError("header", "the first AnalyzeMediaUploadRequest must carry `header`")
            header = first.header
            validation.check_upload_size(header.size_bytes)
            if header.size_bytes > limit:
                raise MediaTooLargeError(
                    f"the file is {header.size_bytes / 1e6:.1f} MB, above this server's upload limit of "
                    f"{limit / 1e6:.1f} MB (--max-upload-bytes)"
                )
            pieces: list[bytes] = []
            received = 0
            async for message in request_iterator:
                if message.WhichOneof("request") != "content_chunk":
                    raise UploadInvalidError("header", "`header` is only valid in the first message")
                received += len(message.content_chunk)
                validation.check_upload_progress(header.size_bytes, received)
                if received > limit:
                    raise MediaTooLargeError(
                        f"the upload passed this server's limit of {limit / 1e6:.1f} MB (--max-upload-bytes)"
                    )
                pieces.append(message.content_chunk)
            if header.size_bytes and received != header.size_bytes:
                raise UploadInvalidError(
                    "header.size_bytes",
                    f"the header announced {header.size_bytes} bytes but {received} arrived; the upload is incomplete",
                )
            result = await self._analyze(b"".join(pieces), header.options, context)
            return laughter_service_pb2.AnalyzeMediaUploadResponse(
                result=convert.result_to_proto(result, request_id)
            )
        raise AssertionError("unreachable: translate_errors aborts the call")

    def _record(self, result: AnalysisResult) -> None:
        for stage, seconds in result.stage_seconds.items():
            self.metrics.stage_seconds.labels(stage=stage).observe(seconds)
        self.metrics.media_seconds.inc(result.media.duration_s)
        self.metrics.frames_analyzed.inc(result.frames_analyzed)
        self.metrics.faces_detected.inc(result.face_detections)
        for event in result.events:
            self.metrics.laughter_events.labels(type=event.laughter_type.value).inc()

    async def ListModels(
        self, request: laughter_service_pb2.ListModelsRequest, context: Context
    ) -> laughter_service_pb2.ListModelsResponse:
        """The models in use, with versions and checksums."""
        async with self._rpc("ListModels", context):
            ready = await self.face_models.is_ready()
            models = [convert.model_to_proto(m) for m in self.face_models.describe()]
            for model in models:
                model.ready = ready
            models.append(convert.model_to_proto(self.audio.describe()))
            return laughter_service_pb2.ListModelsResponse(models=models)
        raise AssertionError("unreachable: translate_errors aborts the call")

    async def ReloadModel(
        self, request: laughter_service_pb2.ReloadModelRequest, context: Context
    ) -> laughter_service_pb2.ReloadModelResponse:
        """Switch the audio model to another shipped version without a restart."""
        async with self._rpc("ReloadModel", context):
            current = self.audio.describe()
            name = request.model_name or current.name
            if name != current.name:
                raise InvalidOptionError(
                    "model_name", f"only the audio model '{current.name}' can be reloaded (got {name!r})"
                )
            models_dir = pathlib.Path(self.settings.audio_model).parent
            available = sorted(
                (p.stem.removeprefix(name + "-") for p in models_dir.glob(name + "-*.skops")),
                key=version_sort_key,
            )
            version = request.version or (available[-1] if available else "")
            if not version or "/" in version or "\\" in version or version.startswith("."):
                raise InvalidOptionError("version", "version must be a plain version string such as 1.2.0")
            path = models_dir / f"{name}-{version}.skops"
            if not path.is_file():
                raise InvalidOptionError(
                    "version",
                    f"no version {version!r} of {name}; available: {', '.join(available) or 'none'}",
                )
            described = await asyncio.to_thread(self.audio.reload, path)
            return laughter_service_pb2.ReloadModelResponse(model=convert.model_to_proto(described))
        raise AssertionError("unreachable: translate_errors aborts the call")

    # live sessions -----------------------------------------------------------------------------------
    def _spec(self, config: session_pb2.SessionConfig) -> SessionSpec:
        return session_convert.spec_from_proto(
            config,
            default_frame_rate_hertz=self.settings.default_frame_rate_hertz,
            max_frame_rate_hertz=self.settings.max_frame_rate_hertz,
        )

    @staticmethod
    async def _push(session: LiveSession, chunk: media_pb2.MediaChunk) -> None:
        kind = chunk.WhichOneof("chunk")
        if kind == "frame":
            await session.push_frame(chunk.frame.data, chunk.frame.capture_offset.ToNanoseconds() / 1e9)
        elif kind == "audio":
            await session.push_audio(chunk.audio.data, chunk.audio.capture_offset.ToNanoseconds() / 1e9)
        else:
            session.warn(
                "CHUNK_INVALID", "chunk", "a MediaChunk carried neither `frame` nor `audio`; ignored"
            )

    async def _read_chunks(
        self, requests: AsyncIterator[laughter_service_pb2.StreamingAnalyzeRequest], session: LiveSession
    ) -> None:
        async for request in requests:
            kind = request.WhichOneof("request")
            if kind == "chunk":
                await self._push(session, request.chunk)
            else:
                session.warn(
                    "SESSION_CONFIG_INVALID", "config", "`config` is only valid in the first message; ignored"
                )
        session.end_input()

    def _deadline_timer(self, session: LiveSession, context: Context) -> asyncio.TimerHandle | None:
        remaining = context.time_remaining()
        if remaining is None:
            return None
        warning = WarningUpdate(
            "DEADLINE_EXCEEDED", "", "the call's deadline is near: the session ends now with its summary"
        )
        return asyncio.get_running_loop().call_later(
            max(0.0, remaining - SESSION_DEADLINE_MARGIN_S), session.end_input, warning
        )

    async def StreamingAnalyze(
        self,
        request_iterator: AsyncIterator[laughter_service_pb2.StreamingAnalyzeRequest],
        context: Context,
    ) -> AsyncIterator[laughter_service_pb2.StreamingAnalyzeResponse]:
        """A live session over one bidirectional stream: config first, then chunks; half-close ends it."""
        async with self._rpc("StreamingAnalyze", context):
            first = await anext(aiter(request_iterator), None)
            if first is None or first.WhichOneof("request") != "config":
                raise SessionConfigError(
                    "config",
                    "the first StreamingAnalyzeRequest must carry `config` (formats and options), "
                    "before any media chunk",
                    reason="SESSION_CONFIG_MISSING",
                )
            session = self.registry.open(self._spec(first.config))
            structlog.contextvars.bind_contextvars(session_id=session.spec.session_id)
            reader = asyncio.create_task(self._read_chunks(request_iterator, session))
            timer = self._deadline_timer(session, context)
            finished = False
            try:
                async for update in session.updates():
                    yield laughter_service_pb2.StreamingAnalyzeResponse(
                        update=session_convert.update_to_proto(update)
                    )
                    finished = isinstance(update, SummaryUpdate)
            finally:
                if timer is not None:
                    timer.cancel()
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
                await self.registry.retire(session, cancel=not finished)

    async def CreateSession(
        self, request: laughter_service_pb2.CreateSessionRequest, context: Context
    ) -> laughter_service_pb2.CreateSessionResponse:
        """Open a live session for the unary-push transport."""
        async with self._rpc("CreateSession", context):
            if not request.HasField("config"):
                raise SessionConfigError(
                    "config", "CreateSession needs `config`", reason="SESSION_CONFIG_MISSING"
                )
            session = self.registry.open(self._spec(request.config))
            started = session_convert.update_to_proto(session.started_update()).started
            return laughter_service_pb2.CreateSessionResponse(
                session_id=session.spec.session_id, started=started
            )
        raise AssertionError("unreachable: translate_errors aborts the call")

    async def AppendSessionMedia(
        self, request: laughter_service_pb2.AppendSessionMediaRequest, context: Context
    ) -> laughter_service_pb2.AppendSessionMediaResponse:
        """Push chunks into an open session; returns its progress."""
        async with self._rpc("AppendSessionMedia", context):
            session = self.registry.get(request.session_id)
            if session.is_closed:
                raise SessionClosedError(
                    f"session {request.session_id!r} no longer takes media (ended, idle or shutting down)"
                )
            for chunk in request.chunks:
                await self._push(session, chunk)
            return laughter_service_pb2.AppendSessionMediaResponse(
                progress=session_convert.progress_to_proto(session.progress())
            )
        raise AssertionError("unreachable: translate_errors aborts the call")

    async def WatchSession(
        self, request: laughter_service_pb2.WatchSessionRequest, context: Context
    ) -> AsyncIterator[laughter_service_pb2.WatchSessionResponse]:
        """Stream a session's updates (the same as StreamingAnalyze's) until its summary."""
        async with self._rpc("WatchSession", context):
            session = self.registry.get(request.session_id)
            if session.watched:
                raise SessionExistsError(
                    f"session {request.session_id!r} already has a watcher; one at a time"
                )
            session.watched = True
            finished = False
            try:
                async for update in session.updates():
                    yield laughter_service_pb2.WatchSessionResponse(
                        update=session_convert.update_to_proto(update)
                    )
                    finished = isinstance(update, SummaryUpdate)
            finally:
                session.watched = False
                if finished:
                    await self.registry.retire(session, cancel=False)

    async def EndSession(
        self, request: laughter_service_pb2.EndSessionRequest, context: Context
    ) -> laughter_service_pb2.EndSessionResponse:
        """Close a session's input and return its summary and events."""
        async with self._rpc("EndSession", context):
            session = self.registry.get(request.session_id)
            session.end_input()
            remaining = context.time_remaining()
            try:
                async with asyncio.timeout(
                    None if remaining is None else max(0.0, remaining - DEADLINE_MARGIN_S)
                ):
                    final = await session.final_summary()
            except TimeoutError:
                raise AnalysisTimeoutError(
                    "the session's remaining media was not analysed before the call's deadline; "
                    "call EndSession again with a longer deadline"
                ) from None
            if not session.watched:
                await self.registry.retire(session, cancel=False)
            return laughter_service_pb2.EndSessionResponse(
                summary=session_convert.summary_to_proto(final),
                events=[convert.event_to_proto(e) for e in final.events],
            )
        raise AssertionError("unreachable: translate_errors aborts the call")


def version_sort_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key of version strings: numeric parts compare as numbers (1.10.0 after 1.2.0)."""
    parts = version.replace("-", ".").split(".")
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in parts)
