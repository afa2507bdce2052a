"""The laughter.v1 servicer: protobuf in, engine calls, protobuf out; nothing else.

Admission control lives in ``api/admission.py``, upload reassembly in ``api/uploads.py``, model versions on
disk in ``pipeline/model_versions.py``, metrics in ``observability/recording.py``, sessions in
``pipeline/registry.py``. Live sessions are served twice over the same ``LiveSession``: ``StreamingAnalyze``
(bidirectional, for native clients) and ``CreateSession`` / ``AppendSessionMedia`` / ``WatchSession`` /
``EndSession`` (unary pushes plus a server stream, for browsers), so both transports emit identical updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import math
import time
import uuid
import weakref
from collections.abc import AsyncIterator
from typing import Any

import grpc
import structlog
from google.protobuf import duration_pb2
from laughter.v1 import (
    analysis_pb2,
    laughter_service_pb2,
    laughter_service_pb2_grpc,
    media_pb2,
    results_pb2,
    session_pb2,
    summary_pb2,
)

from laughter_server.api import convert, session_convert, validation
from laughter_server.api.admission import Admission
from laughter_server.api.models_rpc import ModelRpcs
from laughter_server.api.results_rpc import ResultsRpcs, caller, stamp
from laughter_server.api.status import translate_errors
from laughter_server.api.uploads import reassemble
from laughter_server.config import Settings
from laughter_server.errors import (
    AnalysisTimeoutError,
    InvalidOptionError,
    MediaTooLargeError,
    ModelUnavailableError,
    SessionClosedError,
    SessionConfigError,
    SessionExistsError,
)
from laughter_server.inference.models import FaceModels
from laughter_server.observability.metrics import Metrics
from laughter_server.observability.recording import record_result
from laughter_server.pipeline.audio_stage import AudioStage
from laughter_server.pipeline.model_split import AudioSplit
from laughter_server.pipeline.options import AnalysisOptions
from laughter_server.pipeline.registry import SessionRegistry
from laughter_server.pipeline.result import AnalysisResult
from laughter_server.pipeline.session import LiveSession, StartedUpdate, SummaryUpdate, Update, WarningUpdate
from laughter_server.pipeline.vocabulary import ErrorReason
from laughter_server.pipeline.whole_file import WholeFileAnalyzer
from laughter_server.store import ResultsService, cache_key, new_result_id

log = structlog.get_logger(__name__)

Context = grpc.aio.ServicerContext[Any, Any]

DEADLINE_MARGIN_S = 0.2
"""Stop this long before the client's deadline so the client gets our DEADLINE_EXCEEDED, not a cut-off."""
SESSION_DEADLINE_MARGIN_S = 1.0
"""A live session whose call deadline is this close ends itself, so the summary still reaches the client."""


def _offset_s(value: duration_pb2.Duration, field: str) -> float:
    """A capture offset in seconds (NaN for a malformed Duration, which the session refuses with its own
    warning)."""
    try:
        return validation.duration_s(value, field)
    except InvalidOptionError:
        return math.nan


class LaughterServicer(ModelRpcs, ResultsRpcs, laughter_service_pb2_grpc.LaughterAnalysisServiceServicer):
    """Serves every laughter.v1 RPC."""

    def __init__(
        self,
        settings: Settings,
        analyzer: WholeFileAnalyzer,
        face_models: FaceModels,
        audio: AudioStage,
        metrics: Metrics,
        registry: SessionRegistry,
        results: ResultsService | None = None,
        audio_split: AudioSplit | None = None,
        audio_shadow: AudioStage | None = None,
    ) -> None:
        self.settings = settings
        self.results = results
        self.audio_split = audio_split
        self.audio_shadow = audio_shadow
        self._shadow_task: asyncio.Task[None] | None = None
        # per live session: its results owner and result id, and its summary once stored
        self._session_owners: weakref.WeakKeyDictionary[LiveSession, tuple[str, str]] = (
            weakref.WeakKeyDictionary()
        )
        self._session_summaries: weakref.WeakKeyDictionary[LiveSession, summary_pb2.AnalysisSummary] = (
            weakref.WeakKeyDictionary()
        )
        self.registry = registry
        self.analyzer = analyzer
        self.face_models = face_models
        self.audio = audio
        self.metrics = metrics
        self.admission = Admission(settings.max_concurrent_analyses, metrics)

    async def drain(self, timeout_s: float) -> None:
        """Refuse new analyses with UNAVAILABLE (retryable) and wait up to ``timeout_s`` for running ones."""
        await self.admission.drain(timeout_s)

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

    def _limited(self, options: AnalysisOptions) -> AnalysisOptions:
        """The options with the server's bounds and settings on them (the longest event, the detector
        interval)."""
        rules = dataclasses.replace(
            options.rules,
            max_event_s=max(self.settings.max_event_duration_s, 2.0 * options.rules.min_event_s),
        )
        return dataclasses.replace(options, rules=rules, detect_every=self.settings.detect_every)

    # whole files -------------------------------------------------------------------------------------
    async def _whole_file(
        self,
        content: bytes,
        options_message: analysis_pb2.AnalysisOptions,
        context: Context,
        *,
        request_id: str,
        client_id: str,
        fresh: bool,
    ) -> summary_pb2.AnalysisResult:
        """The result message: from the store when these bytes, options and models were analysed before
        (unless ``fresh``), else analysed now and queued for storing."""
        owner = caller(client_id)
        options = self._limited(
            convert.options_from_proto(
                options_message,
                default_frame_rate_hertz=self.settings.default_frame_rate_hertz,
                max_frame_rate_hertz=self.settings.max_frame_rate_hertz,
            )
        )
        key = None
        result_id = new_result_id()
        audio = self._audio_for(result_id)
        if self.results is not None and not options.include_face_samples:  # face samples are not stored
            digest = await asyncio.to_thread(lambda: hashlib.sha256(content).hexdigest())
            models = [(m.name, m.version, m.sha256) for m in self.face_models.describe()]
            models += self._audio_key_models(audio)
            settings_bytes = convert.options_to_proto(options).SerializeToString(deterministic=True)
            if options.detect_every != 1:  # a server setting, not in the request: results differ by it
                settings_bytes += f"|detect_every={options.detect_every}".encode()
            key = cache_key(digest, settings_bytes, models)
            # looked up also when fresh: a failed lookup tells that the store is down
            hit = await self.results.cached(owner, key)
            if hit is not None and not fresh:
                self.metrics.results_cached.inc()
                message = hit.result
                message.request_id = request_id
                message.cached = True
                return message
        result = await self._analyze(content, options, context, audio)
        message = convert.result_to_proto(result, request_id)
        stamp(
            self.results,
            message,
            result_id=result_id,
            owner=owner,
            client_id=client_id,
            kind=results_pb2.RESULT_KIND_WHOLE_FILE,
            cache_key=key,
        )
        self._start_shadow(content, options, owner, client_id, result_id)
        return message

    def _start_shadow(
        self, content: bytes, options: AnalysisOptions, owner: str, client_id: str, result_id: str
    ) -> None:
        """Score the audio with the shadow model in the background, one file at a time (skipped when one is
        running, so the shadow never queues work); stored as a shadow result."""
        if self.audio_shadow is None or self.results is None or not options.use_audio:
            return
        if self._shadow_task is not None and not self._shadow_task.done():
            log.info("shadow.skipped", result_id=result_id)
            return
        shadow_options = dataclasses.replace(options, use_video=False, include_face_samples=False)
        self._shadow_task = asyncio.create_task(
            self._shadow(content, shadow_options, owner, client_id, result_id), name="audio-shadow"
        )

    async def _shadow(
        self, content: bytes, options: AnalysisOptions, owner: str, client_id: str, result_id: str
    ) -> None:
        assert self.audio_shadow is not None
        try:
            result = await self.analyzer.analyze(content, options, self.audio_shadow)
        except Exception:  # the shadow must never disturb the service
            log.warning("shadow.failed", result_id=result_id)
            return
        stamp(
            self.results,
            convert.result_to_proto(result, ""),
            owner=owner,
            client_id=client_id,
            kind=results_pb2.RESULT_KIND_SHADOW,
            shadow_of=result_id,
        )

    def _audio_for(self, assignment_id: str) -> AudioStage:
        """The audio model of an analysis or session (a snapshot, unaffected by later reloads): by the A/B
        split when one is set."""
        stage = self.audio if self.audio_split is None else self.audio_split.pick(assignment_id)
        return stage.snapshot()

    def _audio_key_models(self, audio: AudioStage) -> list[tuple[str, str, str]]:
        """The audio part of the cache key: the model used, or every version of the split and its share."""
        if self.audio_split is not None:
            return self.audio_split.key_models()
        model = audio.describe()
        return [(model.name, model.version, model.sha256)]

    async def _analyze(
        self, content: bytes, options: AnalysisOptions, context: Context, audio: AudioStage
    ) -> AnalysisResult:
        if options.use_video and not await self.face_models.is_ready():
            raise ModelUnavailableError(
                "the face models are not ready (inference server down or starting); retry shortly, "
                "or set options.disable_video to analyse audio only"
            )
        remaining = context.time_remaining()
        budget_s = None if remaining is None else max(0.0, remaining - DEADLINE_MARGIN_S)
        async with self.admission.slot():
            try:
                async with asyncio.timeout(budget_s):
                    result = await self.analyzer.analyze(content, options, audio)
            except TimeoutError:
                raise AnalysisTimeoutError(
                    f"the analysis did not finish within the call's deadline ({remaining:.1f} s); allow "
                    "about a quarter of the media's duration, or lower options.analysis_frame_rate_hertz"
                ) from None
        record_result(self.metrics, result)
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
            message = await self._whole_file(
                request.content,
                request.options,
                context,
                request_id=request_id,
                client_id=request.client_id,
                fresh=request.fresh,
            )
            return laughter_service_pb2.AnalyzeMediaResponse(result=message)
        raise AssertionError("unreachable: translate_errors aborts the call")

    async def AnalyzeMediaUpload(
        self,
        request_iterator: AsyncIterator[laughter_service_pb2.AnalyzeMediaUploadRequest],
        context: Context,
    ) -> laughter_service_pb2.AnalyzeMediaUploadResponse:
        """Whole-file analysis of a file sent in pieces: header first, then the bytes in order."""
        async with self._rpc("AnalyzeMediaUpload", context) as request_id:
            self.admission.refuse_when_draining()
            header, content = await reassemble(request_iterator, self.settings.max_upload_bytes)
            message = await self._whole_file(
                content,
                header.options,
                context,
                request_id=request_id,
                client_id=header.client_id,
                fresh=header.fresh,
            )
            return laughter_service_pb2.AnalyzeMediaUploadResponse(result=message)
        raise AssertionError("unreachable: translate_errors aborts the call")

    # live sessions -----------------------------------------------------------------------------------
    def _session_ended(self, session: LiveSession) -> None:
        """Store a session's summary with its events once it ends, whoever reads it (the summary the client
        gets, if any, then carries the result id)."""
        if self.results is None or session.result is None:
            return
        owner, result_id = self._session_owners[session]
        message = summary_pb2.AnalysisResult(
            events=[convert.event_to_proto(e) for e in session.stored_events()],
            summary=convert.full_summary_to_proto(session.result),
        )
        stamp(
            self.results,
            message,
            result_id=result_id,
            owner=owner,
            client_id=session.spec.client_id,
            kind=results_pb2.RESULT_KIND_SESSION,
        )
        self._session_summaries[session] = message.summary

    def _stamp_session(self, session: LiveSession, summary: summary_pb2.AnalysisSummary) -> None:
        """Give a session's summary message its result id (and a not-stored notice) from the store."""
        if (stored := self._session_summaries.get(session)) is not None:
            summary.CopyFrom(stored)

    def _session_update(self, session: LiveSession, update: Update) -> session_pb2.SessionUpdate:
        """An update as sent: the opening one names the result id the session will be stored under, the
        summary carries it."""
        message = session_convert.update_to_proto(update)
        if isinstance(update, StartedUpdate):
            message.started.result_id = self._session_owners.get(session, ("", ""))[1]
        elif isinstance(update, SummaryUpdate):
            self._stamp_session(session, message.summary)
        return message

    def _open(self, config: session_pb2.SessionConfig, *, keep_events: bool) -> LiveSession:
        spec = session_convert.spec_from_proto(
            config,
            default_frame_rate_hertz=self.settings.default_frame_rate_hertz,
            max_frame_rate_hertz=self.settings.max_frame_rate_hertz,
            keep_events=keep_events,
        )
        spec = dataclasses.replace(spec, options=self._limited(spec.options))
        owner = caller(spec.client_id)  # who the stored summary will belong to, checked before it starts
        result_id = "" if self.results is None else new_result_id()
        audio = None
        if self.audio_split is not None:
            if not spec.session_id:  # the split assigns by the session's id: choose it here
                spec = dataclasses.replace(spec, session_id=uuid.uuid4().hex)
            audio = self.audio_split.pick(spec.session_id)
        session = self.registry.open(spec, audio, on_summary=self._session_ended)
        self._session_owners[session] = (owner, result_id)
        return session

    @staticmethod
    async def _push(session: LiveSession, chunk: media_pb2.MediaChunk) -> None:
        kind = chunk.WhichOneof("chunk")
        if kind == "frame":
            await session.push_frame(
                chunk.frame.data, _offset_s(chunk.frame.capture_offset, "chunk.frame.capture_offset")
            )
        elif kind == "audio":
            await session.push_audio(
                chunk.audio.data, _offset_s(chunk.audio.capture_offset, "chunk.audio.capture_offset")
            )
        else:
            session.warn(
                ErrorReason.CHUNK_INVALID,
                "chunk",
                "a MediaChunk carried neither `frame` nor `audio`; ignored",
            )

    async def _read_chunks(
        self, requests: AsyncIterator[laughter_service_pb2.StreamingAnalyzeRequest], session: LiveSession
    ) -> None:
        try:
            async for request in requests:
                if request.WhichOneof("request") == "chunk":
                    await self._push(session, request.chunk)
                else:
                    session.warn(
                        ErrorReason.SESSION_CONFIG_INVALID,
                        "config",
                        "`config` is only valid in the first message; ignored",
                    )
        except asyncio.CancelledError:
            raise
        except grpc.RpcError:
            pass  # the client went away: the handler retires the session
        except Exception:  # a bug in one chunk's handling must not leave the session waiting forever
            log.exception("session.reader_failed", session_id=session.spec.session_id)
            session.warn(ErrorReason.INTERNAL, "", "a chunk could not be handled; see the server log")
        session.end_input()

    def _deadline_timer(self, session: LiveSession, context: Context) -> asyncio.TimerHandle | None:
        remaining = context.time_remaining()
        if remaining is None:
            return None
        warning = WarningUpdate(
            ErrorReason.DEADLINE_EXCEEDED,
            "",
            "the call's deadline is near: the session ends now with its summary",
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
            session = self._open(first.config, keep_events=False)
            structlog.contextvars.bind_contextvars(session_id=session.spec.session_id)
            reader = asyncio.create_task(self._read_chunks(request_iterator, session))
            timer = self._deadline_timer(session, context)
            finished = False
            try:
                async for update in session.updates():
                    message = self._session_update(session, update)
                    yield laughter_service_pb2.StreamingAnalyzeResponse(update=message)
                    finished = isinstance(update, SummaryUpdate)
            finally:
                if timer is not None:
                    timer.cancel()
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
                if finished:
                    await self.registry.retire(session, cancel=False)
                else:  # the client went away: the media it sent is analysed and stored all the same
                    self.registry.detach(session)

    async def CreateSession(
        self, request: laughter_service_pb2.CreateSessionRequest, context: Context
    ) -> laughter_service_pb2.CreateSessionResponse:
        """Open a live session for the unary-push transport."""
        async with self._rpc("CreateSession", context):
            if not request.HasField("config"):
                raise SessionConfigError(
                    "config", "CreateSession needs `config`", reason="SESSION_CONFIG_MISSING"
                )
            session = self._open(request.config, keep_events=True)
            started = self._session_update(session, session.started_update()).started
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
                    message = self._session_update(session, update)
                    yield laughter_service_pb2.WatchSessionResponse(update=message)
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
            summary = convert.full_summary_to_proto(final.result)
            self._stamp_session(session, summary)
            return laughter_service_pb2.EndSessionResponse(
                summary=summary, events=[convert.event_to_proto(e) for e in final.result.events]
            )
        raise AssertionError("unreachable: translate_errors aborts the call")
