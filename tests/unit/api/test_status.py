"""The error table: service errors to gRPC codes with google.rpc details, and translate_errors."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from laughter.v1 import error_reason_pb2
from laughter_server import errors
from laughter_server.api.status import (
    DOMAIN,
    internal_status,
    status_code_for,
    to_rpc_status,
    translate_errors,
)

DOCUMENTED_CODES: list[tuple[errors.LaughterError, grpc.StatusCode]] = [
    (errors.InvalidMediaError("bad"), grpc.StatusCode.INVALID_ARGUMENT),
    (errors.EmptyMediaError("empty"), grpc.StatusCode.INVALID_ARGUMENT),
    (errors.UndecodableMediaError("garbage"), grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NoMediaStreamsError("nothing"), grpc.StatusCode.INVALID_ARGUMENT),
    (errors.FrameTooLargeError("huge"), grpc.StatusCode.INVALID_ARGUMENT),
    (errors.StillImageError("one picture"), grpc.StatusCode.INVALID_ARGUMENT),
    (errors.UploadInvalidError("header.size_bytes", "negative"), grpc.StatusCode.INVALID_ARGUMENT),
    (errors.InvalidOptionError("options.max_faces", "too many"), grpc.StatusCode.INVALID_ARGUMENT),
    (errors.MediaTooLargeError("long"), grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.CapacityExceededError("busy", retry_after_s=3.0), grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.ModelUnavailableError("down", retry_after_s=2.5), grpc.StatusCode.UNAVAILABLE),
    (errors.ModelLoadError("corrupt"), grpc.StatusCode.FAILED_PRECONDITION),
    (errors.AnalysisTimeoutError("slow"), grpc.StatusCode.DEADLINE_EXCEEDED),
    (errors.SessionConfigError("config.video", "no format"), grpc.StatusCode.INVALID_ARGUMENT),
    (errors.SessionNotFoundError("gone"), grpc.StatusCode.NOT_FOUND),
    (errors.SessionExistsError("twice"), grpc.StatusCode.ALREADY_EXISTS),
    (errors.SessionClosedError("closed"), grpc.StatusCode.FAILED_PRECONDITION),
    (errors.ShuttingDownError("draining"), grpc.StatusCode.UNAVAILABLE),
    (errors.ResultNotFoundError("no such result"), grpc.StatusCode.NOT_FOUND),
    (errors.StoreUnavailableError("store down"), grpc.StatusCode.UNAVAILABLE),
    (errors.LaughterError("other"), grpc.StatusCode.INTERNAL),
]


def all_error_types() -> set[type[errors.LaughterError]]:
    """LaughterError and every subclass defined in laughter_server.errors."""
    found: set[type[errors.LaughterError]] = set()
    pending = [errors.LaughterError]
    while pending:
        kind = pending.pop()
        if kind.__module__ == errors.__name__:
            found.add(kind)
        pending.extend(kind.__subclasses__())
    return found


def unpack(status: status_pb2.Status, kind: Any) -> list[Any]:
    """The details of ``status`` that hold a ``kind`` message."""
    found = []
    for detail in status.details:
        if detail.Is(kind.DESCRIPTOR):
            message = kind()
            detail.Unpack(message)
            found.append(message)
    return found


class TestStatusCodeFor:
    """Every service error maps to its documented code."""

    @pytest.mark.parametrize(("error", "code"), DOCUMENTED_CODES, ids=lambda v: type(v).__name__)
    def test_documented_code(self, error: errors.LaughterError, code: grpc.StatusCode) -> None:
        """The code matches the table in errors.py."""
        assert status_code_for(error) is code

    def test_table_covers_every_error_type(self) -> None:
        """Each LaughterError subclass in errors.py appears in the test table above."""
        assert {type(error) for error, _ in DOCUMENTED_CODES} == all_error_types()

    @pytest.mark.parametrize(
        "kind", sorted(all_error_types(), key=lambda k: k.__name__), ids=lambda k: k.__name__
    )
    def test_reason_is_in_the_proto_enum(self, kind: type[errors.LaughterError]) -> None:
        """Each error's reason is an ErrorReason value (ERROR_REASON_ + reason)."""
        names = error_reason_pb2.DESCRIPTOR.enum_types_by_name["ErrorReason"].values_by_name
        assert "ERROR_REASON_" + kind.reason in names


class TestToRpcStatus:
    """to_rpc_status builds google.rpc.Status with ErrorInfo, BadRequest and RetryInfo."""

    @pytest.mark.parametrize(("error", "code"), DOCUMENTED_CODES, ids=lambda v: type(v).__name__)
    def test_code_message_and_error_info(self, error: errors.LaughterError, code: grpc.StatusCode) -> None:
        """The status carries the code, the error's message and one ErrorInfo (reason, laughter.v1)."""
        status = to_rpc_status(error, {"request_id": "r-1"})
        assert status.code == code.value[0]
        assert status.message == error.message
        (info,) = unpack(status, error_details_pb2.ErrorInfo)
        assert info.reason == error.reason
        assert info.domain == DOMAIN == "laughter.v1"
        assert dict(info.metadata) == {"request_id": "r-1"}

    def test_bad_request_for_invalid_option(self) -> None:
        """InvalidOptionError adds a BadRequest field violation naming the field."""
        status = to_rpc_status(errors.InvalidOptionError("options.laughter_threshold", "must be in [0, 1)"))
        (bad_request,) = unpack(status, error_details_pb2.BadRequest)
        (violation,) = bad_request.field_violations
        assert violation.field == "options.laughter_threshold"
        assert violation.description == "must be in [0, 1)"
        assert unpack(status, error_details_pb2.RetryInfo) == []

    @pytest.mark.parametrize(
        ("error", "delay_ms"),
        [
            (errors.ModelUnavailableError("down", retry_after_s=2.5), 2500),
            (errors.CapacityExceededError("busy", retry_after_s=0.25), 250),
            (errors.ModelUnavailableError("down"), 2000),
        ],
    )
    def test_retry_info(self, error: errors.LaughterError, delay_ms: int) -> None:
        """Unavailable models and full capacity carry RetryInfo with the hinted delay."""
        status = to_rpc_status(error)
        (retry,) = unpack(status, error_details_pb2.RetryInfo)
        assert retry.retry_delay.ToMilliseconds() == delay_ms

    @pytest.mark.parametrize(
        "error",
        [errors.UndecodableMediaError("x"), errors.MediaTooLargeError("x"), errors.AnalysisTimeoutError("x")],
    )
    def test_no_extra_details(self, error: errors.LaughterError) -> None:
        """Other errors carry ErrorInfo only."""
        assert len(to_rpc_status(error).details) == 1

    def test_converts_to_grpc_status(self) -> None:
        """The status survives rpc_status.to_status as trailing metadata."""
        grpc_status = rpc_status.to_status(to_rpc_status(errors.EmptyMediaError("no bytes")))
        assert grpc_status.code is grpc.StatusCode.INVALID_ARGUMENT
        assert grpc_status.details == "no bytes"
        ((key, value),) = grpc_status.trailing_metadata
        assert key == "grpc-status-details-bin"
        assert status_pb2.Status.FromString(value).code == code_pb2.INVALID_ARGUMENT


class TestInternalStatus:
    """internal_status refers to the log, never to the failure."""

    def test_shape(self) -> None:
        """INTERNAL with the request id in message and ErrorInfo metadata."""
        status = internal_status("abc123")
        assert status.code == code_pb2.INTERNAL
        assert "abc123" in status.message
        (info,) = unpack(status, error_details_pb2.ErrorInfo)
        assert (info.reason, info.domain) == ("INTERNAL", DOMAIN)
        assert dict(info.metadata) == {"request_id": "abc123"}


class FakeContext:
    """Records abort_with_status like grpc.aio.ServicerContext, raising AbortError as it does."""

    def __init__(self) -> None:
        self.status: grpc.Status | None = None

    async def abort_with_status(self, status: grpc.Status) -> None:
        self.status = status
        raise grpc.aio.AbortError()


class TestTranslateErrors:
    """translate_errors turns exceptions inside an RPC into statuses."""

    async def test_service_error_becomes_its_status(self) -> None:
        """A LaughterError aborts with its code and reason."""
        context = FakeContext()
        with pytest.raises(grpc.aio.AbortError):
            async with translate_errors(context, "r-9"):  # type: ignore[arg-type]
                raise errors.NoMediaStreamsError("only subtitles")
        assert context.status is not None
        assert context.status.code is grpc.StatusCode.INVALID_ARGUMENT
        assert context.status.details == "only subtitles"

    async def test_unexpected_error_hides_its_text(self) -> None:
        """An unexpected exception becomes INTERNAL without its text anywhere in the status."""
        context = FakeContext()
        secret = "password=hunter2 at /srv/private/db.sqlite"
        with pytest.raises(grpc.aio.AbortError):
            async with translate_errors(context, "r-10"):  # type: ignore[arg-type]
                raise RuntimeError(secret)
        assert context.status is not None
        assert context.status.code is grpc.StatusCode.INTERNAL
        assert "r-10" in context.status.details
        assert secret not in context.status.details
        assert "RuntimeError" not in context.status.details
        for _, value in context.status.trailing_metadata:
            assert b"hunter2" not in value

    async def test_success_does_not_abort(self) -> None:
        """A body that finishes leaves the context alone."""
        context = FakeContext()
        async with translate_errors(context):  # type: ignore[arg-type]
            pass
        assert context.status is None
