"""Plain HTTP for the web port: the built page as static files, CORS for the gRPC-Web calls, short replies."""

from __future__ import annotations

import mimetypes
import pathlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import structlog

log = structlog.get_logger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

EXPOSED_HEADERS = b"grpc-status, grpc-message, grpc-status-details-bin"
ALLOWED_HEADERS = b"authorization, content-type, x-grpc-web, x-user-agent, grpc-timeout"
NOT_BUILT = (
    "<!doctype html><meta charset=utf-8><title>Laughter analysis</title>"
    "<p>The page is not built. Run <code>make web</code> in the repository (it runs <code>npm ci</code> and "
    "the bundler in clients/web), or point <code>--web-static-dir</code> at a built <code>dist</code> folder."
)
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".map": "application/json", ".css": "text/css"}


def origin_allowed(origin: str, host: str, allowed: Sequence[str]) -> bool:
    """Same-origin calls always; others when listed (or when ``*`` is)."""
    if urlsplit(origin).netloc == host:
        return True
    return "*" in allowed or origin.rstrip("/") in allowed


def cors_headers(origin: str, host: str) -> list[tuple[bytes, bytes]]:
    """Response headers that let a cross-origin page read the reply and its status."""
    if not origin or urlsplit(origin).netloc == host:
        return []
    return [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-expose-headers", EXPOSED_HEADERS),
        (b"vary", b"Origin"),
    ]


async def preflight(send: Send, headers: list[tuple[bytes, bytes]]) -> None:
    """Answer a CORS preflight for a gRPC-Web POST (the bearer token rides in ``authorization``)."""
    await send(
        {
            "type": "http.response.start",
            "status": 204,
            "headers": [
                *headers,
                (b"access-control-allow-methods", b"POST, OPTIONS"),
                (b"access-control-allow-headers", ALLOWED_HEADERS),
                (b"access-control-max-age", b"600"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def reply_plain(
    send: Send, status: int, text: str, headers: list[tuple[bytes, bytes]] | None = None, html: bool = False
) -> None:
    """A short text (or HTML) reply."""
    body = text.encode("utf-8")
    kind = b"text/html; charset=utf-8" if html else b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                *(headers or []),
                (b"content-type", kind),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


class StaticFiles:
    """GET/HEAD for the files under ``root`` (``/`` is index.html); nothing outside it is ever served."""

    def __init__(self, root: str) -> None:
        self.root = pathlib.Path(root).resolve()
        if not (self.root / "index.html").is_file():
            log.warning("web.page_not_built", static_dir=str(self.root), fix="make web")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] not in ("GET", "HEAD"):
            await reply_plain(send, 405, "only GET and HEAD are served here")
            return
        path = scope["path"]
        relative = "index.html" if path in ("", "/") else path.lstrip("/")
        target = (self.root / relative).resolve()
        if not target.is_relative_to(self.root) or not target.is_file():
            if path in ("", "/"):
                await reply_plain(send, 503, NOT_BUILT, html=True)
            else:
                await reply_plain(send, 404, "not found")
            return
        body = target.read_bytes()
        kind = TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        headers = [
            (b"content-type", kind.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-cache"),
            (b"x-content-type-options", b"nosniff"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
