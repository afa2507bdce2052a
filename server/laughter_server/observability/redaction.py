"""Log hygiene: no request media, no secrets, no frame locals, and no line longer than ``MAX_LINE_BYTES``.

``redact`` is a structlog processor for every event (ours and stdlib's, grpc's included); ``CappedRenderer``
wraps the final renderer and shortens any line still over the cap.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import structlog

MAX_LINE_BYTES = 8 * 1024
MAX_VALUE_CHARS = 2048
"""Any one string value is cut to this length, so a few long values cannot crowd out the rest."""
SECRET_KEYS = re.compile(r"token|authorization|password|passwd|secret|api[_-]?key|credential", re.IGNORECASE)
BEARER = re.compile(r"\b(bearer)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
BYTES_REPR = re.compile(r"\bb'(?:\\.|[^\\'\n]){32,}'" + r'|\bb"(?:\\.|[^\\"\n]){32,}"')
"""A Python bytes literal of 32 characters or more in a message: request data, never logged."""
ESSENTIAL_KEYS = ("timestamp", "level", "logger", "event", "request_id", "rpc_method", "session_id", "tenant")


def _truncate(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"...[truncated {len(text) - limit} chars]"


def _clean_text(text: str) -> str:
    text = BEARER.sub(r"\1 ***", text)
    text = BYTES_REPR.sub("<bytes redacted>", text)
    return _truncate(text)


def _is_secret_key(key: str) -> bool:
    return bool(SECRET_KEYS.search(key)) and not key.endswith(("_file", "_path"))


def _is_empty(value: Any) -> bool:
    return value is None or value is False or (isinstance(value, str) and not value)


def scrub(value: Any, key: str = "") -> Any:
    """A copy of ``value`` safe to log: bytes as their length, secret keys masked, long strings cut."""
    if key and _is_secret_key(key) and not _is_empty(value):
        return "***"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes redacted>"
    if hasattr(value, "shape") and hasattr(value, "dtype"):  # numpy arrays: decoded pixels or samples
        return f"<array {tuple(value.shape)} {value.dtype} redacted>"
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, Mapping):
        return {str(k): scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        cleaned = [scrub(v) for v in items[:50]]
        if len(items) > 50:
            cleaned.append(f"...[{len(items) - 50} more items]")
        return cleaned
    if value is None or isinstance(value, bool | int | float):
        return value
    return _clean_text(repr(value))


def redact(logger: Any, method_name: str, event_dict: structlog.types.EventDict) -> structlog.types.EventDict:
    """structlog processor: scrub every value of the event (after exceptions are rendered)."""
    for key in list(event_dict):
        if key.startswith("_") or key == "exc_info":
            continue  # structlog's and the stdlib handler's own records, not rendered as values
        value = event_dict[key]
        if key == "exception" and isinstance(value, str):  # a text traceback: its end says what failed
            value = BYTES_REPR.sub("<bytes redacted>", value)
            event_dict[key] = value if len(value) <= MAX_VALUE_CHARS else "..." + value[-MAX_VALUE_CHARS:]
        else:
            event_dict[key] = scrub(value, key)
    return event_dict


def _cut(line: str, limit: int) -> str:
    encoded = line.encode()
    if len(encoded) <= limit:
        return line
    marker = f"...[log line truncated from {len(encoded)} bytes]"
    head = encoded[: limit - len(marker.encode())].decode(errors="ignore")
    return head + marker


class CappedRenderer:
    """Wrap a renderer so that no rendered line is longer than ``limit`` bytes (JSON stays valid JSON)."""

    def __init__(self, renderer: structlog.types.Processor, *, json_lines: bool, limit: int = MAX_LINE_BYTES):
        self._renderer = renderer
        self._json = json_lines
        self._limit = limit

    def __call__(self, logger: Any, method_name: str, event_dict: structlog.types.EventDict) -> str:
        essential = {k: event_dict[k] for k in ESSENTIAL_KEYS if k in event_dict}
        line = str(self._renderer(logger, method_name, dict(event_dict)))
        if len(line.encode()) <= self._limit:
            return line
        if not self._json:
            return _cut(line, self._limit)
        essential = {k: _truncate(str(v), 256) for k, v in essential.items()}
        essential["log_truncated_from_bytes"] = len(line.encode())
        room = self._limit - len(json.dumps(essential)) - 32
        while True:
            essential["head"] = _cut(line, room) if room > 64 else ""
            shortened = json.dumps(essential)
            if len(shortened.encode()) <= self._limit or room <= 64:
                return shortened
            room = room * 3 // 4
