"""The property every fuzz case checks: the answer is OK or a documented status (a canonical code and an
ErrorInfo reason from laughter.v1.ErrorReason other than INTERNAL), warnings are documented too, and no
message names a Python exception or carries a traceback."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from laughter.v1 import error_reason_pb2

from tests.bad_media import assert_plain_words

CASE_DEADLINE_S = 60.0
"""Every call of a case carries this deadline: a case that runs past it is a hang, and fails."""
REASONS = frozenset(
    name.removeprefix("ERROR_REASON_")
    for name in error_reason_pb2.ErrorReason.DESCRIPTOR.values_by_name
    if name not in ("ERROR_REASON_UNSPECIFIED", "ERROR_REASON_INTERNAL")
)
DOCUMENTED_CODES = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
    }
)


def _without(message: str, echoed: tuple[str, ...]) -> str:
    """The message with the request's own strings (which a message may quote) taken out."""
    for text in sorted(echoed, key=len, reverse=True):
        if text:
            message = message.replace(repr(text), "").replace(text, "")
    return message


def assert_clean_message(message: str, echoed: tuple[str, ...] = ()) -> None:
    """No traceback, no exception class name, no file path in a client-facing message."""
    text = _without(message, echoed)
    assert "Traceback" not in text, message
    assert 'File "' not in text, message
    assert_plain_words(text)


def _reason(status: status_pb2.Status) -> str | None:
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            assert info.domain == "laughter.v1", info
            return info.reason
    return None


def assert_documented_error(error: grpc.RpcError, echoed: tuple[str, ...] = ()) -> str:
    """A refusal with a documented code and reason; returns the reason."""
    code = error.code()  # type: ignore[attr-defined]
    details = error.details() or ""  # type: ignore[attr-defined]
    assert code in DOCUMENTED_CODES, (code, details)
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, (
        f"no rich status (a client-side deadline means the case hung): {code} {details}"
    )
    reason = _reason(status)
    assert reason in REASONS, (code, reason, details)
    assert_clean_message(status.message, echoed)
    return reason


def assert_documented_warning(warning: status_pb2.Status, echoed: tuple[str, ...] = ()) -> str:
    """A per-chunk warning with a documented reason and a clean message; returns the reason."""
    reason = _reason(warning)
    assert reason in REASONS, (reason, warning.message)
    assert_clean_message(warning.message, echoed)
    return reason
