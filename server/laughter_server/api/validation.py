"""Checks of request fields that protobuf itself lets through: malformed Durations, enum values this
server does not know, and the AnalyzeMediaUpload protocol. Each raises a service error naming the field."""

from __future__ import annotations

from google.protobuf import duration_pb2
from google.protobuf.descriptor import EnumDescriptor

from laughter_server.errors import InvalidOptionError, UploadInvalidError

MAX_NANOS = 999_999_999
MAX_DURATION_SECONDS = 315_576_000_000
"""google.protobuf.Duration's documented range: about 10,000 years either way."""


def duration_s(
    value: duration_pb2.Duration,
    field: str,
    error: type[InvalidOptionError] = InvalidOptionError,
    *,
    default: float = 0.0,
) -> float:
    """Seconds of a well-formed Duration (``default`` when it is zero or unset)."""
    seconds, nanos = value.seconds, value.nanos
    if not -MAX_NANOS <= nanos <= MAX_NANOS:
        raise error(field, f"{field} has nanos={nanos}; nanos must be in [-999999999, 999999999]")
    if (seconds > 0 and nanos < 0) or (seconds < 0 and nanos > 0):
        raise error(field, f"{field} has seconds={seconds} and nanos={nanos}; both must have the same sign")
    if abs(seconds) > MAX_DURATION_SECONDS:
        raise error(field, f"{field} has seconds={seconds}, outside the range of a Duration")
    if seconds == 0 and nanos == 0:
        return default
    return seconds + nanos / 1e9


def known_enum(
    value: int, enum: EnumDescriptor, field: str, error: type[InvalidOptionError] = InvalidOptionError
) -> int:
    """``value`` when it is one of the enum's values this server was built with."""
    if value not in enum.values_by_number:
        names = ", ".join(v.name for v in enum.values if v.number != 0)
        raise error(field, f"{field} has the unknown value {value}; use one of {names}")
    return value


def check_upload_size(size_bytes: int) -> None:
    """The header's announced size is unknown (0) or positive."""
    if size_bytes < 0:
        raise UploadInvalidError(
            "header.size_bytes",
            f"header.size_bytes is {size_bytes}; send the file's size in bytes, or 0 when it is unknown",
        )


def check_upload_progress(size_bytes: int, received: int) -> None:
    """Refuse the upload as soon as more bytes arrive than the header announced."""
    if size_bytes and received > size_bytes:
        raise UploadInvalidError(
            "header.size_bytes",
            f"more bytes than announced: the header announced {size_bytes} bytes and {received} have "
            "arrived; send the file's exact size, or 0 when it is unknown",
        )
