"""Log hygiene: no media bytes, secrets or frame locals in log lines, and every line under the cap."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import numpy as np
import pytest
import structlog
from laughter_server.logging import configure_logging
from laughter_server.observability.redaction import MAX_LINE_BYTES, CappedRenderer, scrub

MEDIA = b"RIFF" + bytes(range(256)) * 200


@pytest.fixture(name="captured", params=["json", "console"])
def fixture_captured(request: pytest.FixtureRequest) -> Iterator[tuple[str, io.StringIO]]:
    """The server's logging set-up with its handler writing to a buffer."""
    configure_logging(request.param, "info")
    buffer = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    yield request.param, buffer
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


def fail_with(content: bytes) -> None:
    """Raise with the media in a local and in the message, as a careless library might."""
    local_copy = content  # noqa: F841 - a frame local the traceback must not show
    raise ValueError("cannot parse " + repr(content[:200]))


class TestScrub:
    """Values are made safe one by one."""

    def test_bytes_secrets_and_long_strings(self) -> None:
        """Bytes become their length, secret keys are masked, long strings cut with a marker."""
        cleaned = scrub({"content": MEDIA, "auth_token": "t0k3n", "headers": {"Authorization": "Bearer x"}})
        assert cleaned == {
            "content": f"<{len(MEDIA)} bytes redacted>",
            "auth_token": "***",
            "headers": {"Authorization": "***"},
        }
        assert scrub("x" * 10_000).endswith("...[truncated 7952 chars]")
        assert scrub("sent Bearer abc.def-123") == "sent Bearer ***"
        assert scrub("got " + repr(MEDIA[:100])) == "got <bytes redacted>"
        assert scrub({"auth_tenants_file": "/etc/tenants"}) == {"auth_tenants_file": "/etc/tenants"}
        assert scrub(np.zeros((4, 4, 3), dtype=np.uint8)) == "<array (4, 4, 3) uint8 redacted>"

    def test_capped_json_stays_json(self) -> None:
        """A line over the cap is replaced by a valid JSON line with the essentials and a marker."""
        renderer = CappedRenderer(structlog.processors.JSONRenderer(), json_lines=True, limit=1024)
        line = renderer(None, "info", {"event": "big", "a": "1" * 900, "b": "2" * 900})
        assert len(line.encode()) <= 1024
        parsed = json.loads(line)
        assert parsed["event"] == "big"
        assert parsed["log_truncated_from_bytes"] > 1024


class TestConfiguredLogging:
    """The configured pipeline, ours and stdlib's, keeps media, tokens and locals out."""

    def test_failure_with_media(self, captured: tuple[str, io.StringIO]) -> None:
        """A logged exception raised over media bytes: no media, no locals, no token, lines under the cap."""
        log_format, buffer = captured
        log = structlog.get_logger("tests")
        try:
            fail_with(MEDIA)
        except ValueError:
            log.exception("rpc.failed", request_id="r1", content=MEDIA, token="s3cr3t", note="n" * 50_000)
        try:
            fail_with(MEDIA)
        except ValueError:
            logging.getLogger("grpc._cython.cygrpc").exception("callback failed for Bearer s3cr3t")
        output = buffer.getvalue()
        assert "rpc.failed" in output
        assert "ValueError" in output  # the traceback is there, only without locals and data
        for leaked in ("s3cr3t", "local_copy", "\\x00\\x01\\x02", "RIFF\\x00"):
            assert leaked not in output, leaked
        lines = output.splitlines()
        assert all(len(line.encode()) <= MAX_LINE_BYTES for line in lines)
        if log_format == "json":
            assert all(json.loads(line) for line in lines)
