"""One table from the service's errors to gRPC status codes with rich details (google.rpc ErrorInfo,
BadRequest, RetryInfo), and ``translate_errors`` which every RPC runs inside."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import structlog
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from laughter_server import errors

log = structlog.get_logger(__name__)

DOMAIN = "laughter.v1"

STATUS_TABLE: tuple[tuple[type[errors.LaughterError], grpc.StatusCode], ...] = (
    (errors.InvalidMediaError, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.InvalidOptionError, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.MediaTooLargeError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.CapacityExceededError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.ModelUnavailableError, grpc.StatusCode.UNAVAILABLE),
    (errors.ModelLoadError, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.AnalysisTimeoutError, grpc.StatusCode.DEADLINE_EXCEEDED),
    (errors.SessionNotFoundError, grpc.StatusCode.NOT_FOUND),
    (errors.SessionExistsError, grpc.StatusCode.ALREADY_EXISTS),
    (errors.SessionClosedError, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.ShuttingDownError, grpc.StatusCode.UNAVAILABLE),
    (errors.ResultNotFoundError, grpc.StatusCode.NOT_FOUND),
    (errors.StoreUnavailableError, grpc.StatusCode.UNAVAILABLE),
)


def status_code_for(error: errors.LaughterError) -> grpc.StatusCode:
    """The gRPC code of a service error (first matching row of STATUS_TABLE)."""
    for kind, code in STATUS_TABLE:
        if isinstance(error, kind):
            return code
    return grpc.StatusCode.INTERNAL


def _pack(message: Message) -> any_pb2.Any:
    detail = any_pb2.Any()
    detail.Pack(message)
    return detail


def _retry_after(seconds: float) -> error_details_pb2.RetryInfo:
    delay = duration_pb2.Duration()
    delay.FromMilliseconds(int(seconds * 1000))
    return error_details_pb2.RetryInfo(retry_delay=delay)


def to_rpc_status(error: errors.LaughterError, metadata: dict[str, str] | None = None) -> status_pb2.Status:
    """A google.rpc.Status with ErrorInfo (reason, domain) and, where they apply, BadRequest and RetryInfo."""
    code = status_code_for(error)
    details = [
        _pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=DOMAIN, metadata=metadata or {}))
    ]
    if isinstance(error, errors.InvalidOptionError):
        details.append(
            _pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field=error.field, description=error.message
                        )
                    ]
                )
            )
        )
    if isinstance(
        error,
        errors.ModelUnavailableError
        | errors.CapacityExceededError
        | errors.ShuttingDownError
        | errors.StoreUnavailableError,
    ):
        details.append(_pack(_retry_after(error.retry_after_s)))
    return status_pb2.Status(code=code.value[0], message=error.message, details=details)


def internal_status(request_id: str) -> status_pb2.Status:
    """What a client sees for an unexpected failure: a reference to the log line, never the exception text."""
    info = error_details_pb2.ErrorInfo(reason="INTERNAL", domain=DOMAIN, metadata={"request_id": request_id})
    return status_pb2.Status(
        code=code_pb2.INTERNAL,
        message=f"internal error (request_id={request_id}); the server log has the details",
        details=[_pack(info)],
    )


@contextlib.asynccontextmanager
async def translate_errors(
    context: grpc.aio.ServicerContext[Any, Any], request_id: str | None = None
) -> AsyncIterator[None]:
    """Run an RPC body: service errors become their status, anything unexpected INTERNAL (logged)."""
    try:
        yield
    except errors.LaughterError as exc:
        status = to_rpc_status(exc)
        log.info("rpc.rejected", code=status_code_for(exc).name, reason=exc.reason, detail=exc.message)
        await context.abort_with_status(rpc_status.to_status(status))
    except grpc.aio.AbortError:
        raise
    except Exception:  # the one place that turns unexpected failures into INTERNAL, never leaking them
        rid = request_id or uuid.uuid4().hex[:12]
        log.exception("rpc.failed", request_id=rid)
        await context.abort_with_status(rpc_status.to_status(internal_status(rid)))
