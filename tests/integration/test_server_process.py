"""The ``laughter-server`` command as users run it: its own local Triton, JSON logs, /metrics, SIGTERM."""

from __future__ import annotations

import base64
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import urllib.request

import grpc
import numpy as np
import pytest
from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc, media_pb2
from laughter_server.inference.supervisor import find_free_ports
from laughter_server.observability.redaction import MAX_LINE_BYTES

from tests.bad_media import still, wav
from tests.conftest import DATA, wait_serving
from tests.integration.media_chunks import Chunk, requests, session_config
from tests.integration.test_security import upload

pytestmark = pytest.mark.integration


def test_server_command_end_to_end(tmp_path: pathlib.Path) -> None:
    """Starts, serves an analysis, exposes metrics, logs JSON lines and stops cleanly on SIGTERM (its own
    data directory, so the analysis is not answered from an earlier run's results cache)."""
    grpc_port, metrics_port = find_free_ports(2)
    command = pathlib.Path(sys.executable).parent / "laughter-server"
    env = {**os.environ, "LAUGHTER_LOG_FORMAT": "json"}
    process = subprocess.Popen(
        [
            str(command),
            "--listen",
            f"127.0.0.1:{grpc_port}",
            "--metrics-port",
            str(metrics_port),
            "--data-dir",
            str(tmp_path / "data"),
        ],
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
    lines = [json.loads(line) for line in output.decode().splitlines() if line.startswith("{")]
    events = [line["event"] for line in lines]
    served = next(line["versions"] for line in lines if line["event"] == "face_models.served")
    assert served["face_detector"] == "1"  # float32 (configs/int8.pbtxt serves version 2)
    for expected in (
        "config.loaded",
        "triton.ready",
        "server.started",
        "rpc.finished",
        "server.stopped",
        "triton.stopped",
    ):
        assert expected in events, (expected, events)


def send_bad_requests(address: str, media: bytes, tokens: dict[str, str]) -> None:
    """Calls that fail with media in them, from two tenants and with a wrong token."""
    with grpc.insecure_channel(address) as channel:
        stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(channel)
        for tenant, token in tokens.items():
            metadata = [("authorization", f"bearer {token}")]
            for content in (media, media[:1000], still(".png")):
                with pytest.raises(grpc.RpcError) as caught:
                    stub.AnalyzeMedia(
                        laughter_service_pb2.AnalyzeMediaRequest(content=content),
                        metadata=metadata,
                        timeout=60,
                    )
                assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (
                    tenant,
                    caught.value.details(),
                )
            with pytest.raises(grpc.RpcError):
                upload(stub, media, size_bytes=100, metadata=metadata)
        with pytest.raises(grpc.RpcError) as caught:
            stub.AnalyzeMedia(
                laughter_service_pb2.AnalyzeMediaRequest(content=media),
                metadata=[("authorization", "Bearer not-a-token")],
                timeout=60,
            )
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        config = session_config(audio=False)
        config.video.encoding = media_pb2.FRAME_ENCODING_PNG
        frames = [
            Chunk(i * 0.3, "frame", b"\x89PNG\r\n\x1a\n" + media[i * 3000 : (i + 1) * 3000]) for i in range(4)
        ]
        updates = list(
            stub.StreamingAnalyze(
                requests(config, frames),
                metadata=[("authorization", f"Bearer {tokens['alpha']}")],
                timeout=60,
            )
        )
        assert updates[-1].update.HasField("summary")


def test_logs_hold_no_media_and_no_tokens(tmp_path: pathlib.Path) -> None:
    """Failing calls carrying media, from two tenants: the JSON log names the tenants, holds no media bytes
    and no token, and every line is under the cap; a tenants file readable by others is warned about."""
    tokens = {"alpha": "alpha-Secret-7f3a9c", "beta": "beta-Secret-0b5e21"}
    tenants = tmp_path / "tenants"
    tenants.write_text("".join(f"{name}:{token}\n" for name, token in tokens.items()))
    tenants.chmod(0o644)
    noise = np.random.default_rng(5).bytes(32 * 1024)
    media = wav(0x1234, 16)[:44] + noise  # a WAV header FFmpeg has no decoder for, then random bytes
    grpc_port, metrics_port = find_free_ports(2)
    command = pathlib.Path(sys.executable).parent / "laughter-server"
    env = {**os.environ, "LAUGHTER_LOG_FORMAT": "json", "LAUGHTER_AUTH_TENANTS_FILE": str(tenants)}
    process = subprocess.Popen(
        [str(command), "--listen", f"127.0.0.1:{grpc_port}", "--metrics-port", str(metrics_port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        address = f"127.0.0.1:{grpc_port}"
        wait_serving(address, timeout_s=120)
        send_bad_requests(address, media, tokens)
    finally:
        process.send_signal(signal.SIGTERM)
        raw, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    output = raw.decode("utf-8", errors="replace")
    lines = output.splitlines()
    assert all(len(line.encode()) <= MAX_LINE_BYTES for line in lines), max(len(x) for x in lines)
    for token in tokens.values():
        assert token not in output
    for start in (0, 5000, 20000):
        piece = noise[start : start + 16]
        for form in (
            piece.hex(),
            base64.b64encode(piece).decode(),
            repr(piece)[2:-1],
            piece.decode("latin-1"),
        ):
            assert form not in output, form
    assert not re.search(r"(\\{1,2}x[0-9a-f]{2}){8}", output)
    records = [json.loads(line) for line in lines if line.startswith("{")]
    finished = {r.get("tenant") for r in records if r["event"] == "rpc.finished"}
    assert {"alpha", "beta"} <= finished
    assert any(r["event"] == "auth.file_permissions" for r in records)
