"""Build the server from settings and run it: local Triton (or an external one), models, gRPC with health and
reflection, Prometheus metrics, graceful shutdown on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import pathlib

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc
from prometheus_client import start_http_server

from laughter_server.aio import handle_stop_signals, wait_set
from laughter_server.api.interceptors import TokenAuthInterceptor
from laughter_server.api.reflection import enable_reflection
from laughter_server.api.servicer import LaughterServicer
from laughter_server.api.tokens import TenantToken, load_tokens, loose_permissions
from laughter_server.api.web import start_web_for
from laughter_server.config import Settings
from laughter_server.errors import ModelUnavailableError
from laughter_server.inference.batcher import BatchedFaceModels
from laughter_server.inference.laughter_model import BatchedLaughterModel, TritonLaughterModel
from laughter_server.inference.models import FaceModels
from laughter_server.inference.supervisor import TritonProcess
from laughter_server.inference.triton import TritonFaceModels
from laughter_server.media.decode import MediaLimits
from laughter_server.observability.metrics import Metrics
from laughter_server.pipeline.audio_stage import AudioStage
from laughter_server.pipeline.model_split import AUDIO_MODEL_NAME, AudioSplit
from laughter_server.pipeline.model_versions import resolve_version
from laughter_server.pipeline.registry import SessionRegistry
from laughter_server.pipeline.session import SessionLimits
from laughter_server.pipeline.whole_file import WholeFileAnalyzer
from laughter_server.store import ResultsService, open_results
from laughter_server.vision.emotion_versions import resolve_emotion_version

log = structlog.get_logger(__name__)

SERVICE_NAME = laughter_service_pb2.DESCRIPTOR.services_by_name["LaughterAnalysisService"].full_name
HEALTH_POLL_S = 1.0
GRPC_SLACK_BYTES = 512 * 1024
"""gRPC's own hard limit sits just above max_message_bytes, so that the servicer can answer media slightly
over the limit with its own actionable message, while no message much above the documented limit (a
streamed chunk included) is ever read into memory: those get gRPC's RESOURCE_EXHAUSTED."""


@dataclasses.dataclass
class Services:
    """Everything the servicer needs, built once."""

    settings: Settings
    face_models: TritonFaceModels
    audio: AudioStage
    analyzer: WholeFileAnalyzer
    metrics: Metrics
    triton: TritonProcess | None
    registry: SessionRegistry
    live_models: FaceModels
    results: ResultsService | None = None
    audio_split: AudioSplit | None = None
    audio_shadow: AudioStage | None = None
    laughter_model: BatchedLaughterModel | None = None

    async def close(self) -> None:
        """Write what the results store has queued, close the Triton channel and stop the local Triton."""
        if self.results is not None:
            await self.results.close(self.settings.shutdown_grace_s)
        if isinstance(self.live_models, BatchedFaceModels):
            await self.live_models.close()
        await self.face_models.close()
        if self.laughter_model is not None:
            await self.laughter_model.close()
        if self.triton is not None:
            await asyncio.to_thread(self.triton.stop)


async def build_services(settings: Settings, metrics: Metrics | None = None) -> Services:
    """Load the audio model, start (or reach) Triton and wait until its models are ready.

    The local Triton is started from the calling thread, which must live as long as the server (the child
    is tied to it by PR_SET_PDEATHSIG): call this from the event loop's thread.
    """
    audio = await asyncio.to_thread(AudioStage.load, settings.audio_model)
    warm_up = asyncio.ensure_future(asyncio.to_thread(audio.warm_up))  # overlaps Triton's start
    triton = None
    url = settings.triton_url
    if not url:
        triton = TritonProcess(
            pathlib.Path(settings.model_repository), model_config_name=settings.triton_model_config_name
        )
        triton.start()
        try:
            await asyncio.to_thread(triton.wait_ready, settings.triton_startup_timeout_s)
        except ModelUnavailableError:
            triton.stop()
            raise
        url = triton.grpc_url
    emotion_version = resolve_emotion_version(
        pathlib.Path(settings.face_models_dir), settings.face_emotion_version
    )
    face_models = TritonFaceModels(
        url,
        emotion_version=emotion_version,
        timeout_s=settings.inference_timeout_s,
        detector_batch_size=settings.detector_batch_size,
        emotion_batch_size=settings.emotion_batch_size,
        model_repository=pathlib.Path(settings.model_repository),
        backend="triton-local-cpu" if triton is not None else "triton",
    )
    try:
        await face_models.load_versions()
    except ModelUnavailableError:
        if triton is None:
            log.warning("triton.unreachable", url=url)
        else:
            await face_models.close()
            triton.stop()
            raise
    limits = MediaLimits(
        max_frame_pixels=settings.max_frame_pixels, max_duration_s=settings.max_media_duration_s
    )
    metrics = metrics or Metrics.create()
    laughter_model = BatchedLaughterModel(
        TritonLaughterModel(
            url,
            timeout_s=settings.inference_timeout_s,
            model_repository=pathlib.Path(settings.model_repository),
        ),
        max_delay_s=settings.batch_delay_ms / 1000.0,
        metrics=metrics,
    )
    audio.use_second_model(laughter_model)
    analyzer = WholeFileAnalyzer(face_models, audio, limits)
    live_models: FaceModels = face_models
    if settings.cross_stream_batching == "on":
        live_models = BatchedFaceModels(
            face_models,
            max_frames=settings.detector_batch_size,
            max_crops=settings.emotion_batch_size,
            max_delay_s=settings.batch_delay_ms / 1000.0,
            metrics=metrics,
        )
    registry = SessionRegistry(
        live_models,
        audio,
        SessionLimits(
            max_backlog_frames=settings.session_backlog_frames,
            max_chunk_bytes=settings.max_chunk_bytes,
            idle_timeout_s=settings.session_idle_timeout_s,
            max_duration_s=settings.session_max_duration_s,
            max_timestamp_jump_s=settings.session_max_timestamp_jump_s,
            max_queued_updates=settings.session_max_queued_updates,
        ),
        max_sessions=settings.max_sessions,
        metrics=metrics,
    )
    await warm_up
    results = await open_results(settings)
    split = None
    if settings.audio_model_split:
        models_dir = pathlib.Path(settings.audio_model).parent
        split = await asyncio.to_thread(
            AudioSplit.load, models_dir, settings.audio_model_split, second=laughter_model
        )
    shadow = None
    if settings.audio_model_shadow:
        models_dir = pathlib.Path(settings.audio_model).parent
        path = resolve_version(models_dir, AUDIO_MODEL_NAME, settings.audio_model_shadow)
        shadow = await asyncio.to_thread(AudioStage.load, path, laughter_model)
    for stage in (audio, shadow, *((s for s, _ in split.stages) if split else ())):
        if stage is not None:
            await stage.warm_up_second()
    return Services(
        settings,
        face_models,
        audio,
        analyzer,
        metrics,
        triton,
        registry,
        live_models,
        results,
        split,
        shadow,
        laughter_model,
    )


@dataclasses.dataclass
class HealthState:
    """What the health service last said, and a wake-up for the watcher when a model call fails."""

    health: health.aio.HealthServicer
    serving: bool | None = None
    model_failed: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)

    async def set(self, serving: bool) -> None:
        """Publish ``serving`` for the whole server and the laughter service."""
        if serving != self.serving:
            await _set_health(self.health, serving)
            self.serving = serving
            log.info("health.changed", serving=serving)

    async def mark_unavailable(self) -> None:
        """NOT_SERVING at once when a model call finds Triton gone; the watcher polls until it is back."""
        if self.serving is False:
            return
        await self.set(False)
        self.model_failed.set()


async def _watch_health(services: Services, state: HealthState) -> None:
    """Keep the health status in step with Triton; restart the local Triton if it dies."""
    while True:
        triton = services.triton
        if triton is not None and not triton.is_alive:
            log.error("triton.died", exit_code=triton.exit_code, last_output=triton.log_tail(10))
            await state.set(False)
            with contextlib.suppress(ModelUnavailableError):
                triton.restart()
                await asyncio.to_thread(triton.wait_ready, services.settings.triton_startup_timeout_s)
        state.model_failed.clear()
        ready = await services.face_models.is_ready()
        if not state.model_failed.is_set():  # a call that failed meanwhile knows better than this poll
            await state.set(ready)
        await wait_set(state.model_failed, HEALTH_POLL_S)


async def _set_health(health_servicer: health.aio.HealthServicer, serving: bool) -> None:
    status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
    for name in ("", SERVICE_NAME):
        await health_servicer.set(name, status)


@dataclasses.dataclass
class RunningServer:
    """A started gRPC server with its port and background tasks."""

    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    services: Services
    watcher: asyncio.Task[None]
    servicer: LaughterServicer

    async def stop(self, grace_s: float) -> None:
        """Refuse new calls, let open ones finish within ``grace_s``, then release everything."""
        await self.health.enter_graceful_shutdown()
        self.watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.watcher
        started = asyncio.get_running_loop().time()
        await self.servicer.drain(grace_s)  # new analyses get UNAVAILABLE (retryable), running ones finish
        remaining_s = max(0.5, grace_s - (asyncio.get_running_loop().time() - started))
        stopping = asyncio.create_task(self.server.stop(remaining_s))  # no new calls from here on
        await self.services.registry.drain(remaining_s)
        await stopping
        await self.services.close()


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS credentials from the PEM files in the settings (mutual TLS with a client CA); None for plaintext."""
    if not settings.tls_cert_file:
        return None
    key = pathlib.Path(settings.tls_key_file).read_bytes()
    chain = pathlib.Path(settings.tls_cert_file).read_bytes()
    client_ca = (
        pathlib.Path(settings.tls_client_ca_file).read_bytes() if settings.tls_client_ca_file else None
    )
    return grpc.ssl_server_credentials(
        [(key, chain)], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


def _auth_tokens(settings: Settings) -> tuple[TenantToken, ...]:
    """The accepted tokens (validated at start-up); a warning when their file is readable by others."""
    tokens = load_tokens(settings.auth_token, settings.auth_token_file, settings.auth_tenants_file)
    for name in ("auth_token_file", "auth_tenants_file"):
        path = getattr(settings, name)
        if (mode := loose_permissions(path)) is not None:
            log.warning("auth.file_permissions", setting=name, path=path, mode=mode, fix=f"chmod 600 {path}")
    if tokens:
        log.info("auth.enabled", tenants=sorted({t.tenant for t in tokens}))
    return tokens


async def start_server(
    services: Services, listen: str | None = None, *, reuse_port: bool = False
) -> RunningServer:
    """Start gRPC on ``listen`` (``host:0`` picks a free port) with health and reflection; ``reuse_port``
    shares the port with the other server processes of ``--workers`` (SO_REUSEPORT)."""
    settings = services.settings
    limit = settings.max_message_bytes + GRPC_SLACK_BYTES
    tokens = _auth_tokens(settings)
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", limit),
            ("grpc.so_reuseport", 1 if reuse_port else 0),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ],
        interceptors=[TokenAuthInterceptor(tokens)] if tokens else None,
    )
    servicer = LaughterServicer(
        settings,
        services.analyzer,
        services.face_models,
        services.audio,
        services.metrics,
        services.registry,
        services.results,
        services.audio_split,
        services.audio_shadow,
    )
    laughter_service_pb2_grpc.add_LaughterAnalysisServiceServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    enable_reflection(server, (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name))
    address = listen or settings.listen
    port = (
        server.add_secure_port(address, credentials)
        if (credentials := server_credentials(settings))
        else (server.add_insecure_port(address))
    )
    if port == 0:
        raise OSError(f"cannot listen on {listen or settings.listen}: address in use or not available")
    await server.start()
    state = HealthState(health_servicer)
    await state.set(await services.face_models.is_ready())
    services.face_models.on_unavailable(state.mark_unavailable)
    watcher = asyncio.create_task(_watch_health(services, state), name="health-watch")
    log.info("server.started", port=port, listen=listen or settings.listen)
    return RunningServer(server, port, health_servicer, services, watcher, servicer)


async def serve(settings: Settings, *, reuse_port: bool = False, signals_blocked: bool = False) -> None:
    """Run until SIGTERM/SIGINT, then drain within ``shutdown_grace_s``; ``reuse_port`` for a worker of
    ``--workers`` (``workers.py``). ``signals_blocked``: the process starts with both signals blocked (a
    worker); the handlers go in first and then unblock them, so a stop asked for during start-up (held
    pending until now) drains once the server is up instead of killing it half-loaded."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if signals_blocked:
        handle_stop_signals(loop, stop)
    metrics = Metrics.create()
    if settings.metrics_port:
        host = settings.listen.rsplit(":", 1)[0].strip("[]") or "0.0.0.0"
        start_http_server(settings.metrics_port, addr=host, registry=metrics.registry)
    services = await build_services(settings, metrics)
    running = await start_server(services, reuse_port=reuse_port)
    web = await start_web_for(running) if settings.web_listen else None
    if not signals_blocked:
        handle_stop_signals(loop, stop)
    await stop.wait()
    log.info("server.stopping", grace_s=settings.shutdown_grace_s)
    web_stopped = asyncio.create_task(web.stop()) if web is not None else None
    await running.stop(settings.shutdown_grace_s)
    if web_stopped is not None:
        await web_stopped
    log.info("server.stopped")
