"""Server interceptors: bearer-token authentication (when the server is configured with a token)."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from laughter_server.api.status import DOMAIN

if TYPE_CHECKING:
    Handler = grpc.RpcMethodHandler[Any, Any]
else:
    Handler = grpc.RpcMethodHandler

OPEN_SERVICES = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)
"""Health and reflection stay reachable without a token (load balancers and grpcurl need them)."""


def _unauthenticated(message: str) -> status_pb2.Status:
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason="UNAUTHENTICATED", domain=DOMAIN))
    return status_pb2.Status(code=grpc.StatusCode.UNAUTHENTICATED.value[0], message=message, details=[detail])


class TokenAuthInterceptor(grpc.aio.ServerInterceptor):
    """Requires ``authorization: Bearer <token>`` metadata on every laughter.v1 call."""

    def __init__(self, token: str) -> None:
        self._expected = ("Bearer " + token).encode()

    def _allowed(self, details: grpc.HandlerCallDetails) -> bool:
        method = details.method or ""
        if method.startswith(OPEN_SERVICES):
            return True
        for key, value in details.invocation_metadata or ():
            if key == "authorization":
                given = value.encode() if isinstance(value, str) else bytes(value)
                return hmac.compare_digest(given, self._expected)
        return False

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None or self._allowed(handler_call_details):
            return handler
        status = rpc_status.to_status(
            _unauthenticated("missing or wrong access token: send metadata 'authorization: Bearer <token>'")
        )

        async def deny_unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            await context.abort_with_status(status)

        async def deny_stream(
            request: Any, context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            await context.abort_with_status(status)
            yield None  # pragma: no cover - abort raises

        kwargs: dict[str, Any] = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(deny_unary, **kwargs)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(deny_stream, **kwargs)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(deny_unary, **kwargs)
        return grpc.stream_stream_rpc_method_handler(deny_stream, **kwargs)
