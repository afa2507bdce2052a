"""map_rpc_error: gRPC failures → the SDK's exception tree."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import laughter
from google.protobuf import duration_pb2
from google.rpc import code_pb2, error_details_pb2
from laughter import map_rpc_error


class FakeRpcError(grpc.RpcError, grpc.Call):
    """A failed call as grpc raises it: code, details and trailing metadata from a grpc.Status."""

    def __init__(self, status: Any) -> None:
        super().__init__()
        self._status = status

    def code(self) -> grpc.StatusCode:
        return self._status.code

    def details(self) -> str:
        return self._status.details

    def trailing_metadata(self) -> Any:
        return self._status.trailing_metadata

    def initial_metadata(self) -> Any:
        return ()

    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> float | None:
        return None

    def cancel(self) -> bool:
        return False

    def add_callback(self, callback: Any) -> bool:
        return False


class PlainStatus:
    """A status without rich details."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self.code, self.details, self.trailing_metadata = code, details, ()


def _retry(seconds: int) -> error_details_pb2.RetryInfo:
    return error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=seconds))


class TestMapRpcError:
    """Status code and ErrorInfo reason pick the class; details fill its fields."""

    def test_undecodable_media(self, make_status: Callable[..., Any]) -> None:
        """INVALID_ARGUMENT with MEDIA_UNDECODABLE is an InvalidMediaError carrying the server's message."""
        error = map_rpc_error(
            FakeRpcError(make_status(code_pb2.INVALID_ARGUMENT, "cannot decode media", "MEDIA_UNDECODABLE"))
        )
        assert isinstance(error, laughter.InvalidMediaError)
        assert isinstance(error, laughter.InvalidArgumentError)
        assert (error.code, error.reason, error.message) == (
            "INVALID_ARGUMENT",
            "MEDIA_UNDECODABLE",
            "cannot decode media",
        )

    def test_still_image(self, make_status: Callable[..., Any]) -> None:
        """MEDIA_IS_STILL_IMAGE is an InvalidMediaError; UPLOAD_INVALID a plain InvalidArgumentError."""
        still = map_rpc_error(
            FakeRpcError(make_status(code_pb2.INVALID_ARGUMENT, "a still image", "MEDIA_IS_STILL_IMAGE"))
        )
        assert isinstance(still, laughter.InvalidMediaError)
        upload = map_rpc_error(
            FakeRpcError(make_status(code_pb2.INVALID_ARGUMENT, "more bytes", "UPLOAD_INVALID"))
        )
        assert type(upload) is laughter.InvalidArgumentError

    def test_field_violations(self, make_status: Callable[..., Any]) -> None:
        """BadRequest entries become field_violations; an option reason stays a plain InvalidArgumentError."""
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field="options.analysis_frame_rate_hertz", description="must be at most 30"
                )
            ]
        )
        status = make_status(code_pb2.INVALID_ARGUMENT, "bad option", "OPTION_OUT_OF_RANGE", bad_request)
        error = map_rpc_error(FakeRpcError(status))
        assert type(error) is laughter.InvalidArgumentError
        assert error.field_violations == (
            laughter.FieldViolation("options.analysis_frame_rate_hertz", "must be at most 30"),
        )

    def test_retry_info(self, make_status: Callable[..., Any]) -> None:
        """RESOURCE_EXHAUSTED carries retry_after_s from RetryInfo and is retryable."""
        status = make_status(code_pb2.RESOURCE_EXHAUSTED, "busy", "SESSION_LIMIT_REACHED", _retry(3))
        error = map_rpc_error(FakeRpcError(status))
        assert isinstance(error, laughter.ResourceExhaustedError)
        assert error.retry_after_s == 3.0
        assert error.is_retryable

    def test_media_too_large(self, make_status: Callable[..., Any]) -> None:
        """MEDIA_TOO_LARGE refines RESOURCE_EXHAUSTED, without a retry."""
        error = map_rpc_error(
            FakeRpcError(make_status(code_pb2.RESOURCE_EXHAUSTED, "big", "MEDIA_TOO_LARGE"))
        )
        assert isinstance(error, laughter.MediaTooLargeError)
        assert not error.is_retryable

    def test_reason_never_overrides_code(self, make_status: Callable[..., Any]) -> None:
        """A media reason on another code does not turn the error into InvalidMediaError."""
        error = map_rpc_error(FakeRpcError(make_status(code_pb2.INTERNAL, "oops", "MEDIA_EMPTY")))
        assert type(error) is laughter.ServerError

    def test_unavailable_without_details(self) -> None:
        """UNAVAILABLE from the transport (no rich status) is a retryable ServiceUnavailableError."""
        error = map_rpc_error(FakeRpcError(PlainStatus(grpc.StatusCode.UNAVAILABLE, "connection refused")))
        assert isinstance(error, laughter.ServiceUnavailableError)
        assert isinstance(error, laughter.TransportError)
        assert (error.reason, error.message, error.is_retryable) == ("", "connection refused", True)

    def test_deadline(self) -> None:
        """DEADLINE_EXCEEDED is a DeadlineExceededError."""
        error = map_rpc_error(
            FakeRpcError(PlainStatus(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"))
        )
        assert isinstance(error, laughter.DeadlineExceededError)

    def test_internal_keeps_request_id(self, make_status: Callable[..., Any]) -> None:
        """INTERNAL is a ServerError with the ErrorInfo metadata (the request id to quote)."""
        status = make_status(
            code_pb2.INTERNAL, "internal error (request_id=r1)", "INTERNAL", metadata={"request_id": "r1"}
        )
        error = map_rpc_error(FakeRpcError(status))
        assert isinstance(error, laughter.ServerError)
        assert error.metadata == {"request_id": "r1"}

    def test_error_that_is_not_a_call(self) -> None:
        """A bare grpc.RpcError without call methods still maps, to ServerError."""
        error = map_rpc_error(grpc.RpcError())
        assert isinstance(error, laughter.ServerError)
        assert error.code == "UNKNOWN"
