"""``laughter-server``: flags and LAUGHTER_* variables → Settings → app.serve()."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence

import structlog

from laughter_server.config import load_settings
from laughter_server.errors import InvalidOptionError, LaughterError
from laughter_server.logging import configure_logging
from laughter_server.workers import available_cores, run_workers


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    try:
        settings = load_settings(argv, os.environ)
    except InvalidOptionError as exc:
        sys.stderr.write(f"laughter-server: {exc.message}\n")
        return 2
    configure_logging(settings.log_format, settings.log_level)
    log = structlog.get_logger("laughter_server")
    log.info("config.loaded", **settings.redacted())
    workers = settings.workers or available_cores()
    if workers > 1:
        try:
            return run_workers(settings, workers, sys.argv[1:] if argv is None else argv)
        except LaughterError as exc:
            log.error("server.failed", reason=exc.reason, detail=exc.message)
            return 1
    from laughter_server.app import serve

    try:
        asyncio.run(serve(settings))
    except LaughterError as exc:
        log.error("server.failed", reason=exc.reason, detail=exc.message)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
