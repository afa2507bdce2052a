"""Reassembly of a file sent in pieces (AnalyzeMediaUpload): header first, then the bytes in order."""

from __future__ import annotations

from collections.abc import AsyncIterator

from laughter.v1 import laughter_service_pb2

from laughter_server.api import validation
from laughter_server.errors import MediaTooLargeError, UploadInvalidError


async def reassemble(
    requests: AsyncIterator[laughter_service_pb2.AnalyzeMediaUploadRequest], limit_bytes: int
) -> tuple[laughter_service_pb2.AnalyzeMediaUploadHeader, bytes]:
    """The header and the file's bytes; refuses a missing header, a second one and oversize files."""
    first = await anext(aiter(requests), None)
    if first is None or first.WhichOneof("request") != "header":
        raise UploadInvalidError("header", "the first AnalyzeMediaUploadRequest must carry `header`")
    header = first.header
    validation.check_upload_size(header.size_bytes)
    if header.size_bytes > limit_bytes:
        raise MediaTooLargeError(
            f"the file is {header.size_bytes / 1e6:.1f} MB, above this server's upload limit of "
            f"{limit_bytes / 1e6:.1f} MB (--max-upload-bytes)"
        )
    pieces: list[bytes] = []
    received = 0
    async for message in requests:
        if message.WhichOneof("request") != "content_chunk":
            raise UploadInvalidError("header", "`header` is only valid in the first message")
        received += len(message.content_chunk)
        validation.check_upload_progress(header.size_bytes, received)
        if received > limit_bytes:
            raise MediaTooLargeError(
                f"the upload passed this server's limit of {limit_bytes / 1e6:.1f} MB (--max-upload-bytes)"
            )
        pieces.append(message.content_chunk)
    if header.size_bytes and received != header.size_bytes:
        raise UploadInvalidError(
            "header.size_bytes",
            f"the header announced {header.size_bytes} bytes but {received} arrived; the upload is incomplete",
        )
    return header, b"".join(pieces)
