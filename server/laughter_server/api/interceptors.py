"""Server interceptors: bearer-token authentication (when the server is configured with tokens), with the
caller's tenant put on the request context for the handlers (``current_tenant``) and the log lines."""

from __future__ import annotations

import contextvars
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import grpc
import structlog
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from laughter_server.api.status import DOMAIN
from laughter_server.api.tokens import TenantToken

if TYPE_CHECKING:
    Handler = grpc.RpcMethodHandler[Any, Any]
else:
    Handler = grpc.RpcMethodHandler

log = structlog.get_logger(__name__)

OPEN_SERVICES = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)
"""Health and reflection stay reachable without a token (load balancers and grpcurl need them)."""

current_tenant: contextvars.ContextVar[str] = contextvars.ContextVar("current_tenant", default="")
"""The tenant named by the call's token; empty on open services and when the server runs without tokens."""


def _unauthenticated(message: str) -> status_pb2.Status:
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason="UNAUTHENTICATED", domain=DOMAIN))
    return status_pb2.Status(code=grpc.StatusCode.UNAUTHENTICATED.value[0], message=message, details=[detail])


def bearer_credential(value: str | bytes) -> bytes | None:
    """The credential of an ``authorization`` value in the Bearer scheme (the scheme in any case, RFC 7235)."""
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    scheme, _, credential = text.strip().partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        return None
    return credential.strip().encode("latin-1", errors="replace")


def _kind(handler: Handler) -> str:
    for kind in ("unary_unary", "unary_stream", "stream_unary"):
        if getattr(handler, kind):
            return kind
    return "stream_stream"


_FACTORIES = {
    "unary_unary": grpc.unary_unary_rpc_method_handler,
    "unary_stream": grpc.unary_stream_rpc_method_handler,
    "stream_unary": grpc.stream_unary_rpc_method_handler,
    "stream_stream": grpc.stream_stream_rpc_method_handler,
}


def _enter_tenant(tenant: str) -> None:
    # each call runs in its own task, so its context holds the tenant until the call ends
    current_tenant.set(tenant)
    structlog.contextvars.bind_contextvars(tenant=tenant)


class TokenAuthInterceptor(grpc.aio.ServerInterceptor):
    """Requires ``authorization: Bearer <token>`` metadata on every laughter.v1 call."""

    def __init__(self, tokens: Sequence[TenantToken]) -> None:
        if not tokens:
            raise ValueError("TokenAuthInterceptor needs at least one token")
        self._tokens = tuple((t.token.encode(), t.tenant) for t in tokens)

    def _tenant(self, details: grpc.HandlerCallDetails) -> str | None:
        """The tenant of the call's token; None when the token is missing or unknown."""
        for key, value in details.invocation_metadata or ():
            if key != "authorization":
                continue
            given = bearer_credential(value)
            if given is None:
                return None
            tenant = None
            for token, name in self._tokens:  # every token is compared: the time does not tell which matched
                if hmac.compare_digest(given, token):
                    tenant = name
            return tenant
        return None

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method or ""
        if handler is None or method.startswith(OPEN_SERVICES):
            return handler
        tenant = self._tenant(handler_call_details)
        if tenant is not None:
            return _with_tenant(handler, tenant)
        log.info("auth.refused", rpc_method=method)
        return _denied(handler)


def _with_tenant(handler: Handler, tenant: str) -> Handler:
    """The same handler, with the tenant entered into the call's context first."""
    kind = _kind(handler)
    behaviour: Any = getattr(handler, kind)
    kwargs: dict[str, Any] = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if kind in ("unary_unary", "stream_unary"):

        async def unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            _enter_tenant(tenant)
            return await behaviour(request, context)

        return _FACTORIES[kind](unary, **kwargs)

    async def stream(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        _enter_tenant(tenant)
        async for response in behaviour(request, context):
            yield response

    return _FACTORIES[kind](stream, **kwargs)


def _denied(handler: Handler) -> Handler:
    status = rpc_status.to_status(
        _unauthenticated("missing or wrong access token: send metadata 'authorization: Bearer <token>'")
    )

    async def deny_unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort_with_status(status)

    async def deny_stream(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        await context.abort_with_status(status)
        yield None  # pragma: no cover - abort raises

    kind = _kind(handler)
    kwargs: dict[str, Any] = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    deny = deny_unary if kind in ("unary_unary", "stream_unary") else deny_stream
    return _FACTORIES[kind](deny, **kwargs)
