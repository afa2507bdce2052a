"""The browser's port (``--web-listen``): the RPCs a page needs over gRPC-Web (``grpc_web.py``) and the built
page itself (``web_http.py``), served by hypercorn on a socket bound here. The calls reach the very servicer,
health service, admission control and token check of the gRPC port."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import structlog
from grpc_health.v1 import health_pb2_grpc
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config as HypercornConfig
from laughter.v1 import laughter_service_pb2_grpc

from laughter_server.api.grpc_web import GrpcWebGateway
from laughter_server.api.interceptors import TokenAuthInterceptor
from laughter_server.api.tokens import load_tokens
from laughter_server.api.web_http import StaticFiles

if TYPE_CHECKING:
    from laughter_server.app import RunningServer

log = structlog.get_logger(__name__)

WEB_SLACK_BYTES = 64 * 1024
"""Room above max_message_bytes for the envelope and the other fields, so that the servicer answers media
slightly over the limit with its own message; bodies past this are refused without being kept."""


@dataclasses.dataclass
class WebServer:
    """The running web port."""

    port: int
    task: asyncio.Task[None]
    shutdown: asyncio.Event
    sock: socket.socket

    async def stop(self) -> None:
        """Stop taking requests; open ones get the configured grace."""
        self.shutdown.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.sock.detach()  # hypercorn owned the descriptor (fd://) and has closed it


def _bind(listen: str) -> socket.socket:
    host, _, port = listen.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, int(port)))
    except (OSError, ValueError):
        sock.close()
        raise OSError(
            f"cannot listen on {listen} for the web page: address in use or not available"
        ) from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def start_web(
    listen: str,
    servicers: Sequence[tuple[Callable[[Any, Any], None], Any]],
    *,
    static_dir: str,
    allowed_origins: str,
    interceptor: TokenAuthInterceptor | None,
    max_body_bytes: int,
    grace_s: float,
) -> WebServer:
    """Serve ``servicers`` (pairs of a generated ``add_*_to_server`` and its servicer) and the page."""
    origins = [o.strip().rstrip("/") for o in allowed_origins.split(",") if o.strip()]
    gateway = GrpcWebGateway(
        StaticFiles(static_dir),
        interceptor=interceptor,
        allowed_origins=origins,
        max_body_bytes=max_body_bytes,
    )
    for add, servicer in servicers:
        add(servicer, gateway)
    sock = _bind(listen)
    config = HypercornConfig()
    config.bind = [f"fd://{sock.fileno()}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")  # through the server's own log setup
    config.graceful_timeout = grace_s
    config.keep_alive_timeout = 75.0
    shutdown = asyncio.Event()
    task = asyncio.create_task(
        hypercorn_serve(gateway, config, shutdown_trigger=shutdown.wait, mode="asgi"),  # type: ignore[arg-type]
        name="web",
    )
    port = int(sock.getsockname()[1])
    log.info("web.started", port=port, listen=listen, static_dir=static_dir)
    return WebServer(port, task, shutdown, sock)


async def start_web_for(running: RunningServer) -> WebServer:
    """The web port of a started gRPC server: its servicer, health service, token check and limits."""
    settings = running.services.settings
    tokens = load_tokens(settings.auth_token, settings.auth_token_file, settings.auth_tenants_file)
    return await start_web(
        settings.web_listen,
        (
            (laughter_service_pb2_grpc.add_LaughterAnalysisServiceServicer_to_server, running.servicer),
            (health_pb2_grpc.add_HealthServicer_to_server, running.health),
        ),
        static_dir=settings.web_static_dir,
        allowed_origins=settings.web_allowed_origins,
        interceptor=TokenAuthInterceptor(tokens) if tokens else None,
        max_body_bytes=settings.max_message_bytes + WEB_SLACK_BYTES,
        grace_s=settings.shutdown_grace_s,
    )
