"""The ``laughter-server`` command as users run it: its own local Triton, JSON logs, /metrics, SIGTERM."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import urllib.request

import grpc
import pytest
from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc
from laughter_server.inference.supervisor import find_free_ports

from tests.conftest import DATA, wait_serving

pytestmark = pytest.mark.integration


def test_server_command_end_to_end() -> None:
    """Starts, serves an analysis, exposes metrics, logs JSON lines and stops cleanly on SIGTERM."""
    grpc_port, metrics_port = find_free_ports(2)
    command = pathlib.Path(sys.executable).parent / "laughter-server"
    env = {**os.environ, "LAUGHTER_LOG_FORMAT": "json"}
    process = subprocess.Popen(
        [str(command), "--listen", f"127.0.0.1:{grpc_port}", "--metrics-port", str(metrics_port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        address = f"127.0.0.1:{grpc_port}"
        wait_serving(address, timeout_s=120)
        with grpc.insecure_channel(address) as channel:
            stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(channel)
            result = stub.AnalyzeMedia(
                laughter_service_pb2.AnalyzeMediaRequest(content=(DATA / "audio_only.wav").read_bytes()),
                timeout=120,
            ).result
        assert result.events
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as response:
            metrics = response.read().decode()
        assert 'laughter_rpc_seconds_count{method="AnalyzeMedia"} 1.0' in metrics
        assert "laughter_stage_seconds_bucket" in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    events = [json.loads(line)["event"] for line in output.decode().splitlines() if line.startswith("{")]
    for expected in (
        "config.loaded",
        "triton.ready",
        "server.started",
        "rpc.finished",
        "server.stopped",
        "triton.stopped",
    ):
        assert expected in events, (expected, events)
