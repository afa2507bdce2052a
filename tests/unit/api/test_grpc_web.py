"""The gRPC-Web gateway alone: framing of replies and errors, limits, and routing, driven as an ASGI app."""

from __future__ import annotations

import asyncio
import base64
import struct
from typing import Any

import grpc
import pytest
from google.rpc import status_pb2
from grpc_status import rpc_status
from laughter.v1 import laughter_service_pb2
from laughter_server.api.grpc_web import GrpcWebGateway, _percent_encode

METHOD = "/laughter.v1.LaughterAnalysisService/ListModels"


class _Models:
    """A ListModels handler that answers one model, or aborts with a status carrying details."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    async def __call__(self, request: Any, context: Any) -> laughter_service_pb2.ListModelsResponse:
        if self.fail:
            status = status_pb2.Status(code=grpc.StatusCode.UNAVAILABLE.value[0], message="models: 100% busy")
            await context.abort_with_status(rpc_status.to_status(status))
        return laughter_service_pb2.ListModelsResponse(models=[{"name": "m", "version": "1"}])


class _Slow:
    """A ListModels handler that takes far longer than any test waits; notes when it is cancelled."""

    def __init__(self) -> None:
        self.cancelled = False

    async def __call__(self, request: Any, context: Any) -> laughter_service_pb2.ListModelsResponse:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return laughter_service_pb2.ListModelsResponse()


def gateway(fail: bool = False, limit: int = 1000, handler_fn: Any = None) -> GrpcWebGateway:
    handler = grpc.unary_unary_rpc_method_handler(
        handler_fn or _Models(fail),
        request_deserializer=laughter_service_pb2.ListModelsRequest.FromString,
        response_serializer=laughter_service_pb2.ListModelsResponse.SerializeToString,
    )
    app = GrpcWebGateway(_not_found, interceptor=None, allowed_origins=(), max_body_bytes=limit)
    app.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("laughter.v1.LaughterAnalysisService", {"ListModels": handler})]
    )
    return app


async def _not_found(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def post(
    app: GrpcWebGateway,
    body: bytes,
    *,
    text: bool = False,
    path: str = METHOD,
    grpc_timeout: bytes = b"5S",
    leave_after_s: float | None = None,
) -> tuple[int | None, bytes]:
    """POST ``body``; the client waits for the reply (or leaves after ``leave_after_s``)."""
    kind = b"application/grpc-web-text" if text else b"application/grpc-web+proto"
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": [(b"host", b"h:1"), (b"content-type", kind), (b"grpc-timeout", grpc_timeout)],
        "client": ("127.0.0.1", 1),
    }
    events = [
        {"type": "http.request", "body": body[i : i + 7], "more_body": i + 7 < len(body)}
        for i in range(0, max(1, len(body)), 7)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if events:
            return events.pop(0)
        if leave_after_s is None:
            await asyncio.Event().wait()  # as an ASGI server: nothing more until the client goes
        await asyncio.sleep(leave_after_s or 0.0)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    if not sent:
        return None, b""
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def frames(body: bytes) -> tuple[list[bytes], dict[str, str]]:
    messages, trailers = [], {}
    while body:
        flags, length = struct.unpack(">BI", body[:5])
        frame, body = body[5 : 5 + length], body[5 + length :]
        if flags & 0x80:
            trailers = dict(line.split(": ", 1) for line in frame.decode().split("\r\n") if line)
        else:
            messages.append(frame)
    return messages, trailers


class TestGateway:
    """Replies, errors and limits."""

    async def test_unary_reply_then_ok_trailer(self) -> None:
        """One message frame, then a trailer frame with grpc-status 0."""
        status, body = await post(gateway(), struct.pack(">BI", 0, 0))
        messages, trailers = frames(body)
        assert status == 200
        assert laughter_service_pb2.ListModelsResponse.FromString(messages[0]).models[0].name == "m"
        assert trailers == {"grpc-status": "0"}

    async def test_abort_with_status_keeps_the_details(self) -> None:
        """The status, the percent-encoded message and grpc-status-details-bin reach the trailer."""
        _, body = await post(gateway(fail=True), struct.pack(">BI", 0, 0))
        messages, trailers = frames(body)
        assert messages == []
        assert trailers["grpc-status"] == "14"
        assert trailers["grpc-message"] == "models: 100%25 busy"
        details = status_pb2.Status.FromString(base64.b64decode(trailers["grpc-status-details-bin"] + "=="))
        assert details.message == "models: 100% busy"

    async def test_text_mode_is_base64_both_ways(self) -> None:
        """application/grpc-web-text: the request and the reply are base64."""
        _, body = await post(gateway(), base64.b64encode(struct.pack(">BI", 0, 0)), text=True)
        messages, trailers = frames(base64.b64decode(body))
        assert len(messages) == 1
        assert trailers["grpc-status"] == "0"

    async def test_body_over_the_limit(self) -> None:
        """Past max_body_bytes: RESOURCE_EXHAUSTED, the handler never runs."""
        _, body = await post(gateway(limit=20), struct.pack(">BI", 0, 40) + b"\0" * 40)
        messages, trailers = frames(body)
        assert messages == []
        assert trailers["grpc-status"] == "8"

    async def test_deadline_cancels_the_handler(self) -> None:
        """Past grpc-timeout: DEADLINE_EXCEEDED, and the handler is cancelled (as on the gRPC port)."""
        slow = _Slow()
        _, body = await post(gateway(handler_fn=slow), struct.pack(">BI", 0, 0), grpc_timeout=b"50m")
        messages, trailers = frames(body)
        assert messages == []
        assert trailers["grpc-status"] == "4"
        assert "deadline passed" in trailers["grpc-message"]
        assert slow.cancelled

    async def test_client_that_leaves_cancels_the_handler(self) -> None:
        """A client that closes the request: the handler is cancelled and nothing is sent."""
        slow = _Slow()
        status, body = await post(gateway(handler_fn=slow), struct.pack(">BI", 0, 0), leave_after_s=0.05)
        assert (status, body) == (None, b"")
        assert slow.cancelled

    async def test_other_paths_go_to_the_page(self) -> None:
        """A path that is not a browser method is handed to the fallback."""
        status, _ = await post(gateway(), b"", path="/laughter.v1.LaughterAnalysisService/ReloadModel")
        assert status == 404


@pytest.mark.parametrize(
    ("text", "encoded"),
    [("plain words", "plain words"), ("50% off", "50%25 off"), ("café\nnext", "caf%C3%A9%0Anext")],
)
def test_grpc_message_encoding(text: str, encoded: str) -> None:
    """grpc-message is percent-encoded UTF-8 as the gRPC spec says."""
    assert _percent_encode(text) == encoded
