"""structlog set-up: JSON lines in production, a readable console on a terminal; stdlib logs join the chain.

Every line, ours and the stdlib's (grpc's included), goes through ``observability.redaction``: tracebacks
without frame locals, bytes values shown as their length, secrets masked, and no line over 8 KiB.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping

import structlog

from laughter_server.observability.redaction import CappedRenderer, redact

JSON_TRACEBACKS = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False, max_frames=20)
)
"""Like ``structlog.processors.dict_tracebacks``, but frame locals stay out: they can hold request media."""


def configure_logging(
    log_format: str = "auto", level: str = "info", fields: Mapping[str, object] | None = None
) -> None:
    """Configure structlog and the stdlib root logger once, from ``cli.py``; ``fields`` go on every line
    (a server process's ``worker`` index and ``pid``)."""
    use_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        *([_AddFields(fields)] if fields else []),
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor
    if use_json:
        renderer = structlog.processors.JSONRenderer()
        shared.append(JSON_TRACEBACKS)
    else:
        # tracebacks become plain text before redaction (no locals; rich and better-exceptions would show them)
        shared.append(structlog.processors.format_exc_info)
        renderer = structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
    shared.append(redact)
    numeric_level = getattr(logging, level.upper())
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                CappedRenderer(renderer, json_lines=use_json),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric_level)


class _AddFields:
    """Adds fixed fields to every line (a line's own values win)."""

    def __init__(self, fields: Mapping[str, object]) -> None:
        self.fields = dict(fields)

    def __call__(
        self, _logger: object, _method: str, event_dict: structlog.types.EventDict
    ) -> structlog.types.EventDict:
        for key, value in self.fields.items():
            event_dict.setdefault(key, value)
        return event_dict
