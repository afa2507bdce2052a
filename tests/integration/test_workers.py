"""``laughter-server --workers 2`` as users run it: one port, one local Triton, two server processes."""

from __future__ import annotations

import collections
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc
from laughter_server.inference.supervisor import find_free_ports

from tests.conftest import wait_serving
from tests.integration.media_chunks import load_chunks, requests, session_config

pytestmark = pytest.mark.integration

SAMPLE = pathlib.Path(__file__).resolve().parents[2] / "samples" / "sample.mp4"
CONNECTIONS = 16


def log_lines(path: pathlib.Path) -> list[dict[str, object]]:
    lines = []
    for text in path.read_text(errors="replace").splitlines():
        if text.startswith("{"):
            lines.append(json.loads(text))
    return lines


def wait_for(  # type: ignore[no-untyped-def]
    path: pathlib.Path, predicate, timeout_s: float = 180.0, poll_s: float = 0.2
) -> list[dict[str, object]]:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        lines = log_lines(path)
        if predicate(lines):
            return lines
        time.sleep(poll_s)
    raise TimeoutError("log condition not met; tail:\n" + "\n".join(path.read_text().splitlines()[-20:]))


def started_workers(lines: list[dict[str, object]]) -> dict[int, int]:
    """Worker index -> pid of the workers that logged ``server.started`` (the newest per index)."""
    found: dict[int, int] = {}
    for line in lines:
        if line["event"] == "server.started" and "worker" in line:
            found[int(line["worker"])] = int(line["pid"])  # type: ignore[call-overload]
    return found


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = collections.defaultdict(list)
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children[parent].append(int(stat.parent.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def list_models_over_new_connections(address: str, count: int) -> list[int]:
    """``count`` calls, each on a connection of its own (the kernel deals connections to the workers)."""
    statuses = []
    for _ in range(count):
        with grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
            statuses.append(health.status)
            stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(channel)
            assert stub.ListModels(laughter_service_pb2.ListModelsRequest(), timeout=30).models
    return statuses


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def start_two_workers(tmp_path: pathlib.Path, address: str, *flags: str) -> subprocess.Popen[bytes]:
    """``laughter-server --workers 2`` on ``address`` with JSON logs to ``tmp_path/server.log``."""
    command = pathlib.Path(sys.executable).parent / "laughter-server"
    env = {**os.environ, "LAUGHTER_LOG_FORMAT": "json"}
    with (tmp_path / "server.log").open("wb") as log:
        return subprocess.Popen(
            [
                str(command),
                "--workers",
                "2",
                "--listen",
                address,
                "--data-dir",
                str(tmp_path / "data"),
                *flags,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )


def test_two_workers_share_one_port_and_one_triton(tmp_path: pathlib.Path) -> None:
    """Calls reach both workers, /metrics sums them, a live session works, a dead worker is replaced and
    SIGTERM stops the workers, then Triton, leaving no process behind."""
    grpc_port, metrics_port, web_port = find_free_ports(3)
    address = f"127.0.0.1:{grpc_port}"
    log_path = tmp_path / "server.log"
    process = start_two_workers(
        tmp_path, address, "--metrics-port", str(metrics_port), "--web-listen", f"127.0.0.1:{web_port}"
    )
    try:
        lines = wait_for(log_path, lambda lines: len(started_workers(lines)) == 2)
        wait_serving(address, timeout_s=60)
        workers = started_workers(lines)
        assert sum(line["event"] == "worker.started" for line in lines) == 2  # one line per worker
        assert sum(line["event"] == "triton.ready" for line in lines) == 1  # one Triton for both
        assert set(workers.values()) <= descendants(process.pid)
        web = [line for line in lines if line["event"] == "web.started"]
        assert [(line["worker"], line["port"]) for line in web] == [(0, web_port)]  # worker 0 alone
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/", timeout=10) as response:
                web_status = response.status
        except (
            urllib.error.HTTPError
        ) as error:  # 503 when the page is not built (make web): served all the same
            web_status = error.code
        assert web_status in (200, 503)

        statuses = list_models_over_new_connections(address, CONNECTIONS)
        assert statuses == [health_pb2.HealthCheckResponse.SERVING] * CONNECTIONS
        served = collections.Counter(
            int(line["pid"])  # type: ignore[call-overload]
            for line in log_lines(log_path)
            if line["event"] == "rpc.finished" and line.get("rpc_method") == "ListModels"
        )
        assert set(served) == set(workers.values()), served  # both workers answered
        assert sum(served.values()) == CONNECTIONS
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as response:
            text = response.read().decode()
        assert metric(text, 'laughter_rpc_seconds_count{method="ListModels"}') == CONNECTIONS  # the sum

        with grpc.insecure_channel(address) as channel:
            stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(channel)
            updates = list(
                stub.StreamingAnalyze(requests(session_config(), load_chunks(SAMPLE, max_s=3.0)), timeout=120)
            )
        assert updates[0].update.HasField("started")
        assert updates[-1].update.HasField("summary")
        assert updates[-1].update.summary.media.media_duration.ToMilliseconds() > 2500

        os.kill(workers[1], signal.SIGKILL)
        lines = wait_for(
            log_path, lambda lines: started_workers(lines).get(1, workers[1]) != workers[1], timeout_s=120
        )
        assert any(line["event"] == "worker.died" and line.get("pid") == workers[1] for line in lines)
        workers = started_workers(lines)
        statuses = list_models_over_new_connections(address, 4)
        assert statuses == [health_pb2.HealthCheckResponse.SERVING] * 4
        family = descendants(process.pid)
        assert any("tritonserver" in pathlib.Path(f"/proc/{pid}/cmdline").read_text() for pid in family)
    finally:
        family = descendants(process.pid)
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=120)
    assert code == 0
    time.sleep(1.0)
    assert [pid for pid in family if alive(pid)] == []  # no worker, Triton or backend stub left
    events = [line["event"] for line in log_lines(log_path)]
    assert events.index("worker.stopped") < events.index("triton.stopped")
    assert events[-1] in ("triton.stopped", "server.stopped")
    stopped_workers = {line.get("pid") for line in log_lines(log_path) if line["event"] == "server.stopped"}
    assert set(workers.values()) <= stopped_workers  # each worker drained on its own


def test_sigterm_while_the_workers_start_stops_cleanly(tmp_path: pathlib.Path) -> None:
    """SIGTERM as soon as both workers are started, while they are still loading: each finishes starting,
    drains and exits 0 (a worker killed half-loaded by the default action made the parent exit 1)."""
    (grpc_port,) = find_free_ports(1)
    log_path = tmp_path / "server.log"
    process = start_two_workers(tmp_path, f"127.0.0.1:{grpc_port}", "--metrics-port", "0")
    try:
        lines = wait_for(  # polled fast: the signal must land before the workers have loaded
            log_path, lambda lines: sum(line["event"] == "worker.started" for line in lines) == 2, poll_s=0.01
        )
        assert not started_workers(lines), "a worker was serving before the signal: the test proves nothing"
        family = descendants(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=120)
    lines = log_lines(log_path)
    stopped = [line for line in lines if line["event"] == "worker.stopped"]
    assert sorted((line["worker"], line["exit_code"]) for line in stopped) == [(0, 0), (1, 0)], stopped
    assert not any(line["event"] == "worker.died" for line in lines)
    assert code == 0
    time.sleep(1.0)
    assert [pid for pid in family if alive(pid)] == []
