"""gRPC-Web as an ASGI application: grpc method handlers (registered by the generated ``add_*_to_server``
functions, as on a ``grpc.aio`` server) answer browser calls; the token interceptor of the gRPC port wraps
them the same way. The wire format (message envelopes, trailer frames, timeouts, binary metadata) comes from
sonora's protocol module."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any

import grpc
import structlog
from sonora import protocol

from laughter_server.api.interceptors import TokenAuthInterceptor
from laughter_server.api.web_http import (
    Receive,
    Scope,
    Send,
    cors_headers,
    origin_allowed,
    preflight,
    reply_plain,
)

log = structlog.get_logger(__name__)


SERVICE = "/laughter.v1.LaughterAnalysisService/"
BROWSER_METHODS = frozenset(
    {
        SERVICE + "CreateSession",
        SERVICE + "AppendSessionMedia",
        SERVICE + "WatchSession",
        SERVICE + "EndSession",
        SERVICE + "AnalyzeMedia",
        SERVICE + "ListModels",
        SERVICE + "ListResults",
        SERVICE + "GetResult",
        SERVICE + "GetAnalytics",
        SERVICE + "GetPerformanceStats",
        "/grpc.health.v1.Health/Check",
    }
)
"""What the page may call; the rest (uploads in pieces, bidirectional streams, model reloads, deleting stored
results) stays on gRPC."""

Handler = Any


class _Code:
    """A status code that reads both as ``context.code()`` (grpc.aio's API) and ``context.code.value``."""

    def __init__(self, code: grpc.StatusCode) -> None:
        self.code = code
        self.value = code.value
        self.name = code.name

    def __call__(self) -> grpc.StatusCode:
        return self.code


class WebContext:
    """The parts of ``grpc.aio.ServicerContext`` the servicer and the health service use, for one call."""

    def __init__(self, metadata: list[tuple[str, str | bytes]], timeout_s: float | None, peer: str) -> None:
        self._metadata = tuple(metadata)
        self._deadline = None if timeout_s is None else asyncio.get_running_loop().time() + timeout_s
        self._peer = peer
        self.code = _Code(grpc.StatusCode.OK)
        self.details = ""
        self.trailing: list[tuple[str, str]] = []

    def invocation_metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        return self._metadata

    def peer(self) -> str:
        return self._peer

    def time_remaining(self) -> float | None:
        if self._deadline is None:
            return None
        return max(0.0, self._deadline - asyncio.get_running_loop().time())

    def set_code(self, code: grpc.StatusCode) -> None:
        self.code = _Code(code)

    def set_details(self, details: str) -> None:
        self.details = details

    def set_trailing_metadata(self, metadata: Iterable[tuple[str, str | bytes]]) -> None:
        self.trailing = list(protocol.encode_headers(metadata))

    async def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata: Any = ()) -> None:
        self.set_code(code)
        self.set_details(details)
        if trailing_metadata:
            self.set_trailing_metadata(trailing_metadata)
        raise _Aborted()

    async def abort_with_status(self, status: grpc.Status) -> None:
        await self.abort(status.code, status.details, status.trailing_metadata)

    def trailer_frame(self) -> bytes:
        """The final gRPC-Web frame: status, message and trailing metadata (status details included)."""
        trailers = [("grpc-status", str(self.code.value[0]))]
        if self.details:
            trailers.append(("grpc-message", _percent_encode(self.details)))
        trailers.extend(self.trailing)
        return bytes(protocol.wrap_message(True, False, protocol.pack_trailers(trailers)))


class _Aborted(grpc.RpcError):
    """Raised by ``abort``: the context holds the status."""


class _ClientGone(Exception):
    """The browser closed the request before the reply."""


async def _unary(call: Awaitable[Any], receive: Receive, context: WebContext) -> Any:
    """Run a unary handler as the gRPC port does: cancelled when the call's deadline (grpc-timeout) passes
    or the client goes away, so a page that gave up holds no analysis slot and no place in line. The handler
    runs in a task of its own: the tenant the token check enters stays in this call's context and never
    carries over to the next request on the same connection."""
    task = asyncio.ensure_future(call)
    watching = asyncio.create_task(_disconnected(receive))
    try:
        done, _ = await asyncio.wait(
            {task, watching}, timeout=context.time_remaining(), return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        watching.cancel()
    if task in done:
        return task.result()
    task.cancel()
    await asyncio.gather(task, watching, return_exceptions=True)
    if watching in done:
        raise _ClientGone()
    await context.abort(
        grpc.StatusCode.DEADLINE_EXCEEDED,
        "the call's deadline passed before the server finished; allow a longer timeout",
    )


async def _disconnected(receive: Receive) -> None:
    """Returns once the client has closed the request (the body has been read before)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _internal(context: WebContext, method: str, error: Exception) -> None:
    log.error("web.call_failed", rpc_method=method, error=type(error).__name__)
    context.set_code(grpc.StatusCode.INTERNAL)
    context.set_details("internal error in the web port; the server log has the details")
    context.trailing = []


def _percent_encode(text: str) -> str:
    """grpc-message as the gRPC spec encodes it: UTF-8, bytes outside printable ASCII and '%' percent-encoded."""
    return "".join(chr(b) if 0x20 <= b <= 0x7E and b != 0x25 else f"%{b:02X}" for b in text.encode("utf-8"))


class GrpcWebGateway:
    """An ASGI application that answers gRPC-Web calls with grpc method handlers, and otherwise hands the
    request to ``fallback`` (the static page)."""

    def __init__(
        self,
        fallback: Callable[[Scope, Receive, Send], Awaitable[None]],
        *,
        interceptor: TokenAuthInterceptor | None,
        allowed_origins: Sequence[str],
        max_body_bytes: int,
    ) -> None:
        self._handlers: list[grpc.GenericRpcHandler] = []
        self._fallback = fallback
        self._interceptor = interceptor
        self._allowed_origins = tuple(allowed_origins)
        self._max_body_bytes = max_body_bytes

    # the registration API the generated add_*_to_server functions call
    def add_generic_rpc_handlers(self, handlers: Iterable[grpc.GenericRpcHandler]) -> None:
        self._handlers.extend(handlers)

    def add_registered_method_handlers(self, service_name: str, method_handlers: dict[str, Handler]) -> None:
        """Not needed: the generic handlers registered alongside cover every method."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return
        path: str = scope["path"]
        if path not in BROWSER_METHODS:
            await self._fallback(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v for k, v in scope["headers"]}
        origin = headers.get("origin", b"").decode("latin-1")
        host = headers.get("host", b"").decode("latin-1")
        if origin and not origin_allowed(origin, host, self._allowed_origins):
            log.info("web.origin_refused", origin=origin[:200])
            await reply_plain(send, 403, "origin not allowed: add it to --web-allowed-origins")
            return
        extra = cors_headers(origin, host)
        if scope["method"] == "OPTIONS":
            await preflight(send, extra)
            return
        if scope["method"] != "POST":
            await reply_plain(send, 405, "gRPC-Web calls are POST requests", extra)
            return
        await self._call(scope, receive, send, path, extra)

    async def _call(self, scope: Scope, receive: Receive, send: Send, path: str, extra: list[Any]) -> None:
        metadata, timeout_s, text_mode = _read_headers(scope["headers"])
        client = scope.get("client") or ("?", 0)
        context = WebContext(metadata, timeout_s, f"web:{client[0]}:{client[1]}")
        content_type = b"application/grpc-web-text" if text_mode else b"application/grpc-web+proto"
        head = [(b"content-type", content_type), *extra]
        handler = await self._handler(path, metadata)
        if handler is None:
            context.set_code(grpc.StatusCode.UNIMPLEMENTED)
            await _reply(send, head, [], context, text_mode)
            return
        declared = next((int(v) for k, v in scope["headers"] if k.lower() == b"content-length"), 0)
        if declared > self._max_body_bytes:
            context.set_code(grpc.StatusCode.RESOURCE_EXHAUSTED)
            context.set_details(f"request larger than the server's limit of {self._max_body_bytes} bytes")
            await _reply(send, head, [], context, text_mode)
            return
        body = await _read_body(receive, self._max_body_bytes)
        if body is None:
            context.set_code(grpc.StatusCode.RESOURCE_EXHAUSTED)
            context.set_details(f"request larger than the server's limit of {self._max_body_bytes} bytes")
            await _reply(send, head, [], context, text_mode)
            return
        try:
            request = handler.request_deserializer(_first_message(body, text_mode))
        except Exception:  # undecodable protobuf or envelope
            context.set_code(grpc.StatusCode.INVALID_ARGUMENT)
            context.set_details("the request is not a gRPC-Web message of this method's type")
            await _reply(send, head, [], context, text_mode)
            return
        if handler.unary_unary is not None:
            messages: list[bytes] = []
            try:
                reply = await _unary(handler.unary_unary(request, context), receive, context)
                messages.append(handler.response_serializer(reply))
            except _ClientGone:
                return
            except _Aborted:
                pass
            except Exception as error:  # the servicer answers its own errors; anything else is a fault here
                _internal(context, path, error)
            await _reply(send, head, messages, context, text_mode)
            return
        await _stream(receive, send, head, handler, request, context, text_mode)

    async def _handler(self, path: str, metadata: list[tuple[str, str | bytes]]) -> Handler | None:
        details = _CallDetails(path, tuple(metadata))
        handler = next((h for g in self._handlers if (h := g.service(details)) is not None), None)
        if handler is None or self._interceptor is None:
            return handler

        async def found(_details: grpc.HandlerCallDetails) -> Handler:
            return handler

        return await self._interceptor.intercept_service(found, details)


@dataclasses.dataclass
class _CallDetails:
    """``grpc.HandlerCallDetails`` for one web call (not frozen: grpc's protocol declares settable fields)."""

    method: str
    invocation_metadata: tuple[tuple[str, str | bytes], ...]


def _read_headers(
    raw: Iterable[tuple[bytes, bytes]],
) -> tuple[list[tuple[str, str | bytes]], float | None, bool]:
    """Call metadata (``-bin`` values decoded), the grpc-timeout in seconds, and whether the body is base64."""
    metadata: list[tuple[str, str | bytes]] = []
    timeout_s = None
    text_mode = False
    for key, value in raw:
        name = key.decode("latin-1").lower()
        if name == "grpc-timeout":
            with contextlib.suppress(ValueError, KeyError, IndexError):
                timeout_s = float(protocol.parse_timeout(value))
        elif name == "content-type":
            text_mode = value.startswith(b"application/grpc-web-text")
        elif name.endswith("-bin"):
            with contextlib.suppress(ValueError):
                metadata.append((name, _b64(value)))
        else:
            metadata.append((name, value.decode("latin-1")))
    return metadata, timeout_s, text_mode


def _b64(value: bytes) -> bytes:
    return base64.b64decode(value + b"=" * (-len(value) % 4))


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it passes ``limit`` (nothing more is kept)."""
    parts: list[bytes] = []
    size = 0
    while True:
        event = await receive()
        if event["type"] != "http.request":
            return b""
        chunk = event.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
        if not event.get("more_body"):
            return b"".join(parts)


def _first_message(body: bytes, text_mode: bool) -> bytes:
    """The first (for these methods: only) message of a request body."""
    if text_mode:
        body = _b64(body)
    if not body:
        return b""
    _trailers, compressed, data = protocol.unwrap_message(body)
    if compressed:
        raise ValueError("compressed messages are not accepted")
    return bytes(data)


def _frame(message: bytes, text_mode: bool) -> bytes:
    framed = protocol.wrap_message(False, False, message)
    return _encode(framed, text_mode)


def _encode(data: bytes, text_mode: bool) -> bytes:
    return base64.b64encode(data) if text_mode else data


async def _reply(
    send: Send, head: list[Any], messages: list[bytes], context: WebContext, text_mode: bool
) -> None:
    framed = b"".join(protocol.wrap_message(False, False, m) for m in messages) + context.trailer_frame()
    body = _encode(framed, text_mode)  # one base64 run in text mode: no padding inside the body
    await send({"type": "http.response.start", "status": 200, "headers": head})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _stream(
    receive: Receive,
    send: Send,
    head: list[Any],
    handler: Handler,
    request: Any,
    context: WebContext,
    text_mode: bool,
) -> None:
    """A server stream: each message as it comes, then the trailer frame; stops when the client leaves."""
    await send({"type": "http.response.start", "status": 200, "headers": head})

    async def pump() -> None:
        responses: AsyncIterator[Any] = handler.unary_stream(request, context)
        try:
            async for response in responses:
                body = _frame(handler.response_serializer(response), text_mode)
                await send({"type": "http.response.body", "body": body, "more_body": True})
        except _Aborted:
            pass
        except Exception as error:  # as for unary calls: a fault of this port, reported without its text
            _internal(context, "stream", error)
        await send(
            {
                "type": "http.response.body",
                "body": _encode(context.trailer_frame(), text_mode),
                "more_body": False,
            }
        )

    pumping = asyncio.create_task(pump())
    watching = asyncio.create_task(_disconnected(receive))
    try:
        await asyncio.wait({pumping, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pumping, watching):
            task.cancel()
        await asyncio.gather(pumping, watching, return_exceptions=True)
