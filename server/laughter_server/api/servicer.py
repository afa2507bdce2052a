"""The laughter.v1 servicer: thin handlers that validate, call the pipeline, and convert.

The live-session RPCs (StreamingAnalyze, CreateSession, AppendSessionMedia, WatchSession, EndSession) are
part of the API but not served by this version: they answer UNIMPLEMENTED (the generated base class).
"""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
import time
import uuid
from collections.abc import AsyncIterator

import grpc
import structlog
from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc

from laughter_server.api import convert
from laughter_server.api.status import translate_errors
from laughter_server.config import Settings
from laughter_server.errors import (
    AnalysisTimeoutError,
    CapacityExceededError,
    InvalidOptionError,
    MediaTooLargeError,
    ModelUnavailableError,
)
from laughter_server.inference.models import FaceModels
from laughter_server.observability.metrics import Metrics
from laughter_server.pipeline.audio_stage import AudioStage
from laughter_server.pipeline.whole_file import AnalysisResult, WholeFileAnalyzer

log = structlog.get_logger(__name__)

DEADLINE_MARGIN_S = 0.2
"""Stop this long before the client's deadline so the client gets our DEADLINE_EXCEEDED, not a cut-off."""
QUEUE_FACTOR = 4
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
    ) -> None:
        self.settings = settings
        self.analyzer = analyzer
        self.face_models = face_models
        self.audio = audio
        self.metrics = metrics
        self._slots = asyncio.Semaphore(settings.max_concurrent_analyses)
        self._waiting = 0

    @contextlib.asynccontextmanager
    async def _rpc(self, method: str, context: grpc.aio.ServicerContext) -> AsyncIterator[str]:
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
        try:
            yield
        finally:
            self.metrics.analyses_in_flight.dec()
            self._slots.release()

    async def AnalyzeMedia(
        self, request: laughter_service_pb2.AnalyzeMediaRequest, context: grpc.aio.ServicerContext
    ) -> laughter_service_pb2.AnalyzeMediaResponse:
        """Whole-file analysis of the media bytes in the request."""
        async with self._rpc("AnalyzeMedia", context) as request_id:
            size = len(request.content)
            if size > self.settings.max_message_bytes:
                raise MediaTooLargeError(
                    f"the media is {size / 1e6:.1f} MB, above this server's limit of "
                    f"{self.settings.max_message_bytes / 1e6:.1f} MB; send a shorter file, stream it with "
                    "StreamingAnalyze, or raise --max-message-bytes on the server"
                )
            options = convert.options_from_proto(
                request.options,
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
                        result = await self.analyzer.analyze(request.content, options)
                except TimeoutError:
                    raise AnalysisTimeoutError(
                        f"the analysis did not finish within the call's deadline ({remaining:.1f} s); allow "
                        "about a quarter of the media's duration, or lower options.analysis_frame_rate_hertz"
                    ) from None
            self._record(result)
            return convert.analyze_response(result, request_id)
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
        self, request: laughter_service_pb2.ListModelsRequest, context: grpc.aio.ServicerContext
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
        self, request: laughter_service_pb2.ReloadModelRequest, context: grpc.aio.ServicerContext
    ) -> laughter_service_pb2.ReloadModelResponse:
        """Switch the audio model to another shipped version without a restart."""
        async with self._rpc("ReloadModel", context):
            current = self.audio.describe()
            name = request.model_name or current.name
            if name != current.name:
                raise InvalidOptionError(
                    "model_name", f"only the audio model '{current.name}' can be reloaded (got {name!r})"
                )
            version = request.version
            if not version or "/" in version or "\\" in version or version.startswith("."):
                raise InvalidOptionError("version", "version must be a plain version string such as 1.0.0")
            models_dir = pathlib.Path(self.settings.audio_model).parent
            path = models_dir / f"{name}-{version}.skops"
            if not path.is_file():
                available = sorted(
                    p.stem.removeprefix(name + "-") for p in models_dir.glob(name + "-*.skops")
                )
                raise InvalidOptionError(
                    "version",
                    f"no version {version!r} of {name}; available: {', '.join(available) or 'none'}",
                )
            described = await asyncio.to_thread(self.audio.reload, path)
            return laughter_service_pb2.ReloadModelResponse(model=convert.model_to_proto(described))
        raise AssertionError("unreachable: translate_errors aborts the call")
